"""Shown instead of the home screen when the records cannot be opened."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from p2pcall.widgets.keybar import KeyBar


class ProblemScreen(Screen[None]):
    BINDINGS = [Binding("q,escape", "app.quit", "Quit", id="quit-problem")]

    def __init__(self, reason: str, data_dir: str, server: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.data_dir = data_dir
        self.server = server  # the practice server asked for (shown without secrets), if any

    def compose(self) -> ComposeResult:
        with Vertical(id="problem"):
            yield Static(Content("p2pcall cannot open your records"), classes="section-title")
            yield Static(Content(self.reason), classes="warning")
            if self.server is not None:
                if "password" in self.reason:
                    then = "Start p2pcall again to type the password again (or set it up in "
                    then += "~/.pgpass: docs/team.md)."
                else:
                    then = "When it answers again, start p2pcall again."
                where = (
                    f"Practice server: {self.server}\n\nNothing was written. {then} The records "
                    "on this computer are used when p2pcall starts without --database and "
                    "without P2PCALL_DATABASE_URL."
                )
            else:
                where = (
                    f"Data folder: {self.data_dir}\n\nNothing was written. To use another "
                    "folder, start with --data-dir PATH or set P2PCALL_DATA_DIR."
                )
            yield Static(Content(where), classes="points")
        yield KeyBar()
