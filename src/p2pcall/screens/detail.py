"""A past call read back, read-only: everything recorded, in agenda and time order.

The record is loaded and laid out in the database thread as plain (text, style) pieces;
this screen only assembles them into literal Content, so nothing typed is read as markup.
`e` exports the record (ExportScreen); `l` opens the letters (LetterScreen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from p2pcall import queries
from p2pcall.host import host
from p2pcall.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from datetime import datetime

    from p2pcall.domain.models import CallRecord, FollowUp, Note
    from p2pcall.queries import CallDetail

Piece = tuple[str, str]  # (text, Textual style; "" for plain)
LABEL_WIDTH = 19


@dataclass
class DetailView:
    """The call laid out as blocks of styled pieces, plus what the keys need."""

    call_id: int
    title: str
    unfinished: bool
    tz: str = "UTC"
    blocks: list[list[Piece]] = field(default_factory=list)


def detail_view(detail: CallDetail) -> DetailView:
    """Runs in the database thread (after `queries.call_detail`): laid out off the UI thread."""
    view = build_view(
        detail.record, detail.late_fields, changed_since_finalized=detail.changed_since_finalized
    )
    if detail.letter_files:
        clinician = detail.record.call.author
        view.blocks.append(_letters_block(detail.letter_files, view.tz, clinician))
    return view


# What the detail says when the record no longer hashes to its stamped head: plain words.
RECORD_CHANGED = (
    "CHANGED SINCE IT WAS FINALIZED. This record no longer matches the chain head stamped "
    "when it was finalized: its notes, fields or times were edited outside p2pcall. Do not "
    "rely on it as it reads now; exports of it are refused."
)


def _letters_block(files: list, tz: str, clinician: str | None = None) -> list[Piece]:
    """Each letter written for the call: when, which, where (the files are not the record),
    and who wrote it when that was not the call's clinician (a server records it)."""
    from p2pcall.domain.letters import KINDS
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import stamp

    block: list[Piece] = [("Letters written", "bold $accent"), ("\n", "")]
    for item in files:
        label = KINDS.get(item.kind, (item.kind,))[0]
        edited = ", your edited text" if item.edited else ""
        block += [
            (f"{stamp(item.written_at, tz)}  ", "$text-muted"),
            (f"{label} ({item.format}{edited})  ", ""),
            (one_line(item.path, 200), "$text-muted"),
        ]
        if item.author and item.author != clinician:
            block.append((f"  by {one_line(item.author, 63)}", "bold"))
        block.append(("\n", ""))
    return _trim(block)


def build_view(
    record: CallRecord,
    late_keys: set[str] | frozenset[str] = frozenset(),
    *,
    changed_since_finalized: bool = False,
) -> DetailView:
    from p2pcall.domain.fields import Group, fields_for
    from p2pcall.domain.localzone import zone_label
    from p2pcall.domain.sections import Section
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import call_length, stamp

    call = record.call
    tz = call.tz
    title = " \u00b7 ".join(
        [f"Call #{call.id}"]
        + [one_line(call.value(key), 30) for key in ("patient_ref", "insurer") if call.value(key)]
    )
    view = DetailView(call.id, title, call.ended_at is None, tz)
    started = call.started_at or call.created_at
    call_day = stamp(started, tz)[:10]
    times = {note.id: _note_time(note.saved_at, tz, call_day) for note in record.notes}
    corrected = {note.corrects for note in record.notes if note.corrects is not None}

    meta: list[Piece] = []
    if call.author:  # a practice server records who: the call's clinician
        who = one_line(call.author, 63)
        if call.laptop_number is not None:
            who += f" (copied from a laptop, where it was call #{call.laptop_number})"
        _line(meta, "Clinician", who)
    _line(meta, "Started", stamp(started, tz))
    if call.ended_at is None:
        _line(meta, "Ended", "not yet: the call is still open (r resumes it)", "bold $warning")
    else:
        length = call_length(started, call.ended_at)
        _line(meta, "Ended", f"{stamp(call.ended_at, tz)}  ({length})")
    _line(meta, "Outcome", call.outcome.label if call.outcome else "\u2014")
    _line(meta, "Time zone", zone_label(tz))
    if call.finalized_at is not None:
        _line(meta, "Finalized", stamp(call.finalized_at, tz))
        if changed_since_finalized:
            _line(meta, "Record", RECORD_CHANGED, "bold $error")
            _line(meta, "Stamped head", f"{call.chain_head} (no longer matches)")
        else:
            _line(meta, "Chain head", call.chain_head or "\u2014")
    reviewer = _reviewer_line(record)
    if reviewer:
        _line(meta, "Reviewer", reviewer)
    late = sum(1 for note in record.notes if note.late)
    _line(
        meta, "Notes", f"{len(record.notes)}" + (f" ({late} added after the call)" if late else "")
    )
    view.blocks.append(meta)

    info = _fields_block("Call information", fields_for(Group.INFO), record, late_keys)
    if info:
        view.blocks.append(info)
    for section in Section:
        block: list[Piece] = [(section.title, "bold $accent"), ("\n", "")]
        block += _field_lines(fields_for(Group(section.value)), record, late_keys)
        notes = record.notes_in(section)
        for note in notes:
            block += _note_pieces(note, tz, call_day, times, corrected, call.author)
        if len(block) == 2:
            block.append(("nothing recorded", "$text-muted"))
        view.blocks.append(_trim(block))
    if record.followups:
        view.blocks.append(_followups(record.followups, tz, call.author))
    if record.drafts:
        sections = ", ".join(sorted(d.section.value for d in record.drafts))
        view.blocks.append(
            [
                (
                    f"Unsent text in section {sections}: never saved as a note, "
                    "not part of the record.",
                    "$text-muted",
                )
            ]
        )
    return view


def _line(block: list[Piece], label: str, value: str, style: str = "") -> None:
    if block:
        block.append(("\n", ""))
    block += [(f"{label:<{LABEL_WIDTH}}", "$text-muted"), (value, style)]


def _trim(block: list[Piece]) -> list[Piece]:
    while block and block[-1] == ("\n", ""):
        block.pop()
    return block


def _reviewer_line(record: CallRecord) -> str:
    from p2pcall.domain.fields import spec_for
    from p2pcall.domain.text import one_line

    call = record.call
    parts = []
    for key in ("reviewer_name", "reviewer_credentials", "reviewer_specialty"):
        if key in call.declined:
            parts.append(f"{spec_for(key).label.lower()} declined to give")
        elif call.value(key):
            parts.append(one_line(call.value(key), 40))
    same = spec_for("reviewer_same_specialty").display(call.value("reviewer_same_specialty"))
    if same:
        parts.append(f"same specialty: {same}")
    return ", ".join(parts)


def _fields_block(title: str, specs: tuple, record: CallRecord, late: set[str] | frozenset[str]):
    lines = _field_lines(specs, record, late)
    if not lines:
        return []
    return _trim([(title, "bold $accent"), ("\n", ""), *lines])


def _field_lines(specs: tuple, record: CallRecord, late: set[str] | frozenset[str]) -> list[Piece]:
    from p2pcall.domain.text import visible

    call = record.call
    pieces: list[Piece] = []
    for spec in specs:
        declined = spec.key in call.declined
        value = spec.display(call.value(spec.key))
        if not value and not declined:
            continue
        pieces.append((f"{spec.label:<{LABEL_WIDTH}}", "$text-muted"))
        if declined:
            pieces.append(("\u2014 declined to give", "$warning"))
        else:
            indent = "\n" + " " * LABEL_WIDTH
            pieces.append((visible(value).replace("\n", indent), ""))
        if spec.key in late:
            pieces.append(("  (set after the call)", "bold $warning"))
        pieces.append(("\n", ""))
    return pieces


KIND_MARK = {
    "quote": ("QUOTE ", "bold $accent"),
    "commitment": ("COMMITMENT ", "bold $warning"),
    "new_info": ("NEW INFO ", "bold $success"),
}


def _note_time(moment: datetime, tz: str, call_day: str) -> str:
    """Time and offset; the date too when it is not the day of the call (late entries)."""
    from p2pcall.domain.timefmt import stamp

    full = stamp(moment, tz)  # 2026-11-23 14:02:11 -05:00
    return full[11:] if full[:10] == call_day else full


def _note_pieces(
    note: Note,
    tz: str,
    call_day: str,
    times: dict[int, str],
    corrected: set[int],
    clinician: str | None = None,
) -> list[Piece]:
    from p2pcall.domain.text import one_line, visible

    when = times.get(note.id) or _note_time(note.saved_at, tz, call_day)
    pieces: list[Piece] = [(when, "$text-muted"), (" ", "")]
    if note.late:
        pieces.append(("LATE ENTRY, added after the call ", "bold $warning"))
    if note.corrects is not None:
        original = times.get(note.corrects, f"#{note.corrects}")
        pieces.append((f"CORRECTION of the note of {original} ", "bold $warning"))
    mark = KIND_MARK.get(note.kind.value)
    if mark:
        pieces.append(mark)
    body = visible(note.body)
    if note.kind.value == "quote":
        body = f"\u201c{body}\u201d"
    pieces.append((body, ""))
    if note.reason:
        pieces.append((f"  (reason: {visible(note.reason)})", "$text-muted"))
    if note.id in corrected:
        pieces.append(("  (corrected later: see the correction)", "$text-muted"))
    if note.author and note.author != clinician:  # never on a server's own rules; said if so
        pieces.append((f"  by {one_line(note.author, 63)}", "bold"))
    pieces.append(("\n", ""))
    return pieces


def _followups(followups: list[FollowUp], tz: str, clinician: str | None = None) -> list[Piece]:
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import stamp

    block: list[Piece] = [("Follow-ups", "bold $accent"), ("\n", "")]
    for item in followups:
        block.append((f"\u2022 {item.action.label}", ""))
        if item.due is not None:
            block.append((f"  due {stamp(item.due, tz)[:10]}", ""))
            if item.due_override is not None:
                block.append((" (date set by hand)", "$text-muted"))
        block.append((f"  {item.status.label}", "$text-muted"))
        if item.done_at is not None:
            block.append((f" {stamp(item.done_at, tz)}", "$text-muted"))
        if item.note:
            block.append((f"  {one_line(item.note, 60)}", ""))
        if item.author and item.author != clinician:  # a coordinator or an admin changed it
            block.append((f"  by {one_line(item.author, 63)}", "bold"))
        block.append(("\n", ""))
    return _trim(block)


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail-back", tooltip="Back to the list"),
        Binding(
            "r",
            "resume",
            "Resume",
            id="detail-resume",
            tooltip="Resume this unfinished call",
        ),
        Binding(
            "e",
            "export",
            "Export",
            id="detail-export",
            tooltip="Export this record to a file (text, Markdown or JSON)",
        ),
        Binding(
            "l",
            "letter",
            "Letter",
            id="detail-letter",
            tooltip="Letters: confirmation, expedited appeal, records request, complaint",
        ),
    ]

    def __init__(self, call_id: int) -> None:
        super().__init__()
        self.call_id = call_id
        self.detail: DetailView | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content(f"Call #{self.call_id}"), id="detail-title")
        yield VerticalScroll(Static(Content("Loading\u2026"), classes="hint"), id="detail-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        call_id = self.call_id
        host(self).ask_store(
            lambda store: detail_view(queries.call_detail(store, call_id)),
            self.show,
            self.failed,
        )

    def show(self, view: DetailView) -> None:
        self.detail = view
        self.query_one("#detail-title", Static).update(Content(view.title))
        body = self.query_one("#detail-body", VerticalScroll)
        body.remove_children()
        body.mount_all(
            Static(Content.assemble(*block), classes="detail-block") for block in view.blocks
        )
        self.refresh_bindings()

    def failed(self, error: str) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        body.remove_children()
        body.mount(Static(Content(error), classes="warning"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume":
            return self.detail is not None and self.detail.unfinished
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_export(self) -> None:
        from p2pcall.screens.export import ExportScreen

        self.app.push_screen(ExportScreen(self.call_id))

    def action_letter(self) -> None:
        from p2pcall.screens.letters import LetterScreen

        self.app.push_screen(LetterScreen(self.call_id), lambda _: self.reload())

    def reload(self) -> None:
        """Load the call again (a letter written from here is listed at the end)."""
        call_id = self.call_id
        host(self).db.read(
            lambda store: detail_view(queries.call_detail(store, call_id)), self.show, self.failed
        )

    def action_resume(self) -> None:
        if self.detail is not None and self.detail.unfinished:
            host(self).open_call(self.detail.call_id)
