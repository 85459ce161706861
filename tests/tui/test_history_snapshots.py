"""SVG snapshots at 80x24 of history and call detail, time and time zone frozen.

Update after an intended change with:
pytest tests/tui/test_history_snapshots.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

from p2pcall.app import P2PCallApp
from p2pcall.screens.detail import DetailScreen
from p2pcall.screens.history import HistoryScreen
from pilot_helpers import wait_until
from test_snapshots import _home, frozen, seed  # noqa: F401  (frozen is a fixture)


async def _history(pilot) -> None:
    await _home(pilot)
    await pilot.press("h")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
    screen = pilot.app.screen
    await wait_until(pilot, lambda: len(screen.rows) == 2 and not screen.fetching)
    await wait_until(pilot, lambda: "2 calls" in str(screen.query_one("#history-status").render()))
    await pilot.pause()


async def _search(pilot) -> None:
    await _history(pilot)
    await pilot.press("slash", *"criteria")
    screen = pilot.app.screen
    await wait_until(pilot, lambda: len(screen.rows) == 1 and not screen.fetching)
    await pilot.pause()


async def _detail(pilot) -> None:
    await _history(pilot)
    await pilot.press("enter")  # the newest call: still open, markup-looking insurer
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    await wait_until(pilot, lambda: pilot.app.screen.detail is not None)
    await pilot.pause()


def test_history_screen(snap_compare, data_dir: Path, frozen: None) -> None:  # noqa: F811
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_history)


def test_history_search(snap_compare, data_dir: Path, frozen: None) -> None:  # noqa: F811
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_search)


def test_detail_screen(snap_compare, data_dir: Path, frozen: None) -> None:  # noqa: F811
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_detail)
