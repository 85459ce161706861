"""End the call: stamp the end time and record the outcome."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from p2pcall.domain.vocab import Outcome
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.marked import MarkedOptionList


class OutcomeList(MarkedOptionList):
    # The list's own Enter, named for the footer: it picks the highlighted outcome.
    BINDINGS = [Binding("enter", "select", "End call", id="confirm-end")]


class EndCallScreen(ModalScreen[Outcome | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back to the call", id="cancel-end")]

    def __init__(self, summary: str, unsent: list[str], default: Outcome | None) -> None:
        super().__init__()
        self.summary = summary
        self.unsent = unsent
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="end-dialog"):
            yield Static(Content("End the call"), classes="section-title")
            yield Static(Content(self.summary), classes="points")
            if self.unsent:
                yield Static(
                    Content(
                        "Unsent text in section "
                        + ", ".join(self.unsent)
                        + ": it stays as a draft. Press Esc and Ctrl+S to save it first."
                    ),
                    classes="warning",
                )
            yield Static(Content("Outcome (\u2191\u2193 then Enter):"))
            yield OutcomeList(
                *[(outcome.value, outcome.label) for outcome in Outcome],
                id="outcomes",
            )
        yield KeyBar()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = list(Outcome).index(self.default) if self.default else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(next(o for o in Outcome if o.value == event.option.id))
