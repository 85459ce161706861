"""Patterns across calls at ten years' scale (issue 14's targets), on the database
history_scale.py generates (12,500 calls, 500,000 notes, ~600 reviewers, 40 insurers,
8 vendors). Never used as test assertions.

  suggestions     store.suggest_reviewers for every prefix of 60 reviewers' names, typed
                  as a user would ("D", "Da", "Dan", ...): target median < 20 ms
  track record    store.track_record for the 15 busiest reviewers and 45 others, as section
                  B asks for it (before the reviewer's newest call): target < 50 ms
  suggestions in the app   through the real app (headless, Pilot, 80x24): a name typed in
                  section B until its suggestions are shown, per key
  insights screen `i` on home until charts and table are painted (target < 300 ms), and a
                  filter change from the query sent until painted (target < 150 ms)
  stats (store)   store.stats.call_stats per grouping
  p2pcall stats --json    wall time in a fresh process, start-up included: target < 1 s

Usage: python benchmarks/insights.py [--db-dir DIR] [--runs N] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import history_scale  # noqa: E402

SUGGEST_MS, TRACK_MS, STATS_S, PAINT_MS, FILTER_MS = 20.0, 50.0, 1.0, 300.0, 150.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, max {max(values):.2f} ms"


def store_level(db_dir: Path) -> dict[str, Any]:
    from p2pcall.domain.history import HistoryFilter
    from p2pcall.store import Store
    from p2pcall.store.stats import call_stats

    rng = random.Random(14)
    store = Store.open(db_dir)
    try:
        everyone = store.reviewers()
        suggest: list[float] = []
        for person in rng.sample(everyone, 60):
            typed = f"Dr. {person.name}"
            for end in range(1, len(typed) + 1):
                started = time.perf_counter()
                store.suggest_reviewers(typed[:end])
                suggest.append(_ms(time.perf_counter() - started))
        busiest = sorted(everyone, key=lambda r: -r.calls)[:15]
        others = rng.sample(everyone[15:], 45)
        track: list[float] = []
        biggest = 0
        with store.engine.connect() as conn:
            newest = dict(
                conn.exec_driver_sql(
                    "SELECT reviewer_id, max(call_id) FROM call_reviewer GROUP BY 1"
                ).all()
            )
        for person in busiest + others:
            started = time.perf_counter()
            record = store.track_record(person.id, before_call=newest.get(person.id))
            track.append(_ms(time.perf_counter() - started))
            biggest = max(biggest, record.earlier_calls)
        tz = "America/New_York"
        stats = {}
        for by in (None, "insurer", "vendor", "reviewer", "criteria", "month"):
            started = time.perf_counter()
            report = call_stats(store, by, HistoryFilter(tz=tz), tz)
            stats[by or "total"] = (_ms(time.perf_counter() - started), len(report.groups))
    finally:
        store.close()
    return {"suggest": suggest, "track": track, "biggest": biggest, "stats": stats}


def cli_level(db_dir: Path, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for label, extra in {"stats --json": [], "stats --by month --json": ["--by", "month"],
                         "stats --by reviewer --json": ["--by", "reviewer"]}.items():  # fmt: skip
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "p2pcall", "--data-dir", str(db_dir), "stats", *extra,
                 "--json"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                raise SystemExit(f"p2pcall stats failed: {proc.stderr.strip()}")
        out[label] = times
    return out


async def _app_level(db_dir: Path) -> list[float]:
    """Section B of a new call: each key of a known name until the suggestions for the name
    as typed so far are on screen."""
    from textual.events import Key

    from p2pcall.app import P2PCallApp
    from p2pcall.domain.reviewers import name_key
    from p2pcall.screens.reviewer_section import ReviewerSectionScreen

    times: list[float] = []
    app = P2PCallApp(db_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.store_ready and app.screen.query("#calls")):
            await pilot.pause(0.01)
        await pilot.press("n")
        await pilot.pause(0.3)
        await pilot.press("f2")
        while not isinstance(app.screen, ReviewerSectionScreen):
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        await pilot.press("ctrl+f")
        screen = app.screen
        name = "Dr. Grace Osei"
        for end, char in enumerate(name, start=1):
            started = time.perf_counter()
            key = "space" if char == " " else ("full_stop" if char == "." else char)
            app.post_message(Key(key, char))
            # A space at the end asks nothing new: the same name as matched (name_key).
            while name_key(screen.suggested_for or "") != name_key(name[:end]):
                await pilot.pause(0.0005)
                if time.perf_counter() - started > 5:
                    raise SystemExit(
                        f"no suggestions for {name[:end]!r}: typed {screen._typed()!r}, "
                        f"shown for {screen.suggested_for!r}"
                    )
            times.append(_ms(time.perf_counter() - started))
        app.db.stop()
    return times


async def _insights_level(db_dir: Path, runs: int) -> dict[str, list[float]]:
    """The insights screen: `i` until the charts and table are painted, then a filter
    change (from the query being sent, after the typing pause) until painted."""
    from p2pcall.app import P2PCallApp
    from p2pcall.screens import insights as insights_module

    marks: dict[str, float] = {}
    show = insights_module.InsightsScreen._show
    ask = insights_module.InsightsScreen.ask

    def timed_show(self: Any, generation: int, result: Any) -> None:
        show(self, generation, result)
        if generation == self.generation:
            self.app.call_after_refresh(lambda: marks.setdefault("shown", time.perf_counter()))

    def timed_ask(self: Any) -> None:
        marks["asked"] = time.perf_counter()
        ask(self)

    insights_module.InsightsScreen._show = timed_show  # type: ignore[method-assign]
    insights_module.InsightsScreen.ask = timed_ask  # type: ignore[method-assign]
    out: dict[str, list[float]] = {"first_paint": [], "filter_change": []}
    app = P2PCallApp(db_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.store_ready and app.screen.query("#calls")):
            await pilot.pause(0.01)
        await pilot.pause(0.5)
        for index in range(runs):
            marks.clear()
            started = time.perf_counter()
            await pilot.press("i")
            while "shown" not in marks:
                await pilot.pause(0.001)
            out["first_paint"].append(_ms(marks.pop("shown") - started))
            await pilot.press("ctrl+f", *["harbor", "acme", "north", "summit", "cedar"][index % 5])
            while "shown" not in marks:
                await pilot.pause(0.001)
            out["filter_change"].append(_ms(marks.pop("shown") - marks.pop("asked")))
            await pilot.press("escape", "escape")
            await pilot.pause(0.1)
        app.db.stop()
    return out


def _scratch_copy(db_dir: Path) -> Path:
    """The app part creates a call: it runs on a copy, so the generated file stays as made."""
    import sqlite3

    scratch = Path(tempfile.mkdtemp(prefix="p2pcall-insights-"))
    source = sqlite3.connect(db_dir / "p2pcall.sqlite3")
    target = sqlite3.connect(scratch / "p2pcall.sqlite3")
    source.backup(target)
    source.close()
    target.close()
    return scratch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db-dir", help="where the generated database is kept (reused)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    db_dir = Path(args.db_dir or Path(tempfile.gettempdir()) / "p2pcall-history-scale")
    db_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    history_scale.ensure_database(db_dir, history_scale.CALLS, history_scale.NOTES, args.rebuild)
    store = store_level(db_dir)
    scratch = _scratch_copy(db_dir)
    try:
        app = asyncio.run(_app_level(scratch))
        screen = asyncio.run(_insights_level(scratch, args.runs))
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    cli = cli_level(db_dir, args.runs)
    print(f"database: {db_dir / 'p2pcall.sqlite3'}")
    print(f"suggestions ({len(store['suggest'])} prefixes)   {_summary(store['suggest'])}")
    print(f"suggestions in the app, key to shown ({len(app)} keys) {_summary(app)}")
    print(f"track record ({len(store['track'])} reviewers, up to {store['biggest']} earlier "
          f"calls)  {_summary(store['track'])}")  # fmt: skip
    print(f"insights screen first paint ({len(screen['first_paint'])} opens)  "
          f"{_summary(screen['first_paint'])}")  # fmt: skip
    print(f"insights filter change (query sent until painted)  "
          f"{_summary(screen['filter_change'])}")  # fmt: skip
    print("stats in the store (one run each):")
    for label, (ms, groups) in store["stats"].items():
        print(f"  {label:<10} {ms:>8.1f} ms  ({groups} groups)")
    print("p2pcall stats in a fresh process (wall time, start-up included):")
    for label, times in cli.items():
        print(f"  {label:<28} median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    suggest = statistics.median(store["suggest"])
    track = max(store["track"])
    stats = max(statistics.median(times) for times in cli.values())
    paint = max(screen["first_paint"])
    change = statistics.median(screen["filter_change"])
    ok = suggest < SUGGEST_MS and track < TRACK_MS and stats < STATS_S
    ok = ok and paint < PAINT_MS and change < FILTER_MS
    print(
        f"{'PASS' if ok else 'MISS'}: suggestions median {suggest:.2f} ms (< {SUGGEST_MS:.0f}), "
        f"track record worst {track:.1f} ms (< {TRACK_MS:.0f}), "
        f"stats --json {stats:.2f} s (< {STATS_S:.0f}), insights first paint worst "
        f"{paint:.0f} ms (< {PAINT_MS:.0f}), filter change {change:.0f} ms (< {FILTER_MS:.0f})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
