"""Run by test_crash_recovery in its own process: take notes, then wait to be killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from p2pcall.app import P2PCallApp
from pilot_helpers import note, open_app, settle, start_call, type_text, wait_until


async def main(data_dir: Path, offline: bool) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await type_text(pilot, "AB-77")
        await pilot.press("f2")
        await note(pilot, "Reviewer is a family physician")
        await pilot.press("f4")
        await note(pilot, "Uses InterQual 2025", kind_presses=1)
        if offline:  # the test stops the practice server, then says GO
            await settle(pilot)
            print("NOTES", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        await type_text(pilot, "criterion 4b not")
        screen = app.screen
        await wait_until(pilot, lambda: not screen._draft.pending)
        await settle(pilot)
        print("READY", flush=True)
        await asyncio.sleep(3600)  # killed here, mid-call, with a draft in the field


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), offline=sys.argv[2:] == ["offline"]))
