"""Reads and writes in the database thread: a failed read says what could not be done, and is
never reported as an unsaved note; a failed write still is."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from p2pcall.app import P2PCallApp
from p2pcall.store.opening import open_store
from pilot_helpers import open_app, settle, wait_until


def _fail_reads_of(store: Any, table: str) -> None:
    """Make every read that touches `table` fail as a busy database does: a real SQLite
    error, raised by the connection the store reads through (reads run plain SQL on the
    pooled DB-API connection, so this sits below everything the store does with it)."""
    opened = store._read_connection

    @contextmanager
    def busy_on_table() -> Iterator[Any]:
        with opened() as db:
            yield _BusyOn(db, table)

    store._read_connection = busy_on_table


class _BusyOn:
    """A sqlite3 connection whose statements reading `table` meet a locked database."""

    def __init__(self, db: sqlite3.Connection, table: str) -> None:
        self._db, self._table = db, table

    def execute(self, statement: str, *args: Any) -> Any:
        if self._table in statement.lower():
            raise sqlite3.OperationalError("database is locked")
        return self._db.execute(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def _store(pilot: Any) -> Any:
    stores: list[Any] = []
    pilot.app.db.submit(lambda store: stores.append(store))
    await settle(pilot)
    return stores[0]


async def _engine(pilot: Any) -> Any:
    app = pilot.app
    engines: list[Any] = []
    app.db.submit(lambda store: engines.append(store.engine))
    await settle(pilot)
    return engines[0]


def _messages(app: P2PCallApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_failed_read_says_what_failed_and_is_not_an_unsaved_note(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        _fail_reads_of(await _store(pilot), "followup")
        await pilot.press("d")  # the Due screen reads every follow-up
        await wait_until(
            pilot, lambda: any("Could not list what is due" in m for m in _messages(app))
        )
        [message] = [m for m in _messages(app) if "Could not list what is due" in m]
        assert "busy" in message or "locked" in message, message
        assert app.save_state[0] != "error"
        assert not any("NOT SAVED" in m for m in _messages(app))


async def test_a_failed_write_is_still_not_saved(data_dir: Path) -> None:
    """Beside the read above: a field that cannot be written marks the call bar NOT SAVED."""
    from sqlalchemy import event

    from pilot_helpers import start_call

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        engine = await _engine(pilot)

        def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().lower().startswith(("insert", "update")):
                raise sqlite3.OperationalError("attempt to write a readonly database")

        event.listen(engine, "before_cursor_execute", refuse)
        await pilot.press(*"QA-1", "tab")  # the patient reference, saved on leaving the field
        await wait_until(pilot, lambda: app.save_state[0] == "error")
        assert "NOT SAVED" in app.save_state[1]
        event.remove(engine, "before_cursor_execute", refuse)


async def test_a_note_that_failed_is_retried_after_leaving_its_call(data_dir: Path) -> None:
    """The session of a call left with an unsaved note keeps retrying it (and Ctrl+Q warns
    meanwhile), across more than one failed retry; the note is saved once writing works."""
    from sqlalchemy import event

    from p2pcall.screens.end_call import EndCallScreen
    from p2pcall.screens.home import HomeScreen
    from p2pcall.screens.wrap_up import WrapUpScreen
    from pilot_helpers import start_call

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        engine = await _engine(pilot)
        attempts: list[str] = []

        def refuse_notes(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().lower().startswith("insert into note "):
                attempts.append(statement)
                raise sqlite3.OperationalError("disk I/O error")

        event.listen(engine, "before_cursor_execute", refuse_notes)
        await pilot.press("f1", *"reviewer never read the chart", "enter")
        await wait_until(pilot, lambda: app.save_state[0] == "error")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await pilot.press("escape", "escape")  # leave without the follow-ups
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.live is None
        await wait_until(pilot, lambda: len(attempts) >= 3, timeout=20)  # two retries failed
        await pilot.press("ctrl+q")
        await wait_until(
            pilot, lambda: any("1 note(s) or field(s) are NOT saved" in m for m in _messages(app))
        )
        assert app.is_running

        event.remove(engine, "before_cursor_execute", refuse_notes)
        await wait_until(pilot, lambda: app.save_state[0] == "ok", timeout=20)
    store = open_store(data_dir)
    try:
        [call] = store.recent_calls()
        assert [n.body for n in store.load_call(call.id).notes] == ["reviewer never read the chart"]
    finally:
        store.close()


async def test_saving_turns_to_saved_when_a_read_finishes_after_the_writes(
    data_dir: Path,
) -> None:
    """The call bar said "… saving" until the next write when the last job to come back was
    a read queued behind a save (seen in a burst through a real terminal)."""
    from pilot_helpers import start_call

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await settle(pilot)
        gate = threading.Event()
        app.status.saving()  # as every write does before it is queued
        app.db.submit(lambda store: gate.wait(10), app.status.saved)
        app.db.read(lambda store: None)  # queued behind the write, finishes last
        gate.set()
        await settle(pilot)
        assert app.save_state[0] == "ok", app.save_state
        assert app.save_state[1].startswith("\u2713 saved")
