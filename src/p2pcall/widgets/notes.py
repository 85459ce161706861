"""The section's notes in time order, each with its time, kind and save state."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from p2pcall.domain.models import Note
from p2pcall.domain.text import shown_note
from p2pcall.domain.timefmt import clock_time
from p2pcall.domain.vocab import NoteKind

KIND_MARK = {
    NoteKind.NOTE: ("", ""),
    NoteKind.QUOTE: ("QUOTE ", "bold $accent"),
    NoteKind.COMMITMENT: ("COMMITMENT ", "bold $warning"),
    NoteKind.NEW_INFO: ("NEW INFO ", "bold $success"),
}


def note_content(
    body: str, kind: NoteKind, when: str, state: str = "saved", late: bool = False
) -> Content:
    """One note as literal content: user text is never parsed as markup."""
    mark, style = KIND_MARK[kind]
    text = shown_note(body)
    if kind is NoteKind.QUOTE:
        text = f"\u201c{text}\u201d"
    status = {
        "saved": ("\u2713 ", "$success"),
        "saving": ("\u2026 ", "$text-muted"),
        "failed": ("\u26a0 NOT SAVED ", "bold $error"),
    }[state]
    return Content.assemble(
        status,
        (when, "$text-muted"),
        " ",
        ("LATE ENTRY " if late else "", "bold $warning"),
        (mark, style),
        text,
    )


class NoteItem(Static):
    def __init__(self, body: str, kind: NoteKind, when: str, *, late: bool = False) -> None:
        super().__init__(classes="note")
        self.body = body
        self.kind = kind
        self.when = when
        self.late = late
        self.state = "saving"

    @classmethod
    def from_note(cls, note: Note, tz: str) -> NoteItem:
        item = cls(note.body, note.kind, clock_time(note.saved_at, tz), late=note.late)
        item.state = "saved"
        return item

    def on_mount(self) -> None:
        self._refresh()

    def mark(self, state: str, when: str | None = None) -> None:
        self.state = state
        if when:
            self.when = when
        self._refresh()

    def _refresh(self) -> None:
        self.update(note_content(self.body, self.kind, self.when, self.state, self.late))
        self.set_class(self.state == "failed", "-failed")


class NotesList(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    NotesList { height: 1fr; }
    """

    def add(self, item: NoteItem) -> NoteItem:
        empty = self.query("#no-notes")
        if empty:
            empty.remove()
        self.mount(item)
        self.call_after_refresh(self.scroll_end, animate=False)
        return item

    def show_empty(self) -> None:
        self.mount(Static("No notes in this section yet.", id="no-notes", classes="hint"))
