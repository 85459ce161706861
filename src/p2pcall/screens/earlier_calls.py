"""The linked reviewer's earlier calls, opened from section B with Alt+H during a call.

Same columns as history; Enter shows a call's record (read only: no resume during a call).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.widgets.option_list import Option

from p2pcall import queries
from p2pcall.domain.models import CallSummary
from p2pcall.domain.reviewers import Reviewer
from p2pcall.host import host
from p2pcall.screens.detail import DetailScreen
from p2pcall.screens.history import HistoryRow, HistoryTable, format_row, header_line, row_line
from p2pcall.widgets.keybar import KeyBar

MAX_SHOWN = 200


def earlier_rows(summaries: list[CallSummary]) -> list[HistoryRow]:
    """Database thread (after `queries.call_summaries`): the calls, formatted in this
    computer's time zone."""
    from zoneinfo import ZoneInfo

    from p2pcall.domain.models import HistoryEntry
    from p2pcall.domain.timefmt import local_tz_name

    zone = ZoneInfo(local_tz_name())
    return [format_row(HistoryEntry(summary, None), zone) for summary in summaries]


class EarlierCallDetail(DetailScreen):
    """A past call's record, read during a live call: it cannot be resumed from here."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume":
            return False
        return super().check_action(action, parameters)


class EarlierCallsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back", id="earlier-back", tooltip="Back to the call"),
    ]

    DEFAULT_CSS = """
    EarlierCallsScreen { align: center middle; }
    #earlier-dialog { width: 100%; height: 100%; background: $surface; }
    #earlier-list { height: 1fr; }
    """

    def __init__(self, reviewer: Reviewer, ids: tuple[int, ...]) -> None:
        super().__init__()
        self.reviewer = reviewer
        self.ids = ids

    def compose(self) -> ComposeResult:
        with Vertical(id="earlier-dialog"):
            more = f" (newest {MAX_SHOWN})" if len(self.ids) > MAX_SHOWN else ""
            yield Static(
                Content(f"Earlier calls with {self.reviewer.summary()}{more}"),
                classes="section-title",
            )
            yield Static(Content(header_line()), classes="points")
            yield HistoryTable(id="earlier-list")
        yield KeyBar()

    def on_mount(self) -> None:
        ids = self.ids
        self.query_one(HistoryTable).focus()
        host(self).db.read(
            lambda store: earlier_rows(queries.call_summaries(store, list(ids[:MAX_SHOWN]))),
            self._show,
            self._failed,
        )

    def _show(self, rows: list[HistoryRow]) -> None:
        table = self.query_one(HistoryTable)
        table.clear_options()
        table.add_options(Option(Content(row_line(row)), id=str(row.call_id)) for row in rows)
        if rows:
            table.highlighted = 0

    def _failed(self, error: str) -> None:
        self.notify(error, severity="error", timeout=6)

    def on_option_list_option_selected(self, event: HistoryTable.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.app.push_screen(EarlierCallDetail(int(event.option.id)))
