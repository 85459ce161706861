"""Call information and preparation: every field optional, quick to skip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from p2pcall.domain.fields import Group, fields_for
from p2pcall.screens.base import CallScreen
from p2pcall.widgets.fields import FieldEdited, FieldForm

if TYPE_CHECKING:
    from p2pcall.session import CallSession

FAR_DATE_KEYS = ("denial_date", "denial_received", "sent_to_plan", "care_ends", "p2p_deadline")


class CallInfoScreen(CallScreen):
    def __init__(self, session: CallSession) -> None:
        super().__init__(session, name="call-info", classes="info-screen")

    def compose_body(self) -> ComposeResult:
        live = self.session
        yield Static(Content("Call information and preparation"), classes="section-title")
        yield Static(
            Content(
                "All optional: fill what you have, skip the rest. F1 (or Ctrl+N) starts the "
                "agenda at A. Patient: initials or a chart number, never the full name."
            ),
            classes="points",
        )
        far_dates = Static(id="far-dates", classes="warning")
        far_dates.display = False  # until a date asks a question (never a first-frame flash)
        yield far_dates
        yield FieldForm(
            fields_for(Group.INFO, editable_only=True),
            live.call.values,
            live.call.declined,
            id="fields",
        )

    def on_mount(self) -> None:
        # (CallScreen's own on_mount runs too: Textual calls every handler in the MRO.)
        self.query_one(FieldForm).focus_first()
        self._check_far_dates()

    def on_field_edited(self, event: FieldEdited) -> None:
        # CallScreen's handler saves the field; this one only re-checks the dates.
        if event.final or event.key in FAR_DATE_KEYS:
            self._check_far_dates()

    def _check_far_dates(self) -> None:
        """A date over 60 days from the call gets a one-line 'did you mean' (kept as typed)."""
        from p2pcall.domain.followups import far_date_questions
        from p2pcall.domain.timefmt import now_utc

        live = self.session
        warning = self.query_one("#far-dates", Static)
        questions = [
            q for _v, q in far_date_questions(live.call, now_utc(), "confirm it at the wrap-up.")
        ]
        warning.update(Content("\n".join(f"\u26a0 {q}" for q in questions[:2])))
        warning.display = bool(questions)
