"""The facts a letter is built from, taken once from the record.

Small on purpose: plan type, review type, urgency, outcome, the fields, the notes (a
correction stands in for the note it corrects), the documents asked for. Facts the clinical
clock work adds later (appeal stage, the time the reviewer came on the line, commitments with
their own due dates) have a slot here with a safe default, so the builders already read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from p2pcall.domain.casefacts import CaseTraits, case_choices
from p2pcall.domain.fields import spec_for
from p2pcall.domain.models import CallRecord
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.vocab import (
    DocStatus,
    NoteKind,
    Outcome,
    PlanType,
    ReviewType,
    Urgency,
    YesNo,
)


@dataclass(frozen=True)
class NoteFact:
    section: Section
    kind: NoteKind
    text: str  # control characters made visible
    time: str  # local clock time, with the date when not the call's day
    late: bool  # typed after the call ended
    due: str = ""  # a commitment's due date, when the record holds one (issue 12)


@dataclass(frozen=True)
class DocFact:
    key: str
    what: str  # "the written decision, naming the criterion applied"
    status: DocStatus | None
    by: str  # the promised date as typed, "" when none


DOCUMENTS = (
    ("doc_decision", "the written decision, naming the criterion applied"),
    ("doc_criteria", "a copy of the criteria used"),
    ("doc_credentials", "your credentials"),
)

REVIEWER_ITEMS = (
    ("reviewer_name", "name"),
    ("reviewer_credentials", "degree"),
    ("reviewer_specialty", "specialty"),
    ("reviewer_subspecialty", "subspecialty"),
    ("reviewer_board", "board certification"),
    ("reviewer_license", "state(s) of licence"),
    ("reviewer_employer", "employer or review company"),
    ("reviewer_callback", "callback number"),
)


@dataclass
class LetterFacts(CaseTraits):
    call_id: int
    tz: str
    started_at: datetime | None  # connected: the reviewer on the line (a prepared call has none)
    ended_at: datetime | None
    outcome: Outcome | None
    plan_type: PlanType | None
    review_type: ReviewType | None
    urgency: Urgency | None
    values: dict[str, str]
    declined: set[str]
    notes: list[NoteFact]
    finalized: bool
    chain_head: str | None
    field_times: dict[str, str] = field(default_factory=dict)  # key -> local time first set
    stage: str = ""  # issue 12: initial determination / internal appeal / final internal

    # -- fields --------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return bool(self.values.get(key))

    def text(self, key: str) -> str:
        """The field as a reader sees it (choice labels), control characters visible."""
        value = self.values.get(key, "")
        return visible(spec_for(key).display(value)) if value else ""

    def refused(self, key: str) -> bool:
        """Declined and nothing given: the record shows a refusal, not a gap."""
        return key in self.declined and not self.has(key)

    def yes_no(self, key: str) -> YesNo | None:
        return YesNo.parse(self.values.get(key))

    def time_of(self, key: str) -> str:
        return self.field_times.get(key, "")

    # -- derived facts -------------------------------------------------------------------

    def notes_of(
        self, *, kind: NoteKind | None = None, section: Section | None = None
    ) -> list[NoteFact]:
        return [
            n
            for n in self.notes
            if (kind is None or n.kind is kind) and (section is None or n.section is section)
        ]

    def documents(self) -> list[DocFact]:
        return [
            DocFact(key, what, DocStatus.parse(self.values.get(key)), self.text(f"{key}_by"))
            for key, what in DOCUMENTS
        ]

    def open_requests(self) -> list[DocFact]:
        """Documents asked for on the call that were refused or not answered."""
        return [d for d in self.documents() if d.status in (DocStatus.REFUSED, DocStatus.REQUESTED)]

    def reviewer_refused(self) -> list[str]:
        """What the reviewer declined to say about themselves, in words."""
        return [label for key, label in REVIEWER_ITEMS if self.refused(key)]

    def reviewer_given(self) -> list[tuple[str, str]]:
        return [(label, self.text(key)) for key, label in REVIEWER_ITEMS if self.has(key)]

    def not_qualified_signs(self) -> list[tuple[str, str, str]]:
        """What the record shows against the reviewer's fit for this case:
        (field key, said to the reviewer, said about the reviewer)."""
        signs = []
        if self.yes_no("reviewer_same_specialty") is YesNo.NO:
            signs.append(
                (
                    "reviewer_same_specialty",
                    "you are not of the same specialty as the treating clinician",
                    "the reviewer was not of the same specialty as the treating clinician",
                )
            )
        if self.yes_no("reviewer_treated") is YesNo.NO:
            signs.append(
                (
                    "reviewer_treated",
                    "you have not treated this condition at this level of care",
                    "the reviewer had not treated this condition at this level of care",
                )
            )
        if self.yes_no("reviewer_read_record") is YesNo.NO:
            signs.append(
                (
                    "reviewer_read_record",
                    "you had not read the full record",
                    "the reviewer had not read the full record",
                )
            )
        return signs

    def criterion_refused(self) -> bool:
        """The record shows the reviewer did not name the criterion (not merely a gap)."""
        return (
            self.refused("criterion_cited")
            or self.refused("criteria_set")
            or self.values.get("criteria_set") == "not_stated"
        )


def _note_time(moment: datetime, tz: str, call_day: str) -> str:
    from p2pcall.domain.timefmt import stamp

    full = stamp(moment, tz)  # 2026-11-23 14:02:11 -05:00
    return full[11:16] if full[:10] == call_day else f"{full[:10]} {full[11:16]}"


def facts_from(record: CallRecord, field_times: dict[str, datetime] | None = None) -> LetterFacts:
    """The letter facts of a call; `field_times` (key -> when first set) adds times to fields."""
    from p2pcall.domain.timefmt import stamp

    call = record.call
    started = call.started_at or call.created_at
    call_day = stamp(started, call.tz)[:10]
    replaced = {n.corrects for n in record.notes if n.corrects is not None}
    notes = [
        NoteFact(
            section=n.section,
            kind=n.kind,
            text=visible(n.body).strip(),
            time=_note_time(n.saved_at, call.tz, call_day),
            late=n.late,
        )
        for n in record.notes
        if n.id not in replaced and n.body.strip()
    ]
    plan_type, review_type, urgency = case_choices(call)
    return LetterFacts(
        call_id=call.id,
        tz=call.tz,
        started_at=call.started_at,
        ended_at=call.ended_at,
        outcome=call.outcome,
        plan_type=plan_type,
        review_type=review_type,
        urgency=urgency,
        values=dict(call.values),
        declined=set(call.declined),
        notes=notes,
        finalized=call.finalized,
        chain_head=call.chain_head,
        field_times={
            key: _note_time(moment, call.tz, call_day)
            for key, moment in (field_times or {}).items()
        },
    )
