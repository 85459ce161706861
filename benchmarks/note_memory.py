"""What a long call's save path allocates per note, and what stays (issue 17, item 7).

For each size (notes already in section A, seeded as long_call.py does) a fresh process opens
the real app under Pilot at 80x24, resumes the call (r) and types --notes notes the way
long_call.py does (Enter, until marked saved and painted). tracemalloc runs from just before
the first of those notes to just after the last: the report is the peak traced while typing
(what one note's work allocates at once), what is still held afterwards (what the notes keep:
their rows and widgets) per note, the top allocation sites of what is held and of what was
allocated, and the process's RSS (current and peak) before and after.

Usage: python benchmarks/note_memory.py [--sizes 10,1000,2000] [--notes 30] [--top 12] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from long_call import _painted, _until, seed
from save_latency import realistic_body

ROOT = str(Path(__file__).resolve().parent.parent)


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _short(filename: str) -> str:
    return filename.replace(ROOT + "/", "").split("site-packages/")[-1]


def _where(stat: tracemalloc.StatisticDiff) -> str:
    frame = stat.traceback[0]
    return f"{_short(frame.filename)}:{frame.lineno}"


async def drive(data_dir: Path, notes: int, top: int) -> dict[str, Any]:
    from p2pcall.app import P2PCallApp
    from p2pcall.screens.section import SectionScreen
    from p2pcall.widgets.composer import NoteField
    from p2pcall.widgets.notes import NoteItem

    app = P2PCallApp(data_dir)
    out: dict[str, Any] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: app.store_ready and app.db.pending == 0, "home")
        await pilot.press("r")
        await _until(lambda: isinstance(app.screen, SectionScreen), "section A")
        await _until(lambda: app.db.pending == 0, "resume settled")
        await pilot.pause()
        await _painted(app)
        out["rss_resumed_mib"] = _rss_mib()
        field = app.screen.query_one("#note-field", NoteField)
        rng = __import__("random").Random(7)
        gc.collect()
        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
        collections = [g["collections"] for g in gc.get_stats()]
        for i in range(notes):
            body = f"#{i:03d} {realistic_body(rng)}"
            await pilot.press(*body[:2])
            field.insert(body[2:])
            await pilot.pause()
            await pilot.press("enter")
            item = next(x for x in reversed(app.screen.query(NoteItem)) if x.body == body)
            await _until(lambda item=item: item.state == "saved", "saved")
            await _painted(app)
        await pilot.pause(0.2)
        out["gc_per_note"] = [
            (g["collections"] - c) / notes for g, c in zip(gc.get_stats(), collections, strict=True)
        ]
        _, out["traced_peak_kib"] = (v / 1024 for v in tracemalloc.get_traced_memory())
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        held = [s for s in after.compare_to(before, "lineno") if s.size_diff > 0]
        held.sort(key=lambda s: s.size_diff, reverse=True)
        out["held_kib_per_note"] = sum(s.size_diff for s in held) / 1024 / notes
        out["top_held"] = [
            {"where": _where(s), "kib_per_note": s.size_diff / 1024 / notes, "count": s.count_diff}
            for s in held[:top]
        ]
        # The first frame of a site can be generated code (<string>): name its caller too.
        by_trace = after.compare_to(before, "traceback")
        by_trace.sort(key=lambda s: s.size_diff, reverse=True)
        out["top_held_traces"] = [
            {
                "kib_per_note": s.size_diff / 1024 / notes,
                # Traceback frames run oldest first: the allocating line is the last.
                "stack": [f"{_short(f.filename)}:{f.lineno}" for f in list(s.traceback)[::-1][:4]],
            }
            for s in by_trace[:5]
        ]
        # What p2pcall's own code caused to be held: traces with one of our frames in the
        # stack, grouped by our innermost frame (the allocation itself may be in a library).
        ours = [tracemalloc.Filter(True, "*/p2pcall/*", all_frames=True)]
        by_us: dict[str, list[float]] = {}
        for stat in after.filter_traces(ours).compare_to(before.filter_traces(ours), "traceback"):
            if stat.size_diff <= 0:
                continue
            frames = list(stat.traceback)[::-1]  # most recent first
            mine = next(f for f in frames if "/p2pcall/" in f.filename)
            key = (
                f"{_short(mine.filename)}:{mine.lineno} (allocated in {_short(frames[0].filename)})"
            )
            by_us.setdefault(key, [0.0, 0.0])
            by_us[key][0] += stat.size_diff / 1024 / notes
            by_us[key][1] += stat.count_diff / notes
        out["top_held_ours"] = sorted(
            ({"where": k, "kib_per_note": v[0], "blocks_per_note": v[1]} for k, v in by_us.items()),
            key=lambda row: -row["kib_per_note"],
        )[:top]
        out["rss_after_mib"] = _rss_mib()
        await pilot.press("ctrl+q")
    return out


def one(size: int, notes: int, top: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="p2pcall-memory-"))
    try:
        seed(tmp / "data", size)
        t0 = time.perf_counter()
        raw = asyncio.run(drive(tmp / "data", notes, top))
        raw["seconds"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    raw["size"] = size
    raw["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return raw


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,1000,2000")
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--one", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.notes, args.top)))
        return 0
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        cmd = [sys.executable, __file__, "--one", str(size), "--notes", str(args.notes)]
        cmd += ["--top", str(args.top)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'notes':>6} {'RSS resumed':>12} {'RSS after':>10} {'RSS peak':>9} "
        f"{'held/note':>10} {'traced peak':>12}"
    )
    for r in rows:
        print(
            f"{r['size']:>6} {r['rss_resumed_mib']:>9.1f}MiB {r['rss_after_mib']:>7.1f}MiB "
            f"{r['rss_peak_mib']:>6.1f}MiB {r['held_kib_per_note']:>7.1f}KiB "
            f"{r['traced_peak_kib']:>9.0f}KiB"
        )
    for r in rows:
        gcs = ", ".join(f"{n:.2f}" for n in r["gc_per_note"])
        print(f"\n{r['size']} notes: garbage collections per note typed (gen 0, 1, 2): {gcs}")
        print(f"held after {args.notes} notes typed at {r['size']} notes (top sites, per note):")
        for site in r["top_held"]:
            print(f"  {site['kib_per_note']:8.2f} KiB {site['count']:>7} blocks  {site['where']}")
        print("  held with p2pcall's code on the stack, by our innermost frame:")
        for site in r["top_held_ours"]:
            size, blocks = site["kib_per_note"], site["blocks_per_note"]
            print(f"  {size:8.2f} KiB {blocks:>7.1f} blocks  {site['where']}")
        print("  largest stacks (allocating line first):")
        for trace in r["top_held_traces"]:
            print(f"  {trace['kib_per_note']:8.2f} KiB  " + " <- ".join(trace["stack"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
