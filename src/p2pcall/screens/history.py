"""History: every past call, newest first, with filters and full-text search.

Queries and row formatting run in the database thread; the screen only swaps rows in.
Typing in the search or filter boxes waits for a short pause (debounce) before asking,
and an answer that arrives after a newer question was asked is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from p2pcall import queries
from p2pcall.domain.history import (
    UNFINISHED,
    FilterError,
    HistoryFilter,
    parse_day,
    search_words,
)
from p2pcall.domain.vocab import Outcome
from p2pcall.host import host
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput

if TYPE_CHECKING:
    from p2pcall.domain.models import HistoryEntry, HistoryPage

HISTORY_SCREEN = "history"  # installed name: the screen is built once and kept
DEBOUNCE_SECONDS = 0.2
PAGE_SIZE = 40  # two screenfuls; the next page comes as the cursor nears the end
LOAD_MORE_WITHIN = 10  # rows from the end of the list at which the next page is fetched

# (label, width including the one-space gap after it): 77 columns, a scrollbar fits in 80
COLUMNS = (
    ("When", 21),
    ("Patient", 9),
    ("Insurer", 15),
    ("Review", 12),
    ("Outcome", 12),
    ("Length", 8),
)
REVIEW_SHORT = {
    "pre_service": "Pre-service",
    "concurrent": "Concurrent",
    "retrospective": "Retro",
    "appeal": "Appeal",
}
OUTCOME_SHORT = {
    Outcome.APPROVED: "Approved",
    Outcome.PARTIAL: "Partial",
    Outcome.DENIED: "Denied",
    Outcome.PENDING: "Pending",
    Outcome.EDUCATIONAL: "Educational",
}


@dataclass(frozen=True)
class HistoryRow:
    """One row as shown: plain strings, already masked and cut to their columns."""

    call_id: int
    cells: tuple[str, ...]
    unfinished: bool
    match_where: str  # "note in B", "Insurer", ... or "" without a search
    match_text: str
    match_marks: tuple[tuple[int, int], ...]


def history_rows(page: HistoryPage, flt: HistoryFilter) -> tuple[HistoryPage, list[HistoryRow]]:
    """Runs in the database thread (after `queries.history_page`): the rows, formatted."""
    from zoneinfo import ZoneInfo

    from p2pcall.domain.timefmt import local_tz_name

    zone = ZoneInfo(flt.tz or local_tz_name())
    return page, [format_row(entry, zone) for entry in page.entries]


def format_row(entry: HistoryEntry, zone: tzinfo) -> HistoryRow:
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import elapsed

    s = entry.summary
    # zoneinfo rather than pendulum here: a page is formatted while the user waits.
    local = (s.started_at or s.created_at).astimezone(zone)
    when = local.strftime("%Y-%m-%d %H:%M ") + local.strftime("%z")[:3]  # ... 14:02 -05
    if s.ended_at is None:
        outcome = "\u25b6 open"
    else:
        outcome = OUTCOME_SHORT.get(s.outcome, "") if s.outcome else ""
    length = "" if s.duration_seconds is None else elapsed(s.duration_seconds)
    values = (
        when,
        s.patient_ref or "\u2014",
        s.insurer or "\u2014",
        REVIEW_SHORT.get(s.review_type, s.review_type),
        outcome,
        length,
    )
    cells = tuple(
        one_line(value, width - 1) for value, (_label, width) in zip(values, COLUMNS, strict=True)
    )
    where, text = "", ""
    marks: tuple[tuple[int, int], ...] = ()
    if entry.match is not None:
        match = entry.match
        where, text, marks = match.place, match.snippet, match.marks
    return HistoryRow(s.id, cells, s.ended_at is None, where, text, marks)


class HistoryTable(OptionList):
    """One pre-formatted line per call: far cheaper to draw than a DataTable's cells."""

    # Shown in the footer while the list has focus; the screen's own Enter binding is the
    # one the command palette lists.
    BINDINGS = [
        Binding("enter", "select", "Open", id="history-open-list", tooltip="Open the call"),
    ]


def header_line() -> str:
    return "".join(label.ljust(width) for label, width in COLUMNS)


def row_line(row: HistoryRow) -> str:
    return "".join(
        cell.ljust(width) for cell, (_label, width) in zip(row.cells, COLUMNS, strict=True)
    ).rstrip()


class HistoryScreen(Screen[None]):
    """Reached from home with `h` (or `/` to start in the search box)."""

    BINDINGS = [
        Binding(
            "enter",
            "open_highlighted",
            "Open",
            id="history-open",
            key_display="\u23ce",
            tooltip="Open the highlighted call",
        ),
        Binding("escape", "back", "Back", id="history-back", tooltip="Back (list, then home)"),
        Binding("slash", "search", "Search", id="history-search", key_display="/"),
        Binding(
            "ctrl+f",
            "filters",
            "Filters",
            id="history-filters",
            priority=True,
            tooltip="Go to the filters (insurer, outcome, dates)",
        ),
        Binding(
            "ctrl+r",
            "clear",
            "Reset",
            id="history-clear",
            priority=True,
            tooltip="Clear the search and every filter",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.search_first = False
        self.fresh = True  # opened from home: ask again (back from a detail: keep the place)
        self.rows: list[HistoryRow] = []
        self.has_more = False
        self.fetching = False  # not `loading`: that is Widget's spinner overlay
        self.generation = 0  # bumped on every new question; older answers are dropped
        self.filter = HistoryFilter()
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="history-head"):
            yield Static(Content("History"), id="history-title")
            yield Static(Content("Loading\u2026"), id="history-status")
        with Horizontal(classes="history-bar"):
            yield Label("Search", classes="history-label")
            yield LiteralInput(
                placeholder="words from a note, a name, a reference\u2026",
                compact=True,
                id="search",
            )
        with Horizontal(classes="history-bar"):
            yield Label("Insurer", classes="history-label")
            yield LiteralInput(placeholder="any", compact=True, id="insurer")
            yield Select(
                [(o.label, o.value) for o in Outcome] + [("Unfinished", UNFINISHED)],
                prompt="Any outcome",
                compact=True,
                id="outcome",
            )
            yield Label("From", classes="history-label-short")
            yield LiteralInput(placeholder="YYYY-MM-DD", compact=True, id="since")
            yield Label("to", classes="history-label-short")
            yield LiteralInput(placeholder="YYYY-MM-DD", compact=True, id="until")
        yield Static(Content(header_line()), id="history-header")
        yield HistoryTable(id="history-table")
        yield Static(Content(""), id="history-match")
        yield KeyBar()

    @property
    def search_pending(self) -> bool:
        """A search waits out the typing pause (the typing tests wait for it to run)."""
        return self._debounce is not None

    def opened_from_home(self, *, search: bool) -> None:
        self.search_first = search
        self.fresh = True

    def on_screen_resume(self) -> None:
        if not self.fresh:
            return
        self.fresh = False
        if self.search_first:
            self.query_one("#search").focus()
        else:
            self.query_one(HistoryTable).focus()
        self.ask()  # calls may have been added since it was last shown

    # -- asking the store -------------------------------------------------------------------

    def ask(self, *, more: bool = False) -> None:
        """Fetch the first page for the current filter (or, with `more`, the next page)."""
        if more:
            if self.fetching or not self.has_more:
                return
            offset = len(self.rows)
        else:
            self.generation += 1
            offset = 0
        self.fetching = True
        generation, flt = self.generation, self.filter
        host(self).ask_store(
            lambda store: history_rows(queries.history_page(store, flt, offset, PAGE_SIZE), flt),
            lambda result: self._show(generation, offset, result),
            lambda error: self._failed(generation, error),
        )

    def _show(
        self, generation: int, offset: int, result: tuple[HistoryPage, list[HistoryRow]]
    ) -> None:
        if generation != self.generation:
            return  # a newer question was asked while this one ran
        self.fetching = False
        page, rows = result
        table = self.query_one(HistoryTable)
        if offset == 0:
            table.clear_options()
            self.rows = []
        self.rows.extend(rows)
        self.has_more = page.has_more
        table.add_options(
            Option(
                Content.styled(row_line(row), "bold" if row.unfinished else ""),
                id=str(row.call_id),
            )
            for row in rows
        )
        if offset == 0:
            if rows:
                table.highlighted = 0
            self._show_status()
        self._show_match()

    def _failed(self, generation: int, error: str) -> None:
        if generation == self.generation:
            self.fetching = False
            self._status(Content.assemble(("Could not read the history: ", "bold $error"), error))

    def _show_status(self) -> None:
        flt = self.filter
        shown = len(self.rows)
        if not shown:
            what = "No calls match." if flt.active else "No calls yet."
            self._status(Content(what))
            return
        more = "+" if self.has_more else ""
        noun = "match" if flt.fts_query else "call"
        plural = "" if shown == 1 and not more else ("es" if noun == "match" else "s")
        self._status(Content(f"{shown}{more} {noun}{plural}, newest first"))
        if self.has_more and not flt.fts_query:
            generation = self.generation
            host(self).db.read(
                lambda store: queries.count_calls(store, flt),
                lambda total: self._show_total(generation, total),
                what="count the calls",
            )

    def _show_total(self, generation: int, total: int) -> None:
        if generation == self.generation:
            noun = "call" if total == 1 else "calls"
            self._status(Content(f"{total:,} {noun}, newest first"))

    def _status(self, content: Content) -> None:
        self.query_one("#history-status", Static).update(content)

    def _show_match(self) -> None:
        index = self.query_one(HistoryTable).highlighted
        index = -1 if index is None else index
        line = self.query_one("#history-match", Static)
        if not self.filter.fts_query or not (0 <= index < len(self.rows)):
            line.update(Content(""))
            line.display = bool(self.filter.fts_query)
            return
        row = self.rows[index]
        line.display = True
        if not row.match_where:
            line.update(Content(""))
            return
        parts: list[Any] = [(f"\u21b3 {row.match_where}: ", "$text-muted")]
        cursor = 0
        for start, end in row.match_marks:
            parts += [row.match_text[cursor:start], (row.match_text[start:end], "bold $accent")]
            cursor = end
        parts.append(row.match_text[cursor:])
        line.update(Content.assemble(*parts))

    # -- the user's input ---------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._schedule()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # Leaving a box while its search waits out the typing pause: search now, so a key
        # typed after Tab (Enter on the list) acts on these results, not the ones before.
        if self._debounce is not None:
            self._schedule(0)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # Closing the list hides the focused overlay, and focus would fall to the first
        # box on the screen (seen with Textual 8.2): keep it on the outcome.
        self.call_after_refresh(event.select.focus)
        self._schedule(0)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._schedule(0)
        self.query_one(HistoryTable).focus()

    def _schedule(self, delay: float = DEBOUNCE_SECONDS) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(delay, self._apply) if delay else None
        if not delay:
            self._apply()

    def _apply(self) -> None:
        self._debounce = None
        try:
            flt = self._read_filter()
        except FilterError as exc:
            self._status(Content.assemble(("\u26a0 ", "bold $error"), str(exc)))
            return
        if flt == self.filter:
            return
        self.filter = flt
        self.ask()

    def _read_filter(self) -> HistoryFilter:
        search = self.query_one("#search", Input).value
        since = self.query_one("#since", Input).value.strip()
        until = self.query_one("#until", Input).value.strip()
        outcome = self.query_one("#outcome", Select).value
        flt = HistoryFilter(
            insurer=self.query_one("#insurer", Input).value.strip(),
            outcome="" if outcome is Select.NULL else str(outcome),
            since=parse_day(since, "From") if since else None,
            until=parse_day(until, "To") if until else None,
            search=search if search_words(search) else "",
        )
        if flt.since and flt.until and flt.since > flt.until:
            raise FilterError("the From day is after the To day")
        return flt

    # -- list navigation --------------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_match()
        if event.option_index >= len(self.rows) - LOAD_MORE_WITHIN:
            self.ask(more=True)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.open_detail(int(event.option.id))

    def open_detail(self, call_id: int) -> None:
        from p2pcall.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(call_id))

    # -- actions ----------------------------------------------------------------------------

    def action_back(self) -> None:
        if isinstance(self.focused, Input | Select):
            self.query_one(HistoryTable).focus()
        else:
            # Emptied on the way out: the next visit draws fresh rows, not stale ones first.
            self.generation += 1
            self.fetching = False
            self.rows = []
            self.query_one(HistoryTable).clear_options()
            self.dismiss()

    def action_open_highlighted(self) -> None:
        index = self.query_one(HistoryTable).highlighted
        if index is not None and 0 <= index < len(self.rows):
            self.open_detail(self.rows[index].call_id)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_filters(self) -> None:
        self.query_one("#insurer", Input).focus()

    def action_clear(self) -> None:
        for name in ("#search", "#insurer", "#since", "#until"):
            self.query_one(name, Input).value = ""
        self.query_one("#outcome", Select).clear()
        self._schedule(0)
