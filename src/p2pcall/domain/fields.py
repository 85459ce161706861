"""The structured fields of a call record, described once.

Screens build their forms from these specs, the store has one column per key, and exports
print them in this order. Every value is kept as text; the kind says how to edit and show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from p2pcall.domain.vocab import (
    CriteriaSet,
    DocStatus,
    LabelledEnum,
    LevelOfCare,
    Outcome,
    PlanType,
    ReviewType,
    Stage,
    Urgency,
    YesNo,
)


class FieldKind(StrEnum):
    TEXT = "text"
    LONG = "long"
    CHOICE = "choice"


class Group(StrEnum):
    """Where a field is edited: the call-info screen or one agenda section."""

    INFO = "info"
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    group: Group
    kind: FieldKind = FieldKind.TEXT
    choices: type[LabelledEnum] | None = None
    declinable: bool = False
    placeholder: str = ""
    identifying: bool = False  # patient identifier: removed by redaction
    editable: bool = True  # False: kept on the record and exported, set by the app itself

    def display(self, value: str | None) -> str:
        """The value as a person reads it (choice labels, not stored codes)."""
        if not value:
            return ""
        if self.choices is not None:
            member = self.choices.parse(value)
            return member.label if member else value
        return value


def _f(key: str, label: str, group: Group, **kw: Any) -> FieldSpec:
    return FieldSpec(key, label, group, **kw)


INFO, A, B, C, D, E, F, G = (Group(g) for g in ("info", "A", "B", "C", "D", "E", "F", "G"))
CHOICE = FieldKind.CHOICE
LONG = FieldKind.LONG

FIELDS: tuple[FieldSpec, ...] = (
    # Call information and preparation (design.md section 2).
    _f("patient_ref", "Patient ref", INFO, placeholder="initials or chart no.", identifying=True),
    _f("insurer", "Insurer", INFO),
    _f("plan_type", "Plan type", INFO, kind=CHOICE, choices=PlanType),
    _f("state", "State", INFO, placeholder="e.g. NY"),
    _f("review_type", "Review type", INFO, kind=CHOICE, choices=ReviewType),
    _f("urgency", "Urgency", INFO, kind=CHOICE, choices=Urgency),
    # Which decision the call is about: the appeal clocks count from that decision's notice.
    _f("stage", "Decision stage", INFO, kind=CHOICE, choices=Stage),
    _f("grandfathered", "Grandfathered", INFO, kind=CHOICE, choices=YesNo),
    _f("part_b_drug", "MA Part B drug", INFO, kind=CHOICE, choices=YesNo),
    _f("scheduled_for", "Scheduled for", INFO, placeholder="e.g. 2026-11-24 14:30"),
    _f("auth_ref", "Auth / case no.", INFO),
    _f("claim_ref", "Claim no.", INFO),
    _f("call_ref", "Call ref no.", INFO),
    _f("appeal_ref", "Appeal no.", INFO),
    _f("denial_date", "Denial dated", INFO, placeholder="YYYY-MM-DD"),
    _f("denial_received", "Denial received", INFO, placeholder="YYYY-MM-DD"),
    _f("sent_to_plan", "Sent to plan", INFO, placeholder="YYYY-MM-DD request/appeal sent"),
    _f("care_ends", "Authorized until", INFO, placeholder="YYYY-MM-DD last covered day"),
    _f("p2p_deadline", "P2P request by", INFO, placeholder="YYYY-MM-DD from the notice"),
    _f("p2p_window", "P2P window", INFO, placeholder="business days, from the notice"),
    _f("denial_reason", "Denial reason", INFO, kind=LONG, placeholder="verbatim"),
    _f("denial_criteria", "Criteria in denial", INFO, kind=LONG),
    _f(
        "prior_treatments",
        "Prior treatments",
        INFO,
        kind=LONG,
        placeholder="drug/therapy, dose, duration, result",
    ),
    _f(
        "patient_factors",
        "Patient factors",
        INFO,
        kind=LONG,
        placeholder="comorbidity, risk, function",
    ),
    _f("guideline", "Guideline support", INFO, kind=LONG, placeholder="e.g. APA, AACAP, ASAM"),
    _f("the_ask", "The ask", INFO, kind=LONG, placeholder="the specific request"),
    # A. Case summary
    _f("patient_age", "Age", A, identifying=True),
    _f("patient_gender", "Gender", A, identifying=True),
    _f("diagnosis", "Diagnosis", A, placeholder="ICD-10 and name", identifying=True),
    # B. Reviewer background
    _f("reviewer_name", "Name", B, declinable=True),
    _f("reviewer_credentials", "Degree", B, declinable=True, placeholder="MD, DO, PhD..."),
    _f("reviewer_specialty", "Specialty", B, declinable=True),
    _f("reviewer_subspecialty", "Subspecialty", B, declinable=True),
    _f("reviewer_board", "Board cert.", B, declinable=True),
    _f("reviewer_license", "License state(s)", B, declinable=True),
    _f("reviewer_employer", "Employer / vendor", B, declinable=True, placeholder="e.g. UM vendor"),
    _f("reviewer_callback", "Callback no.", B, declinable=True),
    _f("reviewer_same_specialty", "Same specialty", B, kind=CHOICE, choices=YesNo),
    _f("reviewer_treated", "Treated this LOC", B, kind=CHOICE, choices=YesNo, declinable=True),
    _f("reviewer_read_record", "Read full record", B, kind=CHOICE, choices=YesNo, declinable=True),
    # C. Treatment and level of care
    _f("level_of_care", "Level of care", C, kind=CHOICE, choices=LevelOfCare),
    _f("service_detail", "Service", C, placeholder="what exactly is requested"),
    _f("service_codes", "CPT / HCPCS", C),
    _f("service_units", "Units / freq.", C),
    _f("service_dates", "Dates", C),
    # D. Basis of assessment
    _f("criteria_set", "Criteria set", D, kind=CHOICE, choices=CriteriaSet, declinable=True),
    _f("criteria_version", "Version", D, declinable=True),
    _f("criterion_cited", "Criterion cited", D, kind=LONG, declinable=True),
    # E. Coverage status
    _f("coverage_status", "Status", E, kind=CHOICE, choices=Outcome),
    _f("still_needed", "Still needed", E, kind=LONG),
    _f("decision_expected", "Decision by", E),
    # F. If adverse
    _f("alternative_plan", "Their alternative", F, kind=LONG, declinable=True),
    # G. Documents
    _f("doc_decision", "Written decision", G, kind=CHOICE, choices=DocStatus),
    _f("doc_decision_by", "...by when", G),
    _f("doc_criteria", "Criteria copy", G, kind=CHOICE, choices=DocStatus),
    _f("doc_criteria_by", "...by when", G),
    _f("doc_credentials", "Reviewer creds", G, kind=CHOICE, choices=DocStatus),
    _f("doc_credentials_by", "...by when", G),
    _f("doc_other", "Other documents", G, kind=LONG),
    # Dates over 60 days from the call that the user said are right (domain/plausible.py).
    _f("dates_confirmed", "Far dates confirmed", INFO, editable=False),
)

FIELDS_BY_KEY: dict[str, FieldSpec] = {spec.key: spec for spec in FIELDS}


def fields_for(group: Group | str, *, editable_only: bool = False) -> tuple[FieldSpec, ...]:
    return tuple(
        spec for spec in FIELDS if spec.group == group and (spec.editable or not editable_only)
    )


def spec_for(key: str) -> FieldSpec:
    """The spec of a field; KeyError for keys that are not part of the record."""
    return FIELDS_BY_KEY[key]
