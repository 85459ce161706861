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

    def __init__(self, reason: str, data_dir: str) -> None:
        super().__init__()
        self.reason = reason
        self.data_dir = data_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="problem"):
            yield Static(Content("p2pcall cannot open your records"), classes="section-title")
            yield Static(Content(self.reason), classes="warning")
            yield Static(
                Content(
                    f"Data folder: {self.data_dir}\n\nNothing was written. To use another "
                    "folder, start with --data-dir PATH or set P2PCALL_DATA_DIR."
                ),
                classes="points",
            )
        yield KeyBar()
