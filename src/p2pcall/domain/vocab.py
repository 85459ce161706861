"""Closed vocabularies used across the record: stored by value, shown by label."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A string enum whose members also carry a human label."""

    label: str

    # `label` has a default only for the type checker: it reads `Kind("quote")` (a lookup by value,
    # which never calls this) as a call of this method. Every member gives its label.
    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def parse(cls, value: str | None) -> Self | None:
        """The member for a stored value, or None for empty or unknown values."""
        if not value:
            return None
        try:
            return cls(value)
        except ValueError:
            return None


class PlanType(LabelledEnum):
    ERISA = "erisa", "Employer plan (ERISA)"
    ACA = "aca", "ACA individual / small group"
    MARKETPLACE = "marketplace", "Marketplace (exchange) plan"
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
    # Stored value kept from earlier versions, when CHIP shared this entry.
    MEDICAID_MANAGED = "medicaid_managed", "Medicaid managed care"
    CHIP_MANAGED = "chip_managed", "CHIP managed care"
    OTHER = "other", "Other / unknown"


class ReviewType(LabelledEnum):
    PRE_SERVICE = "pre_service", "Pre-service (prior authorization)"
    CONCURRENT = "concurrent", "Concurrent (progress check-in)"
    RETROSPECTIVE = "retrospective", "Retrospective (post-service)"
    APPEAL = "appeal", "Appeal"


class Stage(LabelledEnum):
    """Which decision the call is about: each appeal clock counts from a different notice."""

    INITIAL = "initial", "Initial determination (first denial)"
    INTERNAL_APPEAL = "internal_appeal", "Internal appeal under way"
    FINAL_INTERNAL = "final_internal", "Final internal decision (appeal upheld)"


class Urgency(LabelledEnum):
    URGENT = "urgent", "Urgent (treating clinician says so)"
    STANDARD = "standard", "Standard"


class Outcome(LabelledEnum):
    APPROVED = "approved", "Approved"
    PARTIAL = "partially_approved", "Partially approved"
    DENIED = "denied", "Denied / upheld"
    PENDING = "pending", "Pending"
    EDUCATIONAL = "educational_only", "Educational only"


class NoteKind(LabelledEnum):
    NOTE = "note", "Note"
    QUOTE = "quote", "Quote"
    COMMITMENT = "commitment", "Commitment"
    NEW_INFO = "new_info", "New clinical info"

    def next(self) -> NoteKind:
        members = list(NoteKind)
        return members[(members.index(self) + 1) % len(members)]


class LevelOfCare(LabelledEnum):
    INPATIENT = "inpatient", "Inpatient"
    RESIDENTIAL = "residential", "Residential"
    PHP = "php", "Partial hospitalization (PHP)"
    IOP = "iop", "Intensive outpatient (IOP)"
    OUTPATIENT = "outpatient", "Outpatient"
    MEDICATION = "medication", "Medication"
    OTHER = "other", "Other"


class CriteriaSet(LabelledEnum):
    INTERQUAL = "interqual", "InterQual"
    MCG = "mcg", "MCG (Milliman)"
    LOCUS = "locus", "LOCUS"
    CALOCUS = "calocus_casii", "CALOCUS-CASII"
    ECSII = "ecsii", "ECSII"
    ASAM = "asam", "ASAM Criteria"
    INSURER_POLICY = "insurer_policy", "Insurer's own policy"
    OTHER = "other", "Other"
    NOT_STATED = "not_stated", "Reviewer did not say"


class YesNo(LabelledEnum):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Unclear"


class DocStatus(LabelledEnum):
    REQUESTED = "requested", "Requested"
    PROMISED = "promised", "Promised"
    REFUSED = "refused", "Refused"
    RECEIVED = "received", "Received"


class FollowUpAction(LabelledEnum):
    """What can be done after a call (design.md section 3), in our own words."""

    CONFIRMATION = "written_confirmation", "Written confirmation to the insurer (same day)"
    NECESSITY_LETTER = "necessity_letter", "Medical necessity letter"
    BENEFIT_EXCEPTION = "benefit_exception", "Benefit exception request"
    EXPEDITED_REVIEW = "expedited_review", "Expedited review request"
    EXTERNAL_REVIEW = "external_review", "External review request"
    INFORM_PATIENT = "inform_patient", "Tell the patient the next steps"
    INTERNAL_APPEAL = "internal_appeal", "Formal written internal appeal"
    INSURER_COMPLAINT = "insurer_complaint", "Formal complaint to the insurer"
    ACCREDITOR_GRIEVANCE = "accreditor_grievance", "Grievance to NCQA / URAC"
    REGULATOR_COMPLAINT = "regulator_complaint", "Complaint to the state or federal regulator"
    CHASE_DOCUMENTS = "chase_documents", "Chase documents the reviewer promised"
    CHASE_PLAN = "chase_plan", "Chase the plan's decision"
    CONTINUED_COVERAGE = "continued_coverage", "Ask that care continue during the appeal"
    FAIR_HEARING = "fair_hearing", "State fair hearing / state review request"
    REQUEST_DOCUMENT = "request_document", "Written request for a refused document"
    REVIEWER_COMMITMENT = "reviewer_commitment", "Dated commitment from the call"
    REQUEST_P2P = "request_p2p", "Ask for the peer-to-peer call"
    OTHER = "other", "Other"


class FollowUpStatus(LabelledEnum):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    NOT_NEEDED = "not_needed", "Not needed"
