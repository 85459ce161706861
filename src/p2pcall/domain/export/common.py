"""What every export format shares: the export's metadata line, field and note views, wording.

The renderers (text, Markdown, JSON) turn a `CallRecord` into a string and must be
deterministic: the same record, `generated_at`, format and `redact` give the same bytes, so
`p2pcall verify` can re-render from the database and compare. Nothing here reads the clock,
the machine's time zone or the environment: times are shown in the call's own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from p2pcall.domain.fields import FIELDS, FieldSpec, Group, fields_for
from p2pcall.domain.formats import EXPORT_FORMATS
from p2pcall.domain.models import Call, CallRecord, FollowUp, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.vocab import NoteKind

# Bump when the output of any renderer changes, so verify can tell "edited" from "older p2pcall".
EXPORT_FORMAT_VERSION = 1
FORMATS = EXPORT_FORMATS

REDACTED = "[redacted]"
DECLINED = "declined to give"
NOT_RECORDED = "not recorded"
NOT_FINALIZED = "not finalized"

# Call-info fields shown in the header; the other call-info fields are the preparation.
HEADER_KEYS = (
    "patient_ref",
    "insurer",
    "plan_type",
    "state",
    "review_type",
    "urgency",
    "scheduled_for",
    "auth_ref",
    "claim_ref",
    "call_ref",
    "appeal_ref",
)

KIND_MARKS: dict[NoteKind, str] = {
    NoteKind.NOTE: "NOTE",
    NoteKind.QUOTE: "QUOTE (the reviewer's words)",
    NoteKind.COMMITMENT: "COMMITMENT",
    NoteKind.NEW_INFO: "NEW CLINICAL INFORMATION",
}

INTRO = (
    "This is the record of a peer-to-peer review call with a health plan's reviewer, written "
    "with p2pcall while the call took place. Each note shows the time it was saved, in the "
    "practice's local time with its offset from UTC. Entries marked ADDED AFTER THE CALL were "
    "written after the call had ended. A correction never replaces the note it corrects: both "
    "are shown."
)
DEADLINE_REMINDER = (
    "Due dates are computed from the rule shown and are advice only. Check each one against the "
    "date printed on the insurer's notice; if the notice gives another date, that date governs."
)
REDACTION_NOTICE = (
    "Patient identifiers (patient reference, age, gender, diagnosis) are replaced by "
    f"{REDACTED}. Free-text notes are not searched for names: read them before sharing."
)
FOOTER_PREFIX = "SHA-256 of everything above this line: "
# The first line of a text and of a Markdown export (the call number follows).
TEXT_TITLE = "P2PCALL CALL RECORD - CALL "
MARKDOWN_TITLE = "# Call record: call "


class ExportError(ValueError):
    """An export cannot be made as asked; the message is written for the user."""


# -- the export's own metadata ------------------------------------------------------------

_META_RE = re.compile(
    r"^p2pcall-export: version=(?P<version>\d+) format=(?P<format>[a-z]+) "
    r"call=(?P<call>\d+) generated_at=(?P<generated>\S+) redact=(?P<redact>yes|no)$"
)


@dataclass(frozen=True)
class ExportMeta:
    """What `p2pcall verify` needs to re-render an export exactly: call, format, time, redact."""

    format: str
    call_id: int
    generated_at: datetime  # aware UTC, whole seconds
    redact: bool
    version: int = EXPORT_FORMAT_VERSION

    def line(self) -> str:
        """The machine-readable line printed near the top of text and Markdown exports."""
        return (
            f"p2pcall-export: version={self.version} format={self.format} call={self.call_id} "
            f"generated_at={iso_utc(self.generated_at)} redact={'yes' if self.redact else 'no'}"
        )

    @classmethod
    def from_line(cls, line: str) -> ExportMeta | None:
        match = _META_RE.match(line.strip().strip("`").strip())
        if match is None:
            return None
        try:
            generated = datetime.fromisoformat(match["generated"])
            # int() refuses more than 4,300 digits: a header like that is damaged, not a crash
            call_id, version = int(match["call"]), int(match["version"])
        except ValueError:
            return None
        if generated.tzinfo is None:
            return None
        return cls(
            format=match["format"],
            call_id=call_id,
            generated_at=generated.astimezone(UTC),
            redact=match["redact"] == "yes",
            version=version,
        )


def export_meta(fmt: str, call_id: int, generated_at: datetime, redact: bool) -> ExportMeta:
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return ExportMeta(fmt, call_id, normalize_generated_at(generated_at), redact)


def normalize_generated_at(moment: datetime) -> datetime:
    """Aware UTC to the whole second: what the metadata line can carry and give back."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ExportError("The generation time of an export must carry its time zone.")
    return moment.astimezone(UTC).replace(microsecond=0)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# -- times ------------------------------------------------------------------------------


def local_stamp(moment: datetime | None, tz: str) -> str:
    from p2pcall.domain.timefmt import stamp

    return stamp(moment, tz) if moment is not None else NOT_RECORDED


def local_iso(moment: datetime | None, tz: str) -> str | None:
    """ISO 8601 with the offset of the call's time zone, or None."""
    from p2pcall.domain.timefmt import to_local

    if moment is None:
        return None
    return to_local(moment, tz).isoformat()


def duration_seconds(call: Call) -> int | None:
    if call.started_at is None or call.ended_at is None:
        return None
    return max(0, int((call.ended_at - call.started_at).total_seconds()))


def duration_text(call: Call) -> str:
    from p2pcall.domain.timefmt import elapsed

    seconds = duration_seconds(call)
    if seconds is None:
        return "call not ended" if call.started_at else NOT_RECORDED
    return elapsed(seconds)


# -- fields -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    spec: FieldSpec
    value: str  # stored value ("" when redacted or empty)
    shown: str  # what a reader sees: label of a choice, the text, or a stand-in
    declined: bool
    redacted: bool

    @property
    def empty(self) -> bool:
        return not self.value and not self.declined and not self.redacted


def field_view(call: Call, spec: FieldSpec, redact: bool) -> FieldView:
    if redact and spec.identifying:
        return FieldView(spec, "", REDACTED, declined=False, redacted=True)
    value = call.value(spec.key)
    declined = spec.key in call.declined
    if declined and not value:
        shown = DECLINED
    elif declined:
        shown = f"{spec.display(value)} ({DECLINED} in part)"
    else:
        shown = spec.display(value) or NOT_RECORDED
    return FieldView(spec, value, shown, declined=declined, redacted=False)


def header_fields(call: Call, redact: bool) -> list[FieldView]:
    return [field_view(call, spec, redact) for spec in FIELDS if spec.key in HEADER_KEYS]


def preparation_fields(call: Call, redact: bool) -> list[FieldView]:
    return [
        field_view(call, spec, redact)
        for spec in fields_for(Group.INFO)
        if spec.key not in HEADER_KEYS
    ]


def reviewer_fields(call: Call, redact: bool) -> list[FieldView]:
    return [field_view(call, spec, redact) for spec in fields_for(Group.B)]


def section_fields(call: Call, section: Section, redact: bool) -> list[FieldView]:
    """A section's own fields; B's are printed in the header as the reviewer's identity."""
    if section is Section.B:
        return []
    return [field_view(call, spec, redact) for spec in fields_for(section.value)]


def reviewer_summary(call: Call, redact: bool) -> str:
    """'Dr. A. Ruiz, MD, Family medicine', with declined or missing parts said so."""
    parts = []
    for key in ("reviewer_name", "reviewer_credentials", "reviewer_specialty"):
        view = field_view(call, next(s for s in FIELDS if s.key == key), redact)
        label = view.spec.label.lower()
        if view.declined and not view.value:
            parts.append(f"{label} {DECLINED}")
        elif view.value:
            parts.append(view.shown)
        else:
            parts.append(f"{label} {NOT_RECORDED}")
    return ", ".join(parts)


# -- notes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteView:
    number: int  # 1.. in the order the notes were saved, across all sections
    note: Note
    corrects_number: int | None  # the number of the note this one corrects
    corrected_by: tuple[int, ...] = field(default=())

    def statuses(self, user: Callable[[str], str]) -> list[str]:
        """Correction, late entry and corrected-by marks; `user` makes the reason printable."""
        parts = []
        if self.corrects_number is not None:
            parts.append(
                f"CORRECTION of note {self.corrects_number} (note "
                f"{self.corrects_number} is kept as written)"
            )
        if self.note.late:
            reason = self.note.reason.strip()
            # One line: the reason sits in the note's heading.
            shown = user(visible(reason, keep_newlines=False)) if reason else "none given"
            parts.append("ADDED AFTER THE CALL, reason: " + shown)
        if self.corrected_by:
            numbers = ", ".join(str(n) for n in self.corrected_by)
            parts.append(f"corrected by note {numbers}")
        return parts

    def mark(self, user: Callable[[str], str]) -> str:
        """Kind and statuses on one line: 'QUOTE (...) - ADDED AFTER THE CALL, reason: ...'."""
        return " - ".join([KIND_MARKS[self.note.kind], *self.statuses(user)])


def note_views(record: CallRecord) -> list[NoteView]:
    """Every note, numbered in the order they were saved (ties by id)."""
    ordered = sorted(record.notes, key=lambda n: (n.saved_at, n.id))
    number_of = {note.id: index for index, note in enumerate(ordered, start=1)}
    corrected_by: dict[int, list[int]] = {}
    for note in ordered:
        if note.corrects is not None:
            corrected_by.setdefault(note.corrects, []).append(number_of[note.id])
    return [
        NoteView(
            number=number_of[note.id],
            note=note,
            corrects_number=number_of.get(note.corrects) if note.corrects is not None else None,
            corrected_by=tuple(corrected_by.get(note.id, ())),
        )
        for note in ordered
    ]


def notes_by_section(views: list[NoteView]) -> dict[Section, list[NoteView]]:
    grouped: dict[Section, list[NoteView]] = {section: [] for section in Section}
    for view in views:
        grouped[view.note.section].append(view)
    return grouped


def quoted(kind: NoteKind, text: str) -> str:
    """Quotes are printed inside quotation marks so a reader cannot mistake them for a summary."""
    return f"\u201c{text}\u201d" if kind is NoteKind.QUOTE else text


# -- follow-ups ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpView:
    followup: FollowUp
    action: str
    status: str
    due: str
    rule: str  # "rule_id: title (clock)" or ""
    rule_title: str  # "" when there is no rule or it is unknown
    citation: str
    computed_due: str
    override: str  # "" when the computed date stands
    done: str
    note: str
    changed_by: str = ""  # see `changed_by`; "" when nobody is named

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) lines under the follow-up's title; values may hold user text."""
        rows = [("Due", self.due)]
        if self.rule:
            rows.append(("Rule", self.rule))
        if self.citation:
            rows.append(("Source", self.citation))
        if self.override:
            rows += [("Computed date", self.computed_due or "none"), ("Changed", self.override)]
        if self.done:
            rows.append(("Done", self.done))
        if self.changed_by:
            rows.append((CHANGED_BY_LABEL, self.changed_by))
        if self.note:
            rows.append(("Note", self.note))
        return rows


def followup_views(record: CallRecord) -> list[FollowUpView]:
    tz = record.call.tz
    views = []
    for fu in sorted(record.followups, key=lambda f: (f.created_at, f.id)):
        rule_text, rule_title, citation = "", "", ""
        if fu.rule_id:
            # Deferred: only follow-ups made from a rule need the rule table, and `show`,
            # `export` and `verify` of a call without them start quicker (issue 17).
            from p2pcall.domain.deadlines import DeadlineInputError, get_rule

            try:
                rule = get_rule(fu.rule_id)
            except DeadlineInputError:
                rule_text = f"{fu.rule_id} (a rule this version of p2pcall no longer knows)"
            else:
                rule_text = f"{rule.id}: {rule.title} ({rule.clock_text()})"
                rule_title, citation = rule.title, rule.citation
        override = ""
        if fu.due_override is not None:
            reason = fu.override_reason.strip() or "no reason given"
            override = f"date set by the user instead of the computed one; reason: {reason}"
        views.append(
            FollowUpView(
                followup=fu,
                action=fu.action.label,
                status=fu.status.label,
                due=local_stamp(fu.due, tz) if fu.due else "no due date",
                rule=rule_text,
                rule_title=rule_title,
                citation=citation,
                computed_due=local_stamp(fu.computed_due, tz) if fu.computed_due else "",
                override=override,
                done=local_stamp(fu.done_at, tz) if fu.done_at else "",
                note=fu.note,
                changed_by=changed_by(record.call, fu) or "",
            )
        )
    return views


# -- who did it (a practice server records it; a laptop's file does not) -----------------------
#
# The rule (docs/exports.md): an export names a person only for what the database records
# as done by someone other than the call's clinician, and names the clinician only for a
# call recorded on the server. On a server the record itself (notes, fields, their history)
# can only be written by the call's clinician (row-level security), so what can carry another
# name is a follow-up (a coordinator marking it done, an admin changing its date). A call
# copied from a laptop (`p2pcall db copy`) names nobody but such later changes: the server
# knows who copied it, not who typed it, and its export stays the laptop's, byte for byte.
# The hash chain never includes a name.

CLINICIAN_LABEL = "Clinician"
CHANGED_BY_LABEL = "Last change by"


def clinician(call: Call) -> str | None:
    """The clinician an export names: the server role that recorded the call, for a call
    recorded on the server; None for a laptop's call and for a call copied from one."""
    if call.author and call.laptop_number is None:
        return call.author
    return None


def changed_by(call: Call, followup: FollowUp) -> str | None:
    """Who last changed the follow-up, when that was someone other than the call's
    clinician; None when it was the clinician or the database records no names."""
    if followup.author and followup.author != call.author:
        return followup.author
    return None


def outcome_text(call: Call) -> str:
    if call.outcome is not None:
        return call.outcome.label
    return "call not ended" if call.ended_at is None else NOT_RECORDED
