"""A realistic ended call, built in memory, for the export tests (no clock, no database).

A concurrent review of a residential stay, denied on the call: reviewer details with one
field declined, a quote, commitments, new clinical information, a late entry, a correction,
and two follow-ups (one with a computed date, one overridden).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from p2pcall.domain.models import Call, CallRecord, FollowUp, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus, NoteKind, Outcome

START = datetime(2026, 11, 23, 15, 0, 0, 250000, tzinfo=UTC)  # 10:00 in New York
GENERATED_AT = datetime(2026, 11, 24, 14, 30, 5, tzinfo=UTC)
TZ = "America/New_York"

# The patient identifiers of the sample; redaction must remove every one of them.
IDENTIFIERS = {
    "patient_ref": "JD-0412",
    "patient_age": "34",
    "patient_gender": "female",
    "diagnosis": "F33.2 Major depressive disorder, recurrent, severe",
}


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def sample_record(**call_changes: object) -> CallRecord:
    values = {
        **IDENTIFIERS,
        "insurer": "Acme Health",
        "plan_type": "erisa",
        "state": "NY",
        "review_type": "concurrent",
        "urgency": "standard",
        "auth_ref": "AUTH-99812",
        "call_ref": "CR-5521",
        "denial_date": "2026-11-20",
        "denial_received": "2026-11-21",
        "denial_reason": "Patient can be treated safely at a lower level of care.",
        "denial_criteria": "InterQual Behavioral Health 2025, Residential",
        "prior_treatments": "Sertraline 200 mg, 12 weeks, partial response\n"
        "IOP 6 weeks, relapse within 2 weeks of discharge",
        "the_ask": "14 more days of residential treatment",
        "reviewer_name": "Dr. A. Ruiz",
        "reviewer_credentials": "MD",
        "reviewer_specialty": "Family medicine",
        "reviewer_employer": "Carelon",
        "reviewer_same_specialty": "no",
        "reviewer_treated": "no",
        "level_of_care": "residential",
        "service_detail": "Residential treatment, continued stay",
        "service_codes": "H0019",
        "service_units": "14 days",
        "service_dates": "2026-11-24 to 2026-12-07",
        "criteria_set": "interqual",
        "criteria_version": "2025",
        "criterion_cited": "Residential 3.2: imminent risk not documented",
        "coverage_status": "denied",
        "still_needed": "Written denial with the criterion",
        "alternative_plan": "Step down to PHP with weekly check-ins",
        "doc_decision": "promised",
        "doc_decision_by": "2026-11-25",
        "doc_criteria": "requested",
        "doc_credentials": "refused",
        "doc_other": "Copy of the reviewer's notes",
    }
    call = Call(
        id=42,
        created_at=at(-5),
        tz=TZ,
        started_at=START,
        ended_at=at(18.5),
        outcome=Outcome.DENIED,
        values=values,
        declined={"reviewer_board", "reviewer_license"},
    )
    for key, value in call_changes.items():
        setattr(call, key, value)

    def note(nid, section, kind, body, minutes, **kw):
        return Note(nid, 42, section, kind, body, at(minutes - 0.4), at(minutes), **kw)

    notes = [
        note(1, Section.A, NoteKind.NEW_INFO, "Self-harm attempt on 11/20, after the request.", 1),
        note(2, Section.B, NoteKind.NOTE, "Reviewer is family medicine, not psychiatry.", 2.5),
        note(3, Section.B, NoteKind.QUOTE, "I only look at whether the criteria are met.", 3.2),
        note(4, Section.C, NoteKind.NOTE, "Explained 2 failed step-downs (IOP in June).", 5),
        note(5, Section.D, NoteKind.QUOTE, "Imminent risk is not documented in the record.", 7),
        note(6, Section.E, NoteKind.NOTE, "Denial upheld on the call.", 12),
        note(
            7, Section.G, NoteKind.COMMITMENT, "Reviewer will fax the written denial by 11/25.", 15
        ),
        note(8, Section.G, NoteKind.COMMITMENT, "I will send the safety plan today.", 16),
        note(
            9,
            Section.C,
            NoteKind.NOTE,
            "Explained 2 failed step-downs (IOP in May).",
            17,
            corrects=4,
        ),
        note(
            10,
            Section.F,
            NoteKind.NOTE,
            "Reviewer offered PHP as the alternative.",
            40,
            late=True,
            reason="remembered after hanging up",
        ),
    ]
    followups = [
        FollowUp(
            1,
            42,
            FollowUpAction.CONFIRMATION,
            FollowUpStatus.DONE,
            at(20),
            done_at=at(95),
            note="Faxed with the safety plan.",
        ),
        FollowUp(
            2,
            42,
            FollowUpAction.INTERNAL_APPEAL,
            FollowUpStatus.PLANNED,
            at(21),
            rule_id="internal_appeal_filing",
            computed_due=datetime(2027, 5, 21, 3, 59, 59, tzinfo=UTC),
            due_override=datetime(2027, 5, 15, 3, 59, 59, tzinfo=UTC),
            override_reason="The notice gives 14 May 2027.",
        ),
    ]
    return CallRecord(call=call, notes=notes, followups=followups)
