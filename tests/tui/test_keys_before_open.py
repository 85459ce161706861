"""Keys typed before the records are open are not lost: a key that needs the records waits
for them, and every key after it waits its turn (the first seconds after `p2pcall`, or a
slow open after an unclean shutdown, are when a clinician starts typing)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from pilot_helpers import load_latest, open_app, settle, wait_until


@pytest.fixture
def slow_open(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The database opens only when the test says so (a real open, started late)."""
    from p2pcall.store import Store

    gate = threading.Event()
    real_open = Store.open.__func__  # type: ignore[attr-defined]

    def open_when_let(cls: type[Store], data_dir: Path) -> Store:
        gate.wait(30)
        return real_open(cls, data_dir)

    monkeypatch.setattr(Store, "open", classmethod(open_when_let))
    return gate


async def test_a_call_started_before_the_records_open_gets_what_was_typed(
    data_dir: Path, slow_open: threading.Event
) -> None:
    from p2pcall.screens.call_info import CallInfoScreen

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"QA-1", "tab", *"Acme", "tab")
        await pilot.pause(0.05)
        assert not app.store_ready
        assert not isinstance(app.screen, CallInfoScreen)  # nothing happened yet
        slow_open.set()
        await wait_until(pilot, lambda: app.store_ready and app.key_order.idle)
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        screen = app.screen
        assert screen.query_one("#f-patient_ref").value == "QA-1"
        assert screen.query_one("#f-insurer").value == "Acme"
        await settle(pilot)  # a field is saved as the cursor leaves it
    record = load_latest(data_dir, unfinished=True)
    assert record.call.values["patient_ref"] == "QA-1"
    assert record.call.values["insurer"] == "Acme"


async def test_the_due_screen_asked_for_early_opens_once_the_records_do(
    data_dir: Path, slow_open: threading.Event
) -> None:
    from p2pcall.screens.due import DueScreen

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        slow_open.set()
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen))
        await settle(pilot)  # its list has arrived
        assert not any("Still opening" in str(n.message) for n in app._notifications)


async def test_keys_before_the_open_that_fails_are_not_held_forever(data_dir: Path) -> None:
    """A data folder that is a file: the problem screen comes up; the held key is let go."""
    from p2pcall.screens.problem import ProblemScreen

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("not a folder")
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemScreen))
        await wait_until(pilot, lambda: app.key_order.idle)


async def test_once_open_n_still_starts_a_call_at_once(data_dir: Path) -> None:
    from p2pcall.screens.call_info import CallInfoScreen

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
