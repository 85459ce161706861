"""The practice server's password, asked in the app when libpq has none (~/.pgpass first)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput


class PasswordScreen(ModalScreen[str | None]):
    """Enter gives the password to the connection (kept in memory only); Esc gives none."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="cancel-password"),
        Binding("enter", "send", "Connect", id="send-password", priority=True),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="password-dialog", classes="record-dialog"):
            yield Static(Content("Practice server"), classes="section-title")
            yield Static(Content(self.question), classes="points")
            yield Static(
                Content(
                    "The password is not shown, not saved and not logged. To skip this "
                    "question, put it in ~/.pgpass (docs/team.md). Esc: do not connect."
                ),
                classes="hint",
            )
            yield LiteralInput(password=True, id="server-password")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(LiteralInput).focus()

    def action_send(self) -> None:
        self.dismiss(self.query_one(LiteralInput).value)
