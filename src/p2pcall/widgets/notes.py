"""The section's notes in time order, each with its time, kind and save state.

A correction is shown under the note it corrects, marked as a correction with its own time;
the original stays visible, marked as corrected. An addendum carries its reason.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from p2pcall.domain.corrections import ADDENDUM_LABEL, threaded
from p2pcall.domain.models import Note
from p2pcall.domain.text import one_line, shown_note
from p2pcall.domain.timefmt import clock_time
from p2pcall.domain.vocab import NoteKind

KIND_MARK = {
    NoteKind.NOTE: ("", ""),
    NoteKind.QUOTE: ("QUOTE ", "bold $accent"),
    NoteKind.COMMITMENT: ("COMMITMENT ", "bold $warning"),
    NoteKind.NEW_INFO: ("NEW INFO ", "bold $success"),
}


def note_content(
    body: str,
    kind: NoteKind,
    when: str,
    state: str = "saved",
    late: bool = False,
    *,
    reason: str = "",
    correction: bool = False,
    corrected: bool = False,
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
    content = Content.assemble(
        ("\u21b3 CORRECTION " if correction else "", "bold $accent"),
        status,
        (when, "$text-muted"),
        " ",
        ("LATE ENTRY " if late else "", "bold $warning"),
        (mark, style),
        (text, "$text-muted strike" if corrected else ""),
        (" (corrected below)" if corrected else "", "italic $text-muted"),
    )
    if reason:
        content = content + Content.assemble(
            "\n", (f"  {ADDENDUM_LABEL}: ", "bold $warning"), one_line(reason)
        )
    return content


class NoteItem(Static):
    def __init__(
        self,
        body: str,
        kind: NoteKind,
        when: str,
        *,
        late: bool = False,
        reason: str = "",
        corrects: int | None = None,
        note_id: int | None = None,
    ) -> None:
        super().__init__(classes="note")
        self.body = body
        self.kind = kind
        self.when = when
        self.late = late
        self.reason = reason
        self.corrects = corrects
        self.note_id = note_id
        self.corrected = False
        self.state = "saving"
        self.set_class(corrects is not None, "-correction")

    @classmethod
    def from_note(cls, note: Note, tz: str) -> NoteItem:
        item = cls(
            note.body,
            note.kind,
            clock_time(note.saved_at, tz),
            late=note.late,
            reason=note.reason,
            corrects=note.corrects,
            note_id=note.id,
        )
        item.state = "saved"
        return item

    def on_mount(self) -> None:
        self._refresh()

    def mark(self, state: str, when: str | None = None, note_id: int | None = None) -> None:
        self.state = state
        if when:
            self.when = when
        if note_id is not None:
            self.note_id = note_id
        self._refresh()

    def mark_corrected(self) -> None:
        self.corrected = True
        self._refresh()

    def _refresh(self) -> None:
        self.update(
            note_content(
                self.body,
                self.kind,
                self.when,
                self.state,
                self.late,
                reason=self.reason,
                correction=self.corrects is not None,
                corrected=self.corrected,
            )
        )
        self.set_class(self.state == "failed", "-failed")


class NotesList(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    NotesList { height: 1fr; }
    NotesList .note.-correction { padding-left: 2; }
    """

    def show_notes(self, notes: list[Note], tz: str) -> None:
        """Mount a section's saved notes, corrections under the notes they correct."""
        items = [NoteItem.from_note(note, tz) for note, _ in threaded(notes)]
        by_id = {item.note_id: item for item in items}
        for item in items:
            if item.corrects in by_id:
                by_id[item.corrects].corrected = True
        if items:
            self.mount_all(items)
            self.call_after_refresh(self.scroll_end, animate=False)
        else:
            self.show_empty()

    def add(self, item: NoteItem) -> NoteItem:
        empty = self.query("#no-notes")
        if empty:
            empty.remove()
        anchor = self._last_of_thread(item.corrects) if item.corrects is not None else None
        if anchor is not None:
            self.mount(item, after=anchor)
            for original in self.query(NoteItem):
                if original.note_id == item.corrects:
                    original.mark_corrected()
            self.call_after_refresh(item.scroll_visible, animate=False)
        else:
            self.mount(item)
            self.call_after_refresh(self.scroll_end, animate=False)
        return item

    def _last_of_thread(self, note_id: int) -> NoteItem | None:
        """The last item shown under note `note_id` (itself or its latest correction)."""
        items = list(self.query(NoteItem))
        start = next((i for i, item in enumerate(items) if item.note_id == note_id), None)
        if start is None:
            return None
        thread = {note_id}
        anchor = items[start]
        for item in items[start + 1 :]:
            if item.corrects not in thread:
                break
            thread.add(item.note_id or -1)
            anchor = item
        return anchor

    def show_empty(self) -> None:
        self.mount(Static("No notes in this section yet.", id="no-notes", classes="hint"))
