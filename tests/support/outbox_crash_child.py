"""Run by test_outbox_crash in its own process: notes typed while the database cannot be
written, then the process waits to be killed (kill -9) with them only in the outbox.

`readonly`: SQLite refuses every write of the app's store (query_only on its connections).
`locked`: another connection holds the database's write lock (BEGIN EXCLUSIVE), so the
first note's save sits in SQLite's 10-second busy wait and the notes typed after it are
queued behind: the outbox must have them all anyway, long before that wait ends.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from outbox_helpers import make_unwritable, outbox_bodies
from p2pcall.app import P2PCallApp
from pilot_helpers import open_app, settle, start_call, wait_until

NOTES = ["kept one", "kept two", "kept three"]


async def main(data_dir: Path, mode: str) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        await pilot.press(*"saved before", "enter")
        await settle(pilot)
        if mode == "readonly":
            await make_unwritable(pilot, app, True)
        else:
            holder = sqlite3.connect(data_dir / "p2pcall.sqlite3", isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
        keys = [key for body in NOTES for key in (*body, "enter")]
        await pilot.press(*keys)  # one burst
        await wait_until(pilot, lambda: outbox_bodies(data_dir) == NOTES, timeout=8)
        if mode == "locked":
            assert app.db.pending > 0, "the saves were expected to be still waiting"
        print("READY", flush=True)
        await asyncio.sleep(3600)  # killed here


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
