"""Signature block and practice details: a small form saved to the settings file.

Opened from the letter screen (Ctrl+T) or the command palette. Reading and writing the file
(`p2pcall.config`, TOML, 0600) run in the database thread. A file that could not be read is
never replaced from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from p2pcall.domain.text import one_line
from p2pcall.host import host
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput

if TYPE_CHECKING:
    from p2pcall.domain.letters import Practice


def config_dir_of(app: Any) -> Path:
    from p2pcall.config import resolve_config_dir

    return getattr(app, "config_dir", None) or resolve_config_dir()


class SettingsScreen(ModalScreen[Any]):
    """Signature block and practice details, saved to the settings file (TOML, 0600)."""

    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    #settings-dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    #settings-dialog Label { width: 14; padding: 0 1 0 0; }
    #settings-dialog .settings-row { height: 1; }
    #settings-dialog LiteralInput { width: 1fr; }
    #settings-status { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="settings-save",
            # Not priority: it reaches the screen through the field, after the letters typed
            # into it (as a priority binding it saved before they had arrived).
            tooltip="Save the signature block and practice details",
        ),
        Binding("escape", "cancel", "Cancel", id="settings-cancel", tooltip="Close without saving"),
        # Priority, so focus moves when Tab is read: a burst "name Tab MD" fills two fields.
        Binding("tab", "app.focus_next", "Next", id="settings-next", show=False, priority=True),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous",
            id="settings-previous",
            show=False,
            priority=True,
        ),
    ]

    def __init__(self, practice: Practice | None) -> None:
        super().__init__()
        from p2pcall.domain.letters import Practice

        self.practice = practice or Practice()
        self.loaded = practice is not None  # else read the file first: never save over it blind
        self.busy = False

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        from p2pcall.domain.letters.practice import PRACTICE_FIELDS

        with Vertical(id="settings-dialog"):
            yield Static(
                Content("Signature and practice details (every letter uses them)"),
                classes="section-title",
            )
            for key, label, _ in PRACTICE_FIELDS:
                with Horizontal(classes="settings-row"):
                    yield Label(label)
                    value = (
                        self.practice.get(key).replace("\n", " | ")
                        if key == "address"
                        else self.practice.get(key)
                    )
                    yield LiteralInput(value, id=f"settings-{key}", compact=True)
            yield Static(
                Content("Address: separate lines with |. Tab moves, Ctrl+S saves."), classes="hint"
            )
            yield Static(Content(""), id="settings-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query(LiteralInput).first().focus()
        if not self.loaded:
            folder = config_dir_of(self.app)

            def run(_store: object) -> tuple[str, Any]:
                from p2pcall.config import load_practice
                from p2pcall.domain.letters.practice import PracticeError

                try:
                    return "ok", load_practice(folder)
                except PracticeError as exc:
                    return "error", str(exc)

            host(self).db.read(run, self._fill, what="read your settings")

    def _fill(self, result: tuple[str, Any]) -> None:
        from p2pcall.domain.letters.practice import PRACTICE_FIELDS

        if result[0] != "ok":
            self.query_one("#settings-status", Static).update(Content(one_line(result[1])))
            return
        self.practice, self.loaded = result[1], True
        for key, _, _ in PRACTICE_FIELDS:
            field = self.query_one(f"#settings-{key}", Input)
            if not field.value:  # what was typed meanwhile stays
                value = self.practice.get(key)
                field.value = value.replace("\n", " | ") if key == "address" else value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def action_save(self) -> None:
        if self.busy:
            return
        if not self.loaded:
            self.query_one("#settings-status", Static).update(
                Content("The settings file could not be read, so it is not replaced.")
            )
            return
        from p2pcall.domain.letters import Practice
        from p2pcall.domain.letters.practice import PRACTICE_FIELDS

        values = {}
        for key, _, _ in PRACTICE_FIELDS:
            value = self.query_one(f"#settings-{key}", Input).value.strip()
            if key == "address":
                value = "\n".join(part.strip() for part in value.split("|") if part.strip())
            values[key] = value
        practice = Practice(**values)
        folder = config_dir_of(self.app)
        self.busy = True

        def run(_store: object) -> tuple[str, Any]:
            from p2pcall.config import save_practice
            from p2pcall.domain.letters.practice import PracticeError

            try:
                return "ok", str(save_practice(folder, practice))
            except PracticeError as exc:
                return "error", str(exc)

        def done(result: tuple[str, Any]) -> None:
            self.busy = False
            if result[0] != "ok":
                self.query_one("#settings-status", Static).update(Content(one_line(result[1])))
                return
            self.app.notify(f"Settings saved to {one_line(result[1])}", markup=False, timeout=5)
            self.dismiss(practice)

        host(self).db.submit(run, done, lambda error: done(("error", error)))

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)
