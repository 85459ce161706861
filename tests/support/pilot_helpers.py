"""Helpers that drive the real app the way a user would: keys in, screens out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from p2pcall.app import P2PCallApp
from p2pcall.store.opening import open_store


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def open_app(pilot) -> P2PCallApp:
    app = pilot.app
    await wait_until(pilot, lambda: app.store_ready)
    await wait_until(pilot, lambda: app.screen.query("#calls") and app.db.pending == 0)
    return app


async def settle(pilot) -> None:
    """Wait until every queued database job has reported back."""
    app = pilot.app
    await wait_until(pilot, lambda: app.db.pending == 0)
    await pilot.pause()


async def start_call(pilot) -> None:
    from p2pcall.screens.call_info import CallInfoScreen

    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CallInfoScreen))
    await pilot.pause()


async def note(pilot, text: str, kind_presses: int = 0) -> None:
    for _ in range(kind_presses):
        await pilot.press("ctrl+t")
    await type_text(pilot, text)
    await pilot.press("enter")


def load_latest(data_dir, *, unfinished: bool):
    """The newest unfinished (or ended) call's record, read back through a fresh Store."""

    store = open_store(data_dir)
    try:
        calls = store.unfinished_calls() if unfinished else store.recent_calls()
        return store.load_call(calls[0].id)
    finally:
        store.close()


async def finish_wrap_up(pilot) -> None:
    """After the outcome is chosen: save the suggested follow-ups and return home."""
    from p2pcall.screens.home import HomeScreen
    from p2pcall.screens.wrap_up import WrapUpScreen

    await wait_until(pilot, lambda: isinstance(pilot.app.screen, WrapUpScreen))
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))


# A denied urgent employer-plan case with its notice dates and a promised document.
DENIED_URGENT = {
    "patient_ref": "JD-0412",
    "insurer": "Acme Health",
    "plan_type": "erisa",
    "review_type": "pre_service",
    "urgency": "urgent",
    "denial_date": "2026-11-18",
    "denial_received": "2026-11-20",
    "coverage_status": "denied",
    "doc_criteria": "promised",
    "doc_criteria_by": "2026-11-27",
}


async def skip_wrap_up(pilot) -> None:
    """Leave the wrap-up without saving (Esc twice): the call is ended but not finalized."""
    from p2pcall.screens.home import HomeScreen
    from p2pcall.screens.wrap_up import WrapUpScreen

    await wait_until(pilot, lambda: isinstance(pilot.app.screen, WrapUpScreen))
    await pilot.press("escape", "escape")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` holds: the database thread answers by message.

    A widget the predicate asks for that is still being mounted counts as "not yet".
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not _holds(predicate):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)


def _holds(predicate: Callable[[], object]) -> bool:
    from textual.css.query import NoMatches

    try:
        return bool(predicate())
    except NoMatches:
        return False


async def quit_and_wait(app: P2PCallApp) -> None:
    """Ctrl+Q, then wait for the database thread to finish what quitting queued (the last
    drafts): Pilot does not wait for the thread, and a test reads the file right after."""
    await app.action_quit()
    assert await asyncio.to_thread(app.db.wait_closed, 30), "the database thread never ended"
