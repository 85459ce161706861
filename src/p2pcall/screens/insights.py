"""Insights (`i` on home): patterns across calls, as charts and, one key away, as a table.

Charts: outcomes per quarter as stacked bars (textual-plotext) and monthly calls as a
sparkline. The table: one row per insurer, vendor, reviewer, criteria set or month (`g`
steps through them), every rate with its denominator in the JSON of `p2pcall stats`.
Filters as in history (insurer contains, since, until: days in this computer's zone).
Everything is counted in SQL in the database thread (store/stats.py); a filter change asks
again after a short pause, and an answer for an older filter is dropped.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Sparkline, Static
from textual.widgets.data_table import ColumnKey
from textual_plotext import PlotextPlot

from p2pcall import queries
from p2pcall.domain.history import FilterError, HistoryFilter, parse_day
from p2pcall.domain.stats import GROUPINGS, OUTCOME_KEYS, GroupStats, StatsReport, rate_cells
from p2pcall.domain.text import one_line
from p2pcall.host import host
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput

DEBOUNCE_SECONDS = 0.15
QUARTERS_SHOWN = 8
OUTCOME_SHORT = {
    "approved": "Approved",
    "partially_approved": "Partly",
    "denied": "Denied",
    "pending": "Pending",
    "educational_only": "Educational",
}
TABLE_COLUMNS = ("Calls", "Appr", "Part", "Den", "Overt", "SameSp", "NoName", "Kept", "Dec.d")


def quarters(months: StatsReport) -> list[tuple[str, dict[str, int]]]:
    """Outcome counts per calendar quarter, from the month rows counted in SQL."""
    out: dict[str, dict[str, int]] = {}
    for group in months.groups:
        year, month = group.key.split("-")
        label = f"{year[2:]}Q{(int(month) - 1) // 3 + 1}"
        counts = out.setdefault(label, dict.fromkeys(OUTCOME_KEYS, 0))
        for key in OUTCOME_KEYS:
            counts[key] += group.outcomes.get(key, 0)
    return list(out.items())[-QUARTERS_SHOWN:]


def monthly_counts(months: StatsReport) -> list[int]:
    """Calls per month from the first month to the last, months without calls as 0."""
    if not months.groups:
        return []
    found = {group.key: group.calls for group in months.groups}
    year, month = (int(part) for part in months.groups[0].key.split("-"))
    last = months.groups[-1].key
    counts = []
    while True:
        key = f"{year:04d}-{month:02d}"
        counts.append(found.get(key, 0))
        if key >= last:
            return counts
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def table_cells(group: GroupStats) -> tuple[str, ...]:
    return (*rate_cells(group), group.days_to_decision.days().replace(" d", ""))


class ChartsView(Vertical, can_focus=True):
    """The charts: focusable, so the screen's keys work while they are shown."""


class InsightsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="insights-back", tooltip="Back to home"),
        Binding(
            "t",
            "toggle_table",
            "Table",
            id="insights-table",
            tooltip="The numbers as a table (t again: the charts)",
        ),
        Binding(
            "g",
            "next_grouping",
            "Group by",
            id="insights-group",
            tooltip="Table rows per insurer, vendor, reviewer, criteria set or month",
        ),
        Binding(
            "ctrl+f",
            "filters",
            "Filters",
            id="insights-filters",
            tooltip="Go to the filters (insurer, since, until)",
        ),
    ]

    # The charts have focus first, so t and g act at once; Ctrl+F goes to the filters.
    AUTO_FOCUS = "#insights-charts"

    DEFAULT_CSS = """
    #insights-filters { height: 1; padding: 0 1; }
    #insights-filters Label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    #insights-filters Input { width: 1fr; }
    #insights-filters .date { width: 12; }
    #insights-status { height: 1; padding: 0 1; color: $text-muted; }
    #insights-views { height: 1fr; }
    #insights-spark-label { height: 1; padding: 0 1; color: $text-muted; }
    #insights-spark { height: 2; padding: 0 1; }
    #insights-plot { height: 1fr; }
    #insights-table-view { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(name="insights")
        self.by = "insurer"
        self.generation = 0
        self.shown: tuple[StatsReport, StatsReport] | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content("Insights: patterns across calls"), classes="section-title")
        with Horizontal(id="insights-filters"):
            yield Label("Insurer")
            yield LiteralInput(placeholder="contains", compact=True, id="insights-insurer")
            yield Label(" Since")
            yield LiteralInput(placeholder="YYYY-MM-DD", compact=True, id="insights-since",
                               classes="date")  # fmt: skip
            yield Label(" Until")
            yield LiteralInput(placeholder="YYYY-MM-DD", compact=True, id="insights-until",
                               classes="date")  # fmt: skip
        yield Static(Content("Counting\u2026"), id="insights-status")
        with ContentSwitcher(initial="insights-charts", id="insights-views"):
            with ChartsView(id="insights-charts"):
                yield Static(id="insights-spark-label")
                yield Sparkline([], id="insights-spark")
                yield PlotextPlot(id="insights-plot")
            yield DataTable(id="insights-table-view", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(self.by.capitalize(), key="label", width=18)
        for name in TABLE_COLUMNS:
            table.add_column(name, key=name)
        self.ask()

    # -- asking ---------------------------------------------------------------------------

    def _filter(self) -> HistoryFilter:
        from p2pcall.domain.timefmt import local_tz_name

        def day(widget_id: str, what: str) -> Any:
            text = self.query_one(widget_id, Input).value
            return parse_day(text, what) if text.strip() else None

        return HistoryFilter(
            insurer=self.query_one("#insights-insurer", Input).value,
            since=day("#insights-since", "since"),
            until=day("#insights-until", "until"),
            tz=local_tz_name(),
        )

    def ask(self) -> None:
        try:
            flt = self._filter()
        except FilterError as exc:
            self._status(str(exc)[:1].upper() + str(exc)[1:] + ".")
            return
        self.generation += 1
        generation, by, tz = self.generation, self.by, flt.tz or ""
        host(self).db.read(
            lambda store: queries.call_stats(store, by, flt, tz),
            lambda result: self._show(generation, result),
            self._failed,
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._ask_after_pause)

    @property
    def search_pending(self) -> bool:
        """A filter change waits out the typing pause (the typing tests wait for it)."""
        return self._timer is not None

    def _ask_after_pause(self) -> None:
        self._timer = None
        self.ask()

    def _failed(self, error: str) -> None:
        self._status(error)

    def _status(self, text: str) -> None:
        self.query_one("#insights-status", Static).update(Content(one_line(text)))

    # -- showing --------------------------------------------------------------------------

    def _show(self, generation: int, result: tuple[StatsReport, StatsReport]) -> None:
        if generation != self.generation:
            return  # an answer for a filter the user has since changed
        self.shown = result
        months, table = result
        total = months.total
        self._status(
            f"{total.calls} calls \u00b7 approved {total.outcome_rate('approved').percent()}"
            f" \u00b7 denied {total.outcome_rate('denied').percent()} \u00b7 same specialty "
            f"{total.same_specialty.percent()} \u00b7 promises kept "
            f"{total.promises_kept.percent()}"
        )
        self._draw_charts(months)
        self._fill_table(table)

    def _draw_charts(self, months: StatsReport) -> None:
        counts = monthly_counts(months)
        label = self.query_one("#insights-spark-label", Static)
        if counts:
            first, last = months.groups[0].key, months.groups[-1].key
            label.update(
                Content(f"Calls per month, {first} to {last} (most in a month: {max(counts)})")
            )
        else:
            label.update(Content("No calls match."))
        self.query_one(Sparkline).data = counts or [0]
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        rows = quarters(months)
        if rows:
            labels = [quarter for quarter, _ in rows]
            series = [[counts[key] for _, counts in rows] for key in OUTCOME_KEYS]
            # plotext's stacked_bar takes `labels`; textual-plotext's typed wrapper says `label`.
            legend = [OUTCOME_SHORT[key] for key in OUTCOME_KEYS]
            plt.stacked_bar(labels, series, labels=legend)  # type: ignore[call-arg]  # stub: see above
        plt.title("Outcomes per quarter")
        plot.refresh()

    def _fill_table(self, report: StatsReport) -> None:
        table = self.query_one(DataTable)
        table.clear()
        column = table.columns.get(ColumnKey("label"))
        if column is not None:
            # Typed as Rich Text; DataTable draws Content (our literal text) just the same.
            column.label = Content(self.by.capitalize())  # type: ignore[assignment]  # see above
        for group in report.groups:
            table.add_row(Content(one_line(group.label, 18)), *table_cells(group))
        table.add_row(Content("All calls"), *table_cells(report.total))

    # -- actions ----------------------------------------------------------------------------

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            switcher = self.query_one(ContentSwitcher)
            self.query_one(f"#{switcher.current}").focus()
            return
        self.dismiss()

    def action_toggle_table(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        showing_table = switcher.current == "insights-table-view"
        switcher.current = "insights-charts" if showing_table else "insights-table-view"
        # Once shown: a hidden widget does not take focus.
        shown = self.query_one(f"#{switcher.current}")
        self.call_after_refresh(shown.focus)

    def action_next_grouping(self) -> None:
        index = GROUPINGS.index(self.by)
        self.by = GROUPINGS[(index + 1) % len(GROUPINGS)]
        self.notify(f"Table rows per {self.by}.", timeout=2)
        self.ask()

    def action_filters(self) -> None:
        self.query_one("#insights-insurer", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Letters typed in a filter box are text, not keys of this screen.
        typing = isinstance(self.focused, Input)
        return not (typing and action in ("toggle_table", "next_grouping"))
