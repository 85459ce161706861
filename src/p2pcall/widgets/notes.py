"""The section's notes in time order, each with its time, kind and save state.

A correction is shown under the note it corrects, marked as a correction with its own time;
the original stays visible, marked as corrected. An addendum carries its reason.
"""

from __future__ import annotations

from typing import Any

from textual.await_remove import AwaitRemove
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from p2pcall.domain.corrections import ADDENDUM_LABEL, threaded
from p2pcall.domain.models import Note
from p2pcall.domain.text import one_line, shown_note
from p2pcall.domain.timefmt import clock_time
from p2pcall.domain.vocab import NoteKind
from p2pcall.widgets.steady import SteadyStatic

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


class NoteItem(SteadyStatic):
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
        self.unmounted = False  # removed from the list (scrolled out of its window)
        self._successor: NoteItem | None = None  # the widget showing it since
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
        """A new widget showing the same note in the same state, to mount again after this
        one was removed. Marks the app makes on this one later (a retried save) reach it."""
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
        self._successor = item
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
        if self._successor is not None:
            self._successor.late = self.late
            self._successor.mark(state, when, note_id)

    def mark_corrected(self) -> None:
        self.corrected = True
        self._refresh()
        if self._successor is not None:
            self._successor.mark_corrected()

    def _refresh(self) -> None:
        if self.unmounted:
            return  # its successor (if it was mounted again) shows the change
        self.show_content(
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
    """The notes, of which only a window of about WINDOW is mounted at a time.

    Every mounted widget is walked by each layout of the screen, so a call with thousands of
    notes would make every saved note cost more than the one before. Rows outside the window
    are kept as data (a saved Note, or a NoteItem that was mounted before) and mounted STEP
    at a time when the reader scrolls past either end of the window, while as many are
    unmounted at the other end. Home and End jump to the first and the newest notes; a new
    note brings the window back to the end.
    """

    DEFAULT_CSS = """
    NotesList { height: 1fr; }
    NotesList .note.-correction { padding-left: 2; }
    """

    WINDOW = 24  # notes mounted: several screens of a 24-line terminal
    STEP = 16  # notes mounted at once when scrolling past an end of the window

    def __init__(self, *children: Widget, **kwargs: Any) -> None:
        super().__init__(*children, **kwargs)
        self._rows: list[NoteItem | Note] = []  # every note shown, in display order
        self._first = 0  # _rows[_first:_last] are mounted
        self._last = 0
        self._tz = "UTC"
        self._corrected: set[int] = set()  # ids of saved notes a later note corrects
        self._moving = False  # a reveal is under way: the scroll it makes asks for no other
        self._following = True  # the newest note is in view (see on_resize)

    @property
    def mounted_count(self) -> int:
        return self._last - self._first

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def show_notes(self, notes: list[Note], tz: str) -> None:
        """Show a section's saved notes, corrections under the notes they correct."""
        self._tz = tz
        self._rows = [note for note, _ in threaded(notes)]
        self._corrected = {n.corrects for n in self._rows if isinstance(n, Note) and n.corrects}
        if self._rows:
            self._last = len(self._rows)
            self._first = max(0, self._last - self.WINDOW)
            self.mount_all(self._items(self._first, self._last))
            self.call_after_refresh(self.scroll_end, animate=False)
            self.call_after_refresh(self._fill)
        else:
            self.show_empty()

    # -- rows and widgets ----------------------------------------------------------------

    def _item(self, index: int) -> NoteItem:
        """The widget for row `index`: made from its saved note the first time it is needed,
        made anew (a removed widget cannot be mounted again) after it was unmounted."""
        row = self._rows[index]
        if isinstance(row, Note):
            item = NoteItem.from_note(row, self._tz)
            item.corrected = row.id in self._corrected
        elif row.unmounted:
            item = row.copy()
        else:
            return row
        self._rows[index] = item
        return item

    def _items(self, start: int, stop: int) -> list[NoteItem]:
        return [self._item(i) for i in range(start, stop)]

    def _unmount(self, start: int, stop: int) -> AwaitRemove | None:
        gone = [row for row in self._rows[start:stop] if isinstance(row, NoteItem)]
        for item in gone:
            item.unmounted = True
        return self.remove_children(gone) if gone else None

    def _window(self, start: int, stop: int) -> None:
        """Mount exactly rows [start, stop), unmounting the rest."""
        self._unmount(self._first, self._last)
        self._first, self._last = start, stop
        self.mount_all(self._items(start, stop))

    # -- adding --------------------------------------------------------------------------

    def add(self, item: NoteItem) -> NoteItem:
        empty = self.query("#no-notes")
        if empty:
            empty.remove()
        anchor = self._last_of_thread(item.corrects) if item.corrects is not None else None
        original = self._index_of(item.corrects) if item.corrects is not None else None
        if anchor is not None and original is not None:
            if original < self._first or anchor >= self._last:
                self._window(
                    original, min(len(self._rows), max(anchor + 1, original + self.WINDOW))
                )
            self._rows.insert(anchor + 1, item)
            self._last += 1
            self.mount(item, after=self._item(anchor))
            self._item(original).mark_corrected()
            self.call_after_refresh(item.scroll_visible, animate=False)
        else:
            if self._last < len(self._rows):  # reading back: the new note is at the end
                self._window(max(0, len(self._rows) - self.WINDOW), len(self._rows))
            self._rows.append(item)
            self._last = len(self._rows)
            self.mount(item)
            # Only while the window holds more than two screens: a tall terminal keeps the
            # notes it needs to be filled (and nothing is unmounted and mounted again).
            if (
                self.mounted_count > self.WINDOW + self.STEP
                and self.max_scroll_y > self.size.height
            ):
                self._first, old = self._last - self.WINDOW, self._first
                self._unmount(old, self._first)
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

    # -- scrolling past the window ------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = self._last == len(self._rows) and self._at_bottom()
        if round(new_value) <= 0:
            self._reveal("earlier")
        elif round(new_value) >= self.max_scroll_y:
            self._reveal("later")

    def _reveal(self, side: str) -> None:
        more = self._first > 0 if side == "earlier" else self._last < len(self._rows)
        if more and not self._moving:
            self._moving = True
            self.call_later(self._reveal_earlier if side == "earlier" else self._reveal_later)

    def _at_top(self) -> bool:
        return round(self.scroll_y) <= 0

    def _at_bottom(self) -> bool:
        return round(self.scroll_y) >= self.max_scroll_y

    async def _reveal_earlier(self) -> None:
        """At the top of the window: mount STEP earlier notes above, unmount as many below."""
        try:
            overflowing = self.max_scroll_y > 0  # else the window grows until it fills the list
            keep = self._item(self._first)
            start = max(0, self._first - self.STEP)
            items = self._items(start, self._first)
            self._first = start
            await self.mount_all(items, before=keep)
            if overflowing and self.mounted_count > self.WINDOW + self.STEP:
                stop, self._last = self._last, self._first + self.WINDOW + self.STEP
                self._unmount(self._last, stop)
        except BaseException:
            self._moving = False
            raise
        # Still moving until the view is back on the note it showed: the scroll made here
        # must not ask for another reveal.
        self.call_after_refresh(self._keep_at, keep, 0)

    async def _reveal_later(self) -> None:
        """At the bottom of the window: mount STEP later notes below, unmount as many above."""
        try:
            overflowing = self.max_scroll_y > 0
            keep = self._item(self._last - 1)
            offset = keep.virtual_region.y - round(self.scroll_y)  # where it is in the view
            stop = min(len(self._rows), self._last + self.STEP)
            items = self._items(self._last, stop)
            self._last = stop
            await self.mount_all(items, after=keep)
            if overflowing and self.mounted_count > self.WINDOW + self.STEP:
                start, self._first = self._first, self._last - self.WINDOW - self.STEP
                removal = self._unmount(start, self._first)
                if removal is not None:
                    await removal
        except BaseException:
            self._moving = False
            raise
        self.call_after_refresh(self._keep_at, keep, offset)

    def _keep_at(self, keep: NoteItem, offset: int) -> None:
        """Scroll so that `keep` is `offset` lines below the top of the view, as before."""
        try:
            if keep.is_attached:
                self.scroll_to(y=keep.virtual_region.y - offset, animate=False, immediate=True)
        finally:
            self._moving = False
        self._fill()

    def _fill(self) -> None:
        """Mount more notes while the mounted ones do not fill the list (a tall terminal)."""
        if self.max_scroll_y <= 0:
            self._reveal("earlier" if self._first > 0 else "later")

    def on_resize(self) -> None:
        # The newest note in view stays in view when the list gets shorter (a message line
        # or the reviewer panel appearing above it, a smaller terminal).
        if self._following:
            self.call_after_refresh(self.scroll_end, animate=False)
        self.call_after_refresh(self._fill)

    # At an end of the window (or with nothing to scroll) these keys would do nothing: they
    # mount more notes first. Textual's own action may then skip, as it did before.
    def action_scroll_up(self) -> None:
        if self._at_top():
            self._reveal("earlier")
        super().action_scroll_up()

    def action_page_up(self) -> None:
        if self._at_top():
            self._reveal("earlier")
        super().action_page_up()

    def action_scroll_down(self) -> None:
        if self._at_bottom():
            self._reveal("later")
        super().action_scroll_down()

    def action_page_down(self) -> None:
        if self._at_bottom():
            self._reveal("later")
        super().action_page_down()

    def action_scroll_home(self) -> None:
        """The first note of the section, however long the call."""
        if self._first > 0:
            self._window(0, min(len(self._rows), self.WINDOW))
            self.call_after_refresh(self.scroll_home, animate=False)
            return
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        """The newest note."""
        if self._last < len(self._rows):
            self._window(max(0, len(self._rows) - self.WINDOW), len(self._rows))
            self.call_after_refresh(self.scroll_end, animate=False)
            return
        super().action_scroll_end()

    def show_empty(self) -> None:
        self.mount(Static("No notes in this section yet.", id="no-notes", classes="hint"))
