"""What the outbox tests share: the outbox read as it is on disk, and a store made unwritable
the way SQLite itself refuses writes (`PRAGMA query_only` on every new connection)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from p2pcall.app import P2PCallApp
from p2pcall.outbox import Outbox
from pilot_helpers import settle


def outbox_bodies(data_dir: Path) -> list[str]:
    """The notes kept in the outbox, in typing order (none when there is no outbox file)."""
    outbox = Outbox.open(data_dir, create=False)
    if outbox is None:
        return []
    try:
        return [note.body for note in outbox.pending()]
    finally:
        outbox.close()


def _read_only(connection: sqlite3.Connection, _record: object) -> None:
    connection.execute("PRAGMA query_only = 1")


async def make_unwritable(pilot: Any, app: P2PCallApp, unwritable: bool) -> None:
    """Every new connection of the app's store refuses writes (or no longer does)."""
    from sqlalchemy import event

    engines: list = []
    app.db.submit(lambda store: engines.append(store.engine))
    await settle(pilot)
    if unwritable:
        event.listen(engines[0], "connect", _read_only)
    else:
        event.remove(engines[0], "connect", _read_only)
    engines[0].dispose()  # new connections from here on
