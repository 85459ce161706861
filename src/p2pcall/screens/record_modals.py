"""Small dialogs for the record: correct a note (before finalizing), give an addendum's reason."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from p2pcall.domain.models import Note
from p2pcall.domain.text import one_line
from p2pcall.domain.timefmt import clock_time
from p2pcall.widgets.composer import NoteField
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput


class CorrectNoteScreen(ModalScreen[tuple[int, str] | None]):
    """Correct one of the section's notes: a new note that points at the original.

    Opens on the most recent note; Ctrl+E again steps to the one before. Enter saves (Ctrl+S
    for a multi-line note), Esc leaves without saving.
    """

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="cancel-correction"),
        Binding(
            "ctrl+e",
            "older",
            "Older note",
            id="correct-older",
            priority=True,
            tooltip="Correct the note before this one instead",
        ),
        Binding("ctrl+s", "save", "Save correction", id="save-correction", priority=True),
    ]

    def __init__(self, candidates: list[Note], tz: str) -> None:
        super().__init__()
        self.candidates = candidates  # most recent first
        self.tz = tz
        self.index = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="correct-dialog", classes="record-dialog"):
            yield Static(Content("Correct a note"), classes="section-title")
            yield Static(id="correct-original", classes="points")
            yield Static(
                Content(
                    "Enter saves this as a correction with its own time (Ctrl+S if multi-line); "
                    "the original is kept, marked corrected. Ctrl+E: the note before. Esc: cancel."
                ),
                classes="hint",
            )
            yield NoteField(
                id="correct-field",
                compact=True,
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
            )
        yield KeyBar()

    def on_mount(self) -> None:
        self._show()

    @property
    def note(self) -> Note:
        return self.candidates[self.index]

    def _show(self) -> None:
        note = self.note
        position = f"{self.index + 1} of {len(self.candidates)}"
        self.query_one("#correct-original", Static).update(
            Content(
                f"Note saved {clock_time(note.saved_at, self.tz)} ({position}): "
                f"{one_line(note.body, 120)}"
            )
        )
        field = self.query_one(NoteField)
        field.load_text(note.body)
        field.multiline = "\n" in note.body
        field.move_cursor(field.document.end)
        field.focus()

    def action_older(self) -> None:
        self.index = (self.index + 1) % len(self.candidates)
        self._show()

    def on_note_field_submitted(self, event: NoteField.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        text = self.query_one(NoteField).text
        if not text.strip():
            self.notify("A correction cannot be empty.", severity="warning", timeout=3)
            return
        if text == self.note.body:
            self.notify("Nothing changed: edit the text, or Esc to leave.", timeout=3)
            return
        self.dismiss((self.note.id, text))


class AddendumReasonScreen(ModalScreen[str | None]):
    """Ask why a note is added to a finalized call; the note is saved only with a reason."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="cancel-addendum"),
        Binding("enter", "save", "Save addendum", id="save-addendum", priority=True),
    ]

    def __init__(self, preview: str) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(id="addendum-dialog", classes="record-dialog"):
            yield Static(Content("Addendum to a finalized call"), classes="section-title")
            yield Static(Content(one_line(self.preview, 120)), classes="points")
            yield Static(
                Content(
                    "This call's record is finalized. The note is added after it, with its own "
                    "time and the reason you give. Why is it added now?"
                ),
                classes="hint",
            )
            yield LiteralInput(placeholder="Reason (required)", id="addendum-reason")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(LiteralInput).focus()

    def action_save(self) -> None:
        reason = self.query_one(LiteralInput).value.strip()
        if not reason:
            self.notify("An addendum needs a reason.", severity="warning", timeout=3)
            return
        self.dismiss(reason)
