"""Export one call's record (text, Markdown or JSON) to a file. Letters: screens/letters.py.

How a screen opens it (the call detail screen binds `e` and `l` to this)::

    from p2pcall.screens.export import ExportScreen

    self.app.push_screen(ExportScreen(call_id))               # the record

The modal dismisses with the `Path` written, or None when the user leaves with Esc; it also
shows a notification with the path. Loading, rendering and writing run in the database thread
(`queries.export_call`), never on the UI thread, so the app's store must be open
(`app.store_ready`). `folder` sets where the suggested file name points (default: the home
folder; see `exportfile.default_export_path`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, RadioButton, RadioSet, Static

from p2pcall import queries
from p2pcall.domain.formats import EXPORT_FORMATS
from p2pcall.exportfile import default_export_path, synced_folder_hint
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
    from p2pcall.queries import Job

FORMAT_CHOICES = format_choices(EXPORT_FORMATS)


def export_job(
    call_id: int, kind: str, redact: bool, path: Path, force: bool
) -> Job[tuple[str, str]]:
    """The work done in the database thread: load, render, write (`queries.export_call`)."""
    return lambda store: queries.export_call(store, call_id, kind, redact, path, force)


class ExportScreen(ModalScreen[Path | None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    #export-dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    #export-dialog RadioSet { width: 100%; height: auto; }
    #export-dialog Checkbox { width: 100%; }
    #export-path { width: 100%; margin: 0 1; }
    #export-dialog .hint { margin-top: 1; }
    #export-status { height: auto; padding: 0 1; }
    #export-status.-error { color: $error; text-style: bold; }
    #export-status.-warning { color: $warning; text-style: bold; }
    """
    BINDINGS = [
        Binding(
            "ctrl+s",
            "write",
            "Write file",
            id="export-write",
            priority=True,
            tooltip="Write the export to the file named (asks before replacing a file)",
        ),
        # From the file name too: the format list and the box are a Tab away, but a user
        # reading "↑↓" expects the arrows to work where the cursor already is. Priority:
        # the file name's (hidden, idle) scroll keys would otherwise hide them from the bar.
        Binding(
            "down",
            "format(1)",
            "Format",
            id="export-format-next",
            key_display="\u2191\u2193",
            tooltip="Next export format",
            priority=True,
        ),
        Binding("up", "format(-1)", "Format", id="export-format-prev", show=False, priority=True),
        Binding(
            "ctrl+r",
            "redact",
            "Redact",
            id="export-redact",
            tooltip="Redact patient identifiers (or not)",
        ),
        Binding("escape", "cancel", "Cancel", id="export-cancel", tooltip="Close without writing"),
    ]

    def __init__(self, call_id: int, *, folder: Path | None = None) -> None:
        super().__init__()
        self.call_id = call_id
        self.folder = folder
        self.kind = "text"
        self.redact = False
        self.busy = False
        self._confirm_replace: Path | None = None
        self._suggested = self._default_path()

    def _default_path(self) -> Path:
        return default_export_path(self.call_id, self.kind, redact=self.redact, folder=self.folder)

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Static(
                Content(f"Export the record of call #{self.call_id}"), classes="section-title"
            )
            yield Static(Content("Format (\u2191\u2193) and redaction (Ctrl+R):"), classes="hint")
            yield RadioSet(
                *format_buttons(FORMAT_CHOICES, self.kind, "format-"),
                id="export-format",
                compact=True,
            )
            yield Checkbox(
                "Redact patient identifiers (ref, age, gender, diagnosis)",
                id="export-redact",
                compact=True,
            )
            yield Static(Content("File (Enter or Ctrl+S writes it):"), classes="hint")
            yield LiteralInput(str(self._suggested), id="export-path", compact=True)
            yield Static(Content(""), id="export-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()
        self._show_hint()

    # -- choices --------------------------------------------------------------------------

    def action_format(self, step: int) -> None:
        chosen = stepped(FORMAT_CHOICES, self.kind, step)
        self.query_one(f"#format-{chosen}", RadioButton).value = True  # RadioSet.Changed follows

    def action_redact(self) -> None:
        self.query_one("#export-redact", Checkbox).toggle()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.kind = FORMAT_CHOICES[event.index][0]
        self._follow_default()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.redact = event.value
        self._follow_default()

    def _follow_default(self) -> None:
        """A path the user has not edited follows the format and redaction choices."""
        field = self.query_one("#export-path", Input)
        self._suggested = follow_suggested(field, self._suggested, self._default_path())
        self._show_hint()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._confirm_replace = None
        self._show_hint()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_write()

    def _status(self, text: str, level: str = "") -> None:
        show_status(self.query_one("#export-status", Static), text, level)

    def _show_hint(self) -> None:
        path = self._path()
        hint = synced_folder_hint(path) if path else None
        self._status(hint or PRIVATE_FILE, "warning" if hint else "")

    def _path(self) -> Path | None:
        return typed_path(self.query_one("#export-path", Input))

    # -- writing --------------------------------------------------------------------------

    def action_write(self) -> None:
        if self.busy:
            return
        path = self._path()
        if path is None:
            self._status("Give a file name.", "error")
            return
        force = self._confirm_replace == path
        if not force and _is_regular_file(path):
            self._ask_replace(path, f"{path} already exists.")
            return
        # Anything else at that name (a folder, FIFO, device or link) is refused by
        # write_export with its reason: there is nothing to offer to replace.
        self.busy = True
        self._status("Writing\u2026")
        host(self).ask_store(
            export_job(self.call_id, self.kind, self.redact, path, force),
            lambda result: self._written(path, result),
            lambda error: self._written(path, ("error", error)),
            what="export the record",
        )

    def _ask_replace(self, path: Path, why: str) -> None:
        self._confirm_replace = path
        self._status(f"{why} Press Ctrl+S again to replace it, or change the name.", "warning")

    def _written(self, path: Path, result: tuple[str, str]) -> None:
        self.busy = False
        status, detail = result
        if status == "exists":
            self._ask_replace(path, detail.split(";")[0] + ".")
        elif status == "error":
            self._status(detail, "error")
        else:
            notify_written(self.app, "Export written", detail)
            self.dismiss(Path(detail))

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def __repr__(self) -> str:  # no paths or patient data in crash output
        return f"ExportScreen(call_id={self.call_id})"


def current_call_id(app: Any, screen: Any) -> int | None:
    """The call the user is looking at: the open call, a screen's `call_id` (call detail),
    or the highlighted line of a call list with id "calls" (home)."""
    if getattr(app, "live", None) is not None:
        return app.live.call.id
    call_id = getattr(screen, "call_id", None)
    if isinstance(call_id, int):
        return call_id
    for calls in screen.query("#calls"):
        option = getattr(calls, "highlighted_option", None)
        if option is not None and option.id and option.id.isdigit():
            return int(option.id)
    return None


def export_commands(app: Any, screen: Any) -> Iterable[SystemCommand]:
    """Command palette entries to export the call in view (see P2PCallApp.get_system_commands)."""
    if isinstance(screen, ExportScreen) or not getattr(app, "store_ready", False):
        return
    call_id = current_call_id(app, screen)
    if call_id is None:
        return
    yield SystemCommand(
        f"Export call #{call_id} to a file",
        "The record as plain text, Markdown or JSON, optionally redacted",
        lambda: app.push_screen(ExportScreen(call_id)),
    )
    from p2pcall.screens.letters import LetterScreen
    from p2pcall.screens.settings import SettingsScreen

    if not isinstance(screen, LetterScreen):
        yield SystemCommand(
            f"Letters for call #{call_id}",
            "Confirmation, expedited appeal, request for records, complaint: preview, edit, write",
            lambda: app.push_screen(LetterScreen(call_id)),
        )
    yield SystemCommand(
        "Signature and practice details",
        "Name, credentials, NPI, practice, address, phone, fax: used by every letter",
        lambda: app.push_screen(SettingsScreen(None)),
    )


def _is_regular_file(path: Path) -> bool:
    """A regular file at the name itself (a link is not followed)."""
    import os
    import stat

    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
