"""The section's notes in time order, each with its time, kind and save state.

A correction is shown under the note it corrects, marked as a correction with its own time;
the original stays visible, marked as corrected. An addendum carries its reason.
"""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
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

    def copy(self) -> NoteItem:
        """A new, unmounted widget showing the same note in the same state."""
        item = NoteItem(
            self.body,
            self.kind,
            self.when,
            late=self.late,
            reason=self.reason,
            corrects=self.corrects,
            note_id=self.note_id,
        )
        item.corrected, item.state = self.corrected, self.state
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
    """The notes; only the newest WINDOW (and what the reader scrolled back to) are mounted.

    Every mounted widget is walked by each layout of the screen, so a call with thousands of
    notes would make every saved note cost more than the one before. The rows not mounted are
    kept as data (a saved Note, or a NoteItem that was mounted before) and mounted STEP at a
    time when the reader reaches the top of what is mounted; adding a note at the end unmounts
    the oldest saved ones again.
    """

    DEFAULT_CSS = """
    NotesList { height: 1fr; }
    NotesList .note.-correction { padding-left: 2; }
    """

    WINDOW = 24  # notes mounted at the end: several screens of a 24-line terminal
    STEP = 16  # notes mounted at once when scrolling back past the top of the window

    def __init__(self, *children: Widget, **kwargs: Any) -> None:
        super().__init__(*children, **kwargs)
        self._rows: list[NoteItem | Note] = []  # every note shown, in display order
        self._first = 0  # index in _rows of the first mounted note
        self._tz = "UTC"
        self._corrected: set[int] = set()  # ids of saved notes a later note corrects
        self._revealing = False

    @property
    def mounted_count(self) -> int:
        return len(self._rows) - self._first

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def show_notes(self, notes: list[Note], tz: str) -> None:
        """Show a section's saved notes, corrections under the notes they correct."""
        self._tz = tz
        self._rows = [note for note, _ in threaded(notes)]
        self._corrected = {
            n.corrects for n in self._rows if isinstance(n, Note) and n.corrects is not None
        }
        self._first = max(0, len(self._rows) - self.WINDOW)
        if self._rows:
            self.mount_all([self._item(i) for i in range(self._first, len(self._rows))])
            self.call_after_refresh(self.scroll_end, animate=False)
            self.call_after_refresh(self._fill)
        else:
            self.show_empty()

    def _item(self, index: int) -> NoteItem:
        """The widget for row `index`, made from its saved note the first time it is needed."""
        row = self._rows[index]
        if isinstance(row, Note):
            item = NoteItem.from_note(row, self._tz)
            item.corrected = row.id in self._corrected
            self._rows[index] = row = item
        return row

    def add(self, item: NoteItem) -> NoteItem:
        empty = self.query("#no-notes")
        if empty:
            empty.remove()
        anchor = self._last_of_thread(item.corrects) if item.corrects is not None else None
        if anchor is not None and item.corrects is not None:
            original = self._index_of(item.corrects)
            if original is not None and original < self._first:
                self._mount_from(original)
            self._rows.insert(anchor + 1, item)
            self.mount(item, after=self._item(anchor))
            if original is not None:
                self._item(original).mark_corrected()
            self.call_after_refresh(item.scroll_visible, animate=False)
        else:
            self._rows.append(item)
            self.mount(item)
            self._trim()
            self.call_after_refresh(self.scroll_end, animate=False)
        return item

    @staticmethod
    def _ids(row: NoteItem | Note) -> tuple[int | None, int | None]:
        return (row.id, row.corrects) if isinstance(row, Note) else (row.note_id, row.corrects)

    def _index_of(self, note_id: int) -> int | None:
        for index in range(len(self._rows) - 1, -1, -1):
            if self._ids(self._rows[index])[0] == note_id:
                return index
        return None

    def _last_of_thread(self, note_id: int) -> int | None:
        """Index of the last row under note `note_id` (itself or its latest correction)."""
        start = self._index_of(note_id)
        if start is None:
            return None
        thread = {note_id}
        anchor = start
        for index in range(start + 1, len(self._rows)):
            row_id, corrects = self._ids(self._rows[index])
            if corrects not in thread:
                break
            thread.add(row_id if row_id is not None else -1)
            anchor = index
        return anchor

    def _mount_from(self, index: int) -> list[NoteItem]:
        """Mount the rows from `index` up to the first mounted one, above it."""
        if index >= self._first:
            return []
        items = [self._item(i) for i in range(index, self._first)]
        before = self._item(self._first) if self._first < len(self._rows) else None
        self._first = index
        if before is not None and before.is_attached:
            self.mount_all(items, before=before)
        else:
            self.mount_all(items)
        return items

    def _trim(self) -> None:
        """Unmount the oldest notes beyond the window; only saved ones (the app marks the rest)."""
        if self.mounted_count <= self.WINDOW + self.STEP:
            return
        stop = len(self._rows) - self.WINDOW
        gone: list[NoteItem] = []
        index = self._first
        while index < stop:
            item = self._item(index)
            if item.state != "saved":
                break
            gone.append(item)
            self._rows[index] = item.copy()  # a removed widget cannot be mounted again
            index += 1
        if gone:
            self._first = index
            self.remove_children(gone)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(new_value) <= 0:
            self._reveal_if_at_top()

    def _reveal_if_at_top(self) -> None:
        if round(self.scroll_y) <= 0 and self._first > 0 and not self._revealing:
            self._revealing = True
            self.call_later(self._reveal_earlier)

    def _fill(self) -> None:
        """Mount earlier notes while the mounted ones do not fill the list (a tall terminal)."""
        if self.max_scroll_y <= 0:
            self._reveal_if_at_top()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fill)

    # At the top (or with nothing to scroll) these keys would do nothing: they mount earlier
    # notes first. Textual's own action may then skip (no scrolling possible), as it did before.
    def action_scroll_up(self) -> None:
        self._reveal_if_at_top()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._reveal_if_at_top()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._reveal_if_at_top()
        super().action_scroll_home()

    async def _reveal_earlier(self) -> None:
        """At the top of what is mounted: mount STEP earlier notes, keeping the view still."""
        try:
            keep = self._item(self._first)
            items = [self._item(i) for i in range(max(0, self._first - self.STEP), self._first)]
            self._first -= len(items)
            await self.mount_all(items, before=keep)
        finally:
            self._revealing = False
        self.call_after_refresh(self._keep_in_view, keep)

    def _keep_in_view(self, keep: NoteItem) -> None:
        if keep.is_attached:
            self.scroll_to(y=keep.virtual_region.y + self.scroll_y, animate=False, immediate=True)
        self._fill()

    def show_empty(self) -> None:
        self.mount(Static("No notes in this section yet.", id="no-notes", classes="hint"))
