"""A long call: does the 2,000th note cost what the 10th did? (issue 17)

For each size (notes already in section A of an unfinished call) a fresh process:
  - seeds the call through Store (in one temp data dir),
  - opens the real app under Pilot at 80x24 and presses r on home: "resume" is r pressed ->
    section A shown with its notes painted,
  - types --notes more notes (2 keys pressed, the rest inserted, Enter): Enter -> the note
    marked saved and painted, and the UI thread's CPU (time.thread_time on the event loop's
    thread) over that span,
  - switches F2 -> F1 (each: key pressed -> screen painted),
  - idles --idle seconds and reads the process's CPU over it (% of one core),
  - reports its peak RSS.
The ratio of each figure at the largest size to the smallest is the goal (<= 1.2; idle < 1%).

Usage: python benchmarks/long_call.py [--sizes 10,500,1000,2000] [--notes 15] [--idle 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from save_latency import pct, realistic_body

POLL = 0.0005


def seed(data_dir: Path, notes: int) -> None:
    import random

    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import local_tz_name, now_utc
    from p2pcall.domain.vocab import NoteKind
    from p2pcall.store import Store

    rng = random.Random(notes)
    store = Store.open(data_dir)
    try:
        call = store.start_call(local_tz_name())
        kinds = list(NoteKind)
        for i in range(notes):
            store.add_note(call.id, Section.A, kinds[i % 7 % 4], realistic_body(rng), now_utc())
    finally:
        store.close()


async def _until(predicate: Any, what: str, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(POLL)
    return time.perf_counter()


async def _painted(app: Any) -> float:
    done = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))
    return await done


async def drive(data_dir: Path, notes: int, idle: float) -> dict[str, Any]:
    from p2pcall.app import P2PCallApp
    from p2pcall.screens.section import SectionScreen
    from p2pcall.widgets.composer import NoteField
    from p2pcall.widgets.notes import NoteItem

    app = P2PCallApp(data_dir)
    out: dict[str, Any] = {"enter_ms": [], "cpu_ms": [], "switch_ms": []}
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: app.store_ready and app.db.pending == 0, "home")
        await pilot.pause()
        t0 = time.perf_counter()
        await pilot.press("r")
        await _until(lambda: isinstance(app.screen, SectionScreen), "section A")
        await _until(lambda: app.db.pending == 0, "resume settled")
        await pilot.pause()
        out["resume_ms"] = (await _painted(app) - t0) * 1000
        field = app.screen.query_one("#note-field", NoteField)
        rng = __import__("random").Random(7)
        for i in range(notes):
            body = f"#{i:03d} {realistic_body(rng)}"
            await pilot.press(*body[:2])
            field.insert(body[2:])
            await pilot.pause()
            c0, t0 = time.thread_time(), time.perf_counter()
            await pilot.press("enter")
            item = next(x for x in reversed(app.screen.query(NoteItem)) if x.body == body)
            await _until(lambda item=item: item.state == "saved", "saved")
            t1 = await _painted(app)
            out["enter_ms"].append((t1 - t0) * 1000)
            out["cpu_ms"].append((time.thread_time() - c0) * 1000)
        for key, back in (("f2", "f1"), ("f2", "f1")):
            for k in (key, back):
                t0 = time.perf_counter()
                await pilot.press(k)
                await _until(lambda k=k: app.screen.name.endswith((k == "f1" and "A") or "B"), k)
                out["switch_ms"].append((await _painted(app) - t0) * 1000)
        await pilot.pause(0.5)
        c0, t0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(idle)
        out["idle_cpu_pct"] = 100 * (time.process_time() - c0) / (time.perf_counter() - t0)
        await pilot.press("ctrl+q")
    return out


def one(size: int, notes: int, idle: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="p2pcall-long-"))
    try:
        seed(tmp / "data", size)
        raw = asyncio.run(drive(tmp / "data", notes, idle))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "size": size,
        "resume_ms": raw["resume_ms"],
        "enter_ms": pct(raw["enter_ms"], 0.5),
        "enter_p90_ms": pct(raw["enter_ms"], 0.9),
        "cpu_ms": pct(raw["cpu_ms"], 0.5),
        "switch_ms": pct(raw["switch_ms"], 0.5),
        "idle_cpu_pct": raw["idle_cpu_pct"],
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,500,1000,2000")
    parser.add_argument("--notes", type=int, default=15)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--one", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.notes, args.idle)))
        return 0
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        cmd = [sys.executable, __file__, "--one", str(size), "--notes", str(args.notes)]
        cmd += ["--idle", str(args.idle)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=2))
    keys = ["resume_ms", "enter_ms", "enter_p90_ms", "cpu_ms", "switch_ms", "rss_mib"]
    print(f"{'notes':>6} " + " ".join(f"{k:>13}" for k in [*keys, "idle_cpu_pct"]))
    for row in rows:
        print(f"{row['size']:>6} " + " ".join(f"{row[k]:>13.1f}" for k in [*keys, "idle_cpu_pct"]))
    first, last = rows[0], rows[-1]
    ratios = {k: last[k] / first[k] for k in keys}
    print("ratio  " + " ".join(f"{ratios[k]:>13.2f}" for k in keys))
    ok = all(r <= 1.2 for r in ratios.values()) and last["idle_cpu_pct"] < 1.0
    print("goal (ratios <= 1.2, idle < 1%):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
