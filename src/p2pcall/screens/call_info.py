"""Call information and preparation: every field optional, quick to skip."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from p2pcall.domain.fields import Group, fields_for
from p2pcall.screens.base import CallScreen
from p2pcall.widgets.fields import FieldForm


class CallInfoScreen(CallScreen):
    def __init__(self) -> None:
        super().__init__(name="call-info", classes="info-screen")

    def compose_body(self) -> ComposeResult:
        live = self.app.live  # type: ignore[attr-defined]
        yield Static(Content("Call information and preparation"), classes="section-title")
        yield Static(
            Content(
                "All optional: fill what you have, skip the rest. F1 (or Ctrl+N) starts the "
                "agenda at A. Patient: initials or a chart number, never the full name."
            ),
            classes="points",
        )
        yield FieldForm(
            fields_for(Group.INFO, editable_only=True),
            live.call.values,
            live.call.declined,
            id="fields",
        )

    def on_mount(self) -> None:
        self.query_one(FieldForm).focus_first()
