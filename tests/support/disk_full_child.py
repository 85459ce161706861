"""Run by test_store_faults in its own process: the disk fills up in the middle of a call.

RLIMIT_FSIZE (with SIGXFSZ ignored) makes every write past the limit fail with EFBIG, as
a full disk fails with ENOSPC; SQLite reports it and the app must keep the note on screen,
say so, and save it by itself once writing works again. Prints what the user saw.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from p2pcall.app import P2PCallApp
from p2pcall.textual_compat import shown_messages
from p2pcall.widgets.notes import NoteItem
from pilot_helpers import open_app, settle, start_call, wait_until

BIG = "BIG " + "z" * 90_000  # under the note limit, over the file-size limit


async def main(data_dir: Path) -> int:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        app.screen.composer.field.insert("before the disk filled")
        await pilot.press("enter")
        await settle(pilot)

        largest = max(path.stat().st_size for path in data_dir.iterdir())
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 8192, resource.RLIM_INFINITY))
        app.screen.composer.field.insert(BIG)
        await pilot.press("enter")
        item = next(i for i in app.screen.query(NoteItem) if i.body == BIG)
        await wait_until(pilot, lambda: item.state == "failed")
        print(f"STATE {item.state}", flush=True)
        for notice in shown_messages(app):
            print(f"NOTICE {notice.message}", flush=True)

        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        await wait_until(pilot, lambda: item.state == "saved", timeout=20)  # the retry
        print(f"STATE {item.state}", flush=True)
        await pilot.press("ctrl+q")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
