"""Home: start a call, resume an unfinished one, open a recent one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from p2pcall.host import host
from p2pcall.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from p2pcall.domain.followups import DueReport
    from p2pcall.domain.models import Call, CallSummary
    from p2pcall.queries import HomeCalls


@dataclass(frozen=True)
class CallLine:
    call_id: int
    unfinished: bool
    text: str
    upcoming: bool = False  # prepared, not connected yet


def home_lines(calls: HomeCalls) -> list[CallLine]:
    """Runs in the database thread (after `queries.home_calls`): formatting stays off the
    UI thread."""
    return (
        [_upcoming_line(summary, call) for summary, call in calls.upcoming]
        + [_line(s, True) for s in calls.unfinished]
        + [_line(s, False) for s in calls.recent]
    )


def _upcoming_line(summary: CallSummary, call: Call) -> CallLine:
    """A prepared call: when it is scheduled, and by when the P2P must be asked for."""
    from p2pcall.domain.text import one_line
    from p2pcall.domain.upcoming import upcoming_text

    who = " \u00b7 ".join(
        one_line(value, 20) for value in (summary.patient_ref, summary.insurer) if value
    )
    return CallLine(
        summary.id, True, f"\u25cc Upcoming #{summary.id}  {who}  {upcoming_text(call)}", True
    )


def _line(summary: CallSummary, unfinished: bool) -> CallLine:
    from p2pcall.domain.text import count, one_line
    from p2pcall.domain.timefmt import call_length, stamp

    who = " \u00b7 ".join(
        one_line(value, 24) for value in (summary.patient_ref, summary.insurer) if value
    )
    when = stamp(summary.started_at or summary.created_at)[:16]
    notes = count(summary.note_count, "note")
    if unfinished:
        text = f"\u25b6 Resume call #{summary.id}  {when}  {who or '(no details yet)'}  {notes}"
    else:
        duration = ""
        if summary.started_at and summary.ended_at:
            duration = call_length(summary.started_at, summary.ended_at)
        outcome = summary.outcome.label if summary.outcome else ""
        if not summary.finalized:
            outcome += " · wrap-up pending"  # Ctrl+G in the call brings it back
        text = f"  Call #{summary.id}  {when}  {who}  {outcome}  {duration}  {notes}"
    return CallLine(summary.id, unfinished, text)


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "new_call", "New call", id="new-call", tooltip="Start a call now"),
        Binding(
            "p",
            "prepare_call",
            "Prepare",
            id="prepare-call",
            tooltip="Prepare a call ahead: its clock starts at F9 when the reviewer is on",
            priority=True,
        ),
        Binding(
            "r",
            "resume",
            "Resume",
            id="resume-call",
            tooltip="Resume the unfinished call",
        ),
        Binding("h", "history", "History", id="history", tooltip="Find a past call"),
        Binding(
            "slash",
            "history(True)",
            "Search",
            id="history-search-home",
            key_display="/",
            tooltip="Search past calls",
        ),
        Binding("q", "app.quit", "Quit", id="quit-home", show=False),
        Binding(
            "d",
            "due",
            "Due",
            id="show-due",
            tooltip="Follow-ups overdue, due today and due this week, across all calls",
        ),
        Binding(
            "i",
            "insights",
            "Insights",
            id="show-insights",
            tooltip="Patterns across calls: charts and tables per insurer, vendor, reviewer",
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="home"):
            yield Static(Content("p2pcall"), id="brand")
            yield Static(
                Content("Notes for insurer peer-to-peer calls, saved as you type."),
                classes="points",
            )
            yield Static(Content("Opening your records\u2026"), id="home-status", classes="hint")
            where = Static(id="home-server", classes="hint")
            where.display = False  # the local file needs no words; a server is named
            yield where
            yield Static(id="zone-notice", classes="warning")
            yield Static(id="due-panel")
            yield OptionList(id="calls")
        yield KeyBar()

    def show_calls(self, lines: list[CallLine]) -> None:
        self.lines = lines
        calls = self.query_one("#calls", OptionList)
        calls.clear_options()
        calls.add_options(
            [
                Option(
                    Content.assemble((line.text, "bold $warning" if line.unfinished else "")),
                    id=str(line.call_id),
                )
                for line in lines
            ]
        )
        unfinished = [line for line in lines if line.unfinished and not line.upcoming]
        status = self.query_one("#home-status", Static)
        if unfinished:
            status.update(
                Content.assemble(
                    (
                        f"Unfinished call waiting: r resumes call #{unfinished[0].call_id}",
                        "bold $warning",
                    ),
                    ", n to start a new one.",
                )
            )
        elif lines:
            status.update(Content("n starts a call now, p prepares one ahead. Enter opens a call."))
        else:
            status.update(
                Content("No calls yet. n when the reviewer is on the line, p to prepare ahead.")
            )
        if lines:
            calls.highlighted = 0
            calls.focus()

    def show_server(self, server: str, role: str | None) -> None:
        """Where the records are when they are on a practice server, and as whom."""
        panel = self.query_one("#home-server", Static)
        as_role = f" (as {role})" if role else ""
        panel.update(Content(f"Records on the practice server: {server}{as_role}"))
        panel.display = True

    def show_zone_notice(self, notice: str | None) -> None:
        """TZ set to something that is not a zone name (UTC+3): say what times mean."""
        panel = self.query_one("#zone-notice", Static)
        panel.update(Content(notice or ""))
        panel.display = bool(notice)

    def show_due(self, report: DueReport) -> None:
        from p2pcall.screens.due import due_summary

        self.query_one("#due-panel", Static).update(due_summary(report))

    def action_due(self) -> None:
        host(self).show_due()

    def action_new_call(self) -> None:
        host(self).new_call()

    def action_prepare_call(self) -> None:
        host(self).prepare_call()

    def action_resume(self) -> None:
        if not host(self).records_open(self.action_resume):
            return
        lines = getattr(self, "lines", [])
        unfinished = [line for line in lines if line.unfinished and not line.upcoming]
        if unfinished:
            host(self).open_call(unfinished[0].call_id)
        else:
            self.notify("There is no unfinished call.", timeout=3)

    def action_insights(self) -> None:
        if not host(self).records_open(self.action_insights):
            return
        from p2pcall.screens.insights import InsightsScreen

        self.app.push_screen(InsightsScreen())

    def action_history(self, search: bool = False) -> None:
        if not host(self).records_open(lambda: self.action_history(search)):
            return
        from p2pcall.screens.history import HISTORY_SCREEN, HistoryScreen

        # Installed once and kept: opening it again skips building its widgets.
        if not self.app.is_screen_installed(HISTORY_SCREEN):
            self.app.install_screen(HistoryScreen(), HISTORY_SCREEN)
        screen = self.app.get_screen(HISTORY_SCREEN)
        assert isinstance(screen, HistoryScreen)  # installed just above, under this name
        screen.opened_from_home(search=search)
        self.app.push_screen(HISTORY_SCREEN)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            host(self).open_call(int(event.option.id))
