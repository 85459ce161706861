"""The note field: Enter saves; Ctrl+L switches to multi-line for longer notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from p2pcall.domain.text import MAX_NOTE_CHARS, too_long
from p2pcall.domain.vocab import NoteKind
from p2pcall.widgets.literal import LiteralTextArea

KIND_STYLE = {
    NoteKind.NOTE: "",
    NoteKind.QUOTE: "bold $accent",
    NoteKind.COMMITMENT: "bold $warning",
    NoteKind.NEW_INFO: "bold $success",
}


class NoteField(LiteralTextArea):
    """A TextArea where Enter submits unless multi-line mode is on."""

    class Submitted(Message):
        def __init__(self, taken: tuple[str, NoteKind, datetime | None]) -> None:
            super().__init__()
            self.taken = taken

    multiline: reactive[bool] = reactive(False)

    async def _on_key(self, event: events.Key) -> None:
        # Enter saves (TextArea would add a line); in multi-line mode it adds the line and
        # Ctrl+S (a screen binding) saves. Typing order is the app's (p2pcall.key_order).
        if event.key == "enter" and not self.multiline:
            event.stop()
            event.prevent_default()
            composer = self.parent
            if isinstance(composer, Composer) and self.text.strip():
                self.post_message(self.Submitted(composer.take()))
            else:
                self.post_message(self.Submitted(("", NoteKind.NOTE, None)))
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        # A pasted paragraph must arrive whole: switch to multi-line rather than cut it.
        # No super() call: Textual runs TextArea._on_paste after this one by itself (its
        # handlers are looked up along the class hierarchy), and calling it here too
        # inserted every paste twice.
        if len(self.text) + len(event.text) > MAX_NOTE_CHARS:
            event.prevent_default()  # TextArea's own paste handler does not run
            event.stop()
            size = len(self.text) + len(event.text)
            self.notify(too_long("The note", size, MAX_NOTE_CHARS), severity="error", timeout=10)
            return
        if "\n" in event.text.rstrip("\n"):
            self.multiline = True


class Composer(Horizontal):
    """Kind label plus note field; remembers when the current note was started."""

    kind: reactive[NoteKind] = reactive(NoteKind.NOTE)

    def __init__(self, placeholder: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._placeholder = placeholder
        self.started_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="kind-label")
        yield NoteField(
            id="note-field",
            compact=True,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder=self._placeholder,
        )

    @property
    def field(self) -> NoteField:
        return self.query_one(NoteField)

    @property
    def text(self) -> str:
        return self.field.text

    def on_mount(self) -> None:
        self.watch_kind(self.kind)
        self.watch(self.field, "multiline", self._show_multiline)

    def _show_multiline(self, on: bool) -> None:
        self.set_class(on, "-multiline")

    def watch_kind(self, kind: NoteKind) -> None:
        from textual.content import Content

        label = self.query_one("#kind-label", Static)
        label.update(Content.assemble((f"{kind.label} \u25b8", KIND_STYLE[kind])))
        self.set_class(kind is not NoteKind.NOTE, "-special")

    def toggle_multiline(self) -> bool:
        self.field.multiline = not self.field.multiline
        return self.field.multiline

    def take(self) -> tuple[str, NoteKind, datetime | None]:
        """The note as it stands (text, kind, start), leaving the field empty."""
        taken = (self.text, self.kind, self.started_at)
        self.clear()
        return taken

    def clear(self) -> None:
        self.field.clear()
        self.started_at = None
        self.kind = NoteKind.NOTE
        if self.field.multiline:
            self.toggle_multiline()

    def restore(self, body: str, kind: NoteKind, started_at: datetime) -> None:
        self.field.load_text(body)
        self.field.move_cursor(self.field.document.end)
        self.kind = kind
        self.started_at = started_at
        if "\n" in body and not self.field.multiline:
            self.toggle_multiline()
