"""What every screen of a live call shares: the call bar, the agenda strip and navigation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from p2pcall.domain.sections import Section
from p2pcall.host import host
from p2pcall.screens.names import INFO_SCREEN, section_screen_name  # noqa: F401
from p2pcall.widgets.callbar import AgendaStrip, CallBar, CallTitle
from p2pcall.widgets.fields import FieldEdited, FieldForm
from p2pcall.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from p2pcall.session import CallSession


def _section_bindings() -> list[Binding]:
    bindings = []
    for index, section in enumerate(Section, start=1):
        letter = section.value.lower()
        bindings.append(
            Binding(
                f"f{index},alt+{letter}",
                f"goto('{section.value}')",
                "A-G" if index == 1 else f"Section {section.value}",
                key_display="F1-7" if index == 1 else None,
                show=index == 1,
                id=f"section-{letter}",
                tooltip=f"Go to {section.title} (F{index} or Alt+{section.value})",
                priority=True,
            )
        )
    return bindings


class CallScreen(Screen[None]):
    """Base for the call-info screen and the seven section screens: each shows one open call,
    the `session` it is built with (the App builds a call's screens when it opens)."""

    section: Section | None = None

    def __init__(self, session: CallSession, *, name: str, classes: str) -> None:
        super().__init__(name=name, classes=classes)
        self.session = session

    BINDINGS = [
        *_section_bindings(),
        Binding(
            "ctrl+n", "step(1)", "Next", id="next-section", priority=True, tooltip="Next section"
        ),
        Binding(
            "ctrl+b",
            "step(-1)",
            "Prev",
            id="previous-section",
            priority=True,
            tooltip="Previous section",
        ),
        Binding(
            "f8,alt+i", "goto('info')", "Info", id="call-info", key_display="F8", priority=True
        ),
        Binding(
            "f9",
            "connect",
            "Connected",
            id="connect-call",
            key_display="F9",
            priority=True,
            tooltip="The reviewer is on the line: start the call's clock (a prepared call)",
        ),
        Binding("ctrl+g", "end_call", "End", id="end-call", priority=True, tooltip="End the call"),
        Binding(
            "ctrl+r", "decline_field", "Declined", id="decline-field", show=False, priority=True
        ),
        Binding("tab", "app.focus_next", "Next field", id="next-field", show=False),
        Binding(
            "shift+tab", "app.focus_previous", "Previous field", id="previous-field", show=False
        ),
        Binding(
            "ctrl+f",
            "focus_fields",
            "Fields",
            id="focus-fields",
            show=False,
            priority=True,
            tooltip="Go to the fields",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield CallBar(self.session, id="call-bar")
        yield AgendaStrip(self.session, self.section, id="agenda")
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        if self.session.call.finalized:
            for form in self.query(FieldForm):
                form.disabled = True  # the database refuses changes too; this says so up front

    def action_goto(self, target: str) -> None:
        host(self).goto(target)

    def action_step(self, offset: int) -> None:
        if self.section is None:
            target = Section.A if offset > 0 else None
        else:
            target = self.section.step(offset)
            if offset < 0 and self.section is Section.A:
                target = None
        host(self).goto(target.value if target else "info")

    def action_connect(self) -> None:
        self.session.connect()

    def action_end_call(self) -> None:
        host(self).ask_end_call()

    def action_focus_fields(self) -> None:
        forms = self.query(FieldForm)
        if forms:
            forms.first().focus_first()

    def action_decline_field(self) -> None:
        for form in self.query(FieldForm):
            row = form.row_with_focus()
            if row is not None:
                row.toggle_declined()
                return
        self.notify("Move to a reviewer field first (Ctrl+F), then Ctrl+R marks it declined.")

    def on_field_edited(self, event: FieldEdited) -> None:
        event.stop()
        self.session.edit_field(event.key, event.value, event.declined, final=event.final)
        if event.key in ("patient_ref", "insurer"):
            # The screen in view too: in a burst ("n QA-1 Tab Gamma F1") the section is
            # already showing when the edits made on the info screen arrive.
            _refresh_titles(self)
            _refresh_titles(self.app.screen)

    def on_screen_resume(self) -> None:
        # Screens are kept per call: one built before the patient ref or insurer was typed
        # would otherwise show the old title. (Runs besides a subclass's own handler.)
        _refresh_titles(self)


def _refresh_titles(screen: Screen[Any]) -> None:
    for title in screen.query(CallTitle):
        title.refresh_title()
