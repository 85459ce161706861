"""Write a letter to a file: choose text, Markdown or PDF and the file name, then write.

Opened from the letter screen (Ctrl+O). The file is written in the database thread by
`letterjob.write_letter` (whole or not at all, 0600, never over a file without asking) and
listed on the call; the modal dismisses with the `LetterFile` written, or None.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from p2pcall import queries
from p2pcall.domain.formats import LETTER_FORMATS
from p2pcall.host import host
from p2pcall.screens.file_dialog import (
    PRIVATE_FILE,
    follow_suggested,
    format_buttons,
    format_choices,
    notify_written,
    show_status,
    stepped,
    typed_path,
)
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput

if TYPE_CHECKING:
    from p2pcall.domain.letters import Practice

FORMAT_CHOICES = format_choices(LETTER_FORMATS)


class LetterFileScreen(ModalScreen[Any]):
    """Choose the format and the file, then write the letter (asks before replacing)."""

    DEFAULT_CSS = """
    LetterFileScreen { align: center middle; }
    #letter-file-dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    #letter-file-dialog RadioSet { width: 100%; height: auto; }
    #letter-path { width: 100%; margin: 0 1; }
    #letter-file-status { height: auto; padding: 0 1; }
    #letter-file-status.-error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding(
            "ctrl+s",
            "write",
            "Write file",
            id="letter-file-write",
            # Not priority: it follows the letters of a file name typed just before it.
            tooltip="Write the letter to the file named (asks before replacing a file)",
        ),
        Binding(
            "down",
            "format(1)",
            "Format",
            id="letter-file-format",
            key_display="\u2191\u2193",
            priority=True,
            tooltip="Next format",
        ),
        Binding(
            "up", "format(-1)", "Format", id="letter-file-format-prev", show=False, priority=True
        ),
        Binding(
            "escape", "cancel", "Cancel", id="letter-file-cancel", tooltip="Close without writing"
        ),
    ]

    def __init__(self, call_id: int, kind: str, practice: Practice, folder: Path | None) -> None:
        super().__init__()
        self.call_id, self.kind, self.practice, self.folder = call_id, kind, practice, folder
        self.fmt = "text"
        self.busy = False
        self._confirm: Path | None = None
        self._suggested = self._default()

    def _default(self) -> Path:
        from p2pcall.letterjob import default_letter_path

        return default_letter_path(self.call_id, self.kind, self.fmt, self.folder)

    def compose(self) -> ComposeResult:
        from p2pcall.domain.letters import KINDS

        with Vertical(id="letter-file-dialog"):
            yield Static(
                Content(f"Write the {KINDS[self.kind][0].lower()} of call #{self.call_id}"),
                classes="section-title",
            )
            yield RadioSet(
                *format_buttons(FORMAT_CHOICES, self.fmt, "letter-format-"),
                id="letter-format",
                compact=True,
            )
            yield Static(Content("File (Enter or Ctrl+S writes it):"), classes="hint")
            yield LiteralInput(str(self._suggested), id="letter-path", compact=True)
            yield Static(Content(PRIVATE_FILE), id="letter-file-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#letter-path", Input).focus()

    def action_format(self, step: int) -> None:
        chosen = stepped(FORMAT_CHOICES, self.fmt, step)
        # Now, not when RadioSet.Changed arrives: Down Down Enter in one burst means PDF.
        self._set_format(chosen)
        self.query_one(f"#letter-format-{chosen}", RadioButton).value = True

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._set_format(FORMAT_CHOICES[event.index][0])

    def _set_format(self, fmt: str) -> None:
        if fmt == self.fmt:
            return
        self.fmt = fmt
        field = self.query_one("#letter-path", Input)
        self._suggested = follow_suggested(field, self._suggested, self._default())

    def on_input_changed(self, event: Input.Changed) -> None:
        self._confirm = None
        from p2pcall.exportfile import synced_folder_hint

        path = typed_path(event.input)
        hint = synced_folder_hint(path) if path else None
        self._message(hint or PRIVATE_FILE, error=bool(hint))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_write()

    def _message(self, text: str, *, error: bool = False) -> None:
        show_status(self.query_one("#letter-file-status", Static), text, "error" if error else "")

    def action_write(self) -> None:
        if self.busy:
            return
        path = typed_path(self.query_one("#letter-path", Input))
        if path is None:
            self._message("Give a file name.", error=True)
            return
        force = self._confirm == path
        if path.exists() and not force:
            self._confirm = path
            self._message(f"{path} already exists. Press Ctrl+S again to replace it.", error=True)
            return
        self.busy = True
        self._message("Writing\u2026")
        call_id, kind, fmt, practice = self.call_id, self.kind, self.fmt, self.practice

        host(self).db.submit(
            lambda store: queries.write_letter_file(
                store, call_id, kind, fmt, path, practice, force
            ),
            self._done,
            lambda error: self._done(("error", error)),
            what="write the letter",
        )

    def _done(self, result: tuple[str, Any]) -> None:
        self.busy = False
        status, detail = result
        if status != "ok":
            self._message(str(detail), error=True)
            return
        notify_written(self.app, "Letter written", detail.path)
        self.dismiss(detail)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)
