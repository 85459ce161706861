"""The insights screen (`i` on home), driven through Pilot, and its snapshot at 80x24 with
the outcomes chart. A real database with calls spread over a year."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from textual.widgets import DataTable

from p2pcall.app import P2PCallApp
from p2pcall.domain.reviewers import ReviewerDetails
from p2pcall.domain.vocab import Outcome
from p2pcall.screens.insights import InsightsScreen
from p2pcall.store.opening import open_store
from pilot_helpers import open_app, settle, type_text, wait_until

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

TZ = "America/New_York"
T0 = pendulum.datetime(2026, 11, 23, 15, 0, 0, tz="UTC")
# (months before T0, insurer, outcome, same specialty)
CALLS = [
    (10, "Acme Health", Outcome.DENIED, "no"),
    (10, "Acme Health", Outcome.APPROVED, "yes"),
    (8, "Beta Care", Outcome.DENIED, "no"),
    (7, "Acme Health", Outcome.PARTIAL, "no"),
    (5, "Beta Care", Outcome.APPROVED, "yes"),
    (4, "Acme Health", Outcome.DENIED, "no"),
    (4, "Acme Health", Outcome.DENIED, "yes"),
    (2, "Beta Care", Outcome.PENDING, ""),
    (1, "Acme Health", Outcome.APPROVED, "yes"),
    (0, "Acme Health", Outcome.DENIED, "no"),
]


@pytest.fixture
def seeded(data_dir: Path) -> Iterator[Path]:
    pendulum.set_local_timezone(pendulum.timezone(TZ))
    try:
        store = open_store(data_dir)
        try:
            ann = store.add_reviewer(ReviewerDetails("Ann Smith", vendor="Northstar UM"))
            for months, insurer, outcome, same in CALLS:
                pendulum.travel_to(T0.subtract(months=months), freeze=True)
                call = store.start_call(TZ)
                store.set_field(call.id, "insurer", insurer)
                if same:
                    store.set_field(call.id, "reviewer_same_specialty", same)
                store.end_call(call.id, outcome)
                if insurer == "Acme Health":
                    store.link_call(call.id, ann.id)
        finally:
            store.close()
        pendulum.travel_to(T0, freeze=True)
        yield data_dir
    finally:
        pendulum.travel_back()
        pendulum.set_local_timezone()


async def _insights(pilot) -> InsightsScreen:
    app = pilot.app
    await open_app(pilot)
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, InsightsScreen) and app.screen.shown)
    await pilot.pause()
    return app.screen


def status(screen: InsightsScreen) -> str:
    return str(screen.query_one("#insights-status").render())


async def test_insights_charts_table_grouping_and_filters(seeded: Path) -> None:
    app = P2PCallApp(seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _insights(pilot)
        assert status(screen).startswith("10 calls \u00b7 approved 30% \u00b7 denied 50%")
        months, _table = screen.shown
        assert sum(g.calls for g in months.groups) == 10
        assert "Calls per month, 2026-01 to 2026-11" in str(
            screen.query_one("#insights-spark-label").render()
        )
        await pilot.press("t")
        table = screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.has_focus)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [(str(r[0]), r[1]) for r in rows] == [
            ("Acme Health", "7"), ("Beta Care", "3"), ("All calls", "10")
        ]  # fmt: skip
        assert rows[0][6] == "43%"  # same specialty: 3 of 7 answered for Acme
        generation = screen.generation
        await pilot.press("g")  # per vendor
        await wait_until(pilot, lambda: screen.generation > generation and screen.by == "vendor")
        await settle(pilot)
        await wait_until(pilot, lambda: str(table.get_row_at(0)[0]) == "Northstar UM")
        await pilot.press("ctrl+f")
        await type_text(pilot, "beta")  # typed into the filter: not the t and g keys
        await wait_until(pilot, lambda: status(screen).startswith("3 calls"))
        assert screen.by == "vendor"
        await pilot.press("tab", *"2026-13-01")
        await wait_until(pilot, lambda: "is not a date" in status(screen))
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, InsightsScreen))


@pytest.mark.sqlite_only  # one snapshot: the screen is the same on both
def test_insights_snapshot_with_chart(snap_compare, seeded: Path) -> None:
    async def run_before(pilot) -> None:
        await _insights(pilot)

    assert snap_compare(P2PCallApp(seeded), terminal_size=(80, 24), run_before=run_before)
