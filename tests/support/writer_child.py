"""Run by the fault tests in its own process: the real app takes notes as fast as it can.

    writer_child.py DATA_DIR REPORT TAG [COUNT]

Prints LOADED once imported, and starts the app when a line arrives on stdin: the kill
test loads the next process while the current one runs, to keep 20 rounds short.

Each note the app has shown as saved (its ✓) is appended to REPORT and fsynced before the
next one is looked at, so after a kill -9 the report lists exactly what a user had seen
saved. With COUNT, stops after that many notes and quits; then every error the app showed
is printed as `ERROR: ...` and the exit code says whether all notes were shown saved.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from p2pcall.app import P2PCallApp
from p2pcall.screens.call_info import CallInfoScreen
from p2pcall.textual_compat import shown_messages
from p2pcall.widgets.notes import NoteItem

# Not conftest's helpers: importing pytest would add a quarter second to every start.


async def until(pilot, predicate) -> None:
    for _ in range(1000):
        if predicate():
            return
        await pilot.pause(0.02)
    raise TimeoutError("the app did not get there in 20 s")


class Reporter:
    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._reported: set[int] = set()

    def report_saved(self, items: list[NoteItem]) -> None:
        fresh = [i for i in items if i.state == "saved" and id(i) not in self._reported]
        if not fresh:
            return
        os.write(self._fd, "".join(f"{item.body}\n" for item in fresh).encode())
        os.fsync(self._fd)
        self._reported.update(id(item) for item in fresh)


async def main(data_dir: Path, report: Path, tag: str, count: int | None) -> int:
    reporter = Reporter(report)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.store_ready and app.db.pending == 0)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        await pilot.press("f1")
        await until(pilot, lambda: app.screen.name == "section-A")
        print("READY", flush=True)
        n = 0
        while count is None or n < count:
            # The text goes in as one edit (a fast typist); Enter is a real key press.
            app.screen.composer.field.insert(f"{tag}-{n}")
            await pilot.press("enter")
            n += 1
            reporter.report_saved(list(app.screen.query(NoteItem)))
        await until(pilot, lambda: app.db.pending == 0)
        items = list(app.screen.query(NoteItem))
        reporter.report_saved(items)
        errors = [n.message for n in shown_messages(app) if n.severity == "error"]
        for message in errors:
            print(f"ERROR: {message}", flush=True)
        unsaved = [item.body for item in items if item.state != "saved"]
        for body in unsaved:
            print(f"UNSAVED: {body}", flush=True)
        await pilot.press("ctrl+q")
    return 1 if errors or unsaved else 0


if __name__ == "__main__":
    import p2pcall.store  # noqa: F401  (what the database thread would import later)

    print("LOADED", flush=True)
    sys.stdin.readline()
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], limit)))
