"""Plain objects the app works with; the store converts its rows to and from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus, NoteKind, Outcome


@dataclass
class Call:
    id: int
    created_at: datetime
    tz: str  # the practice's time zone when the call was taken, for exports
    started_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: Outcome | None = None
    values: dict[str, str] = field(default_factory=dict)
    declined: set[str] = field(default_factory=set)
    finalized_at: datetime | None = None  # after this the database refuses changes
    chain_head: str | None = None  # SHA-256 hash-chain head, fixed when finalized
    # Who the database records as the call's clinician: the server role that created it.
    # None in a laptop's file, which records no names. Never part of the chain.
    author: str | None = None
    # A call brought onto a server by `p2pcall db copy`: its number on the laptop, which
    # its record keeps (store/numbering.py). None for a call made where it is stored.
    laptop_number: int | None = field(default=None, compare=False)

    @property
    def finalized(self) -> bool:
        return self.finalized_at is not None

    def value(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass(frozen=True)
class Note:
    id: int
    call_id: int
    section: Section
    kind: NoteKind
    body: str
    started_at: datetime  # first keystroke of the note
    saved_at: datetime  # the commit that made it part of the record
    late: bool = False  # added after the call had ended
    reason: str = ""  # why it was added late (addenda after finalizing must give one)
    corrects: int | None = None  # id of the note this one corrects; the original is kept
    # The server role that saved it (None in a laptop's file). Who, not what: two reads of
    # the same note are equal whether or not the database that answered records authors.
    author: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Draft:
    """Text still in a note field: not part of the record, offered back after a crash."""

    call_id: int
    section: Section
    kind: NoteKind
    body: str
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CallSummary:
    """One row of a call list: enough to show, never the notes themselves."""

    id: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    outcome: Outcome | None
    patient_ref: str
    insurer: str
    review_type: str
    note_count: int
    finalized: bool = False  # ended calls whose wrap-up was left for later are not

    @property
    def duration_seconds(self) -> int | None:
        """How long the call lasted, in whole seconds as its start and end are shown (so the
        figures add up); None while it is still open."""
        from p2pcall.domain.timefmt import shown_seconds_between

        if self.started_at is None or self.ended_at is None:
            return None
        return shown_seconds_between(self.started_at, self.ended_at)


@dataclass(frozen=True)
class SearchMatch:
    """Where a full-text search found its words in one call, as a short masked excerpt."""

    where: str  # "note" or the key of the field that matched
    section: Section | None  # the note's section, None for a field
    snippet: str  # one line, control characters made visible
    marks: tuple[tuple[int, int], ...] = ()  # (start, end) of the matched words in snippet

    @property
    def place(self) -> str:
        """Where it matched, for people: "note in B", or the field's label."""
        from p2pcall.domain.fields import FIELDS_BY_KEY

        if self.section is not None:
            return f"note in {self.section.value}"
        spec = FIELDS_BY_KEY.get(self.where)
        return spec.label if spec else self.where


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history list: the call, and why it matched a search (if any)."""

    summary: CallSummary
    match: SearchMatch | None = None


@dataclass(frozen=True)
class HistoryPage:
    """A slice of the history list, newest first."""

    entries: tuple[HistoryEntry, ...]
    offset: int
    has_more: bool  # another page follows this one


@dataclass(frozen=True)
class FollowUp:
    """Something to do after the call, with its due date as computed and as overridden."""

    id: int
    call_id: int
    action: FollowUpAction
    status: FollowUpStatus
    created_at: datetime
    rule_id: str | None = None  # the deadline rule the computed date comes from
    computed_due: datetime | None = None
    due_override: datetime | None = None
    override_reason: str = ""
    done_at: datetime | None = None
    note: str = ""
    legal_due: datetime | None = None  # the rule's outer limit, when computed_due is earlier
    # The server role that last changed it (planned it, its date, status or note); None in
    # a laptop's file. A coordinator marking it done shows here. Not compared (see Note).
    author: str | None = field(default=None, compare=False)

    @property
    def due(self) -> datetime | None:
        return self.due_override or self.computed_due


@dataclass
class CallRecord:
    """A whole call as loaded for the live screens or an export."""

    call: Call
    notes: list[Note] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)

    def notes_in(self, section: Section) -> list[Note]:
        return [note for note in self.notes if note.section == section]
