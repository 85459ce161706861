"""Closing the terminal: how long p2pcall takes to be gone, and whether it ever stays.

Runs the rounds of tests/faults/test_hangup.py (p2pcall in a real pseudo-terminal, ended while
starting up, idle, typing a draft, in the End call dialog, quitting, by SIGTERM, or with
no SIGHUP at all) and times each from the end (hang-up or signal) to the process being
reaped. A process still there after --give-up seconds counts as a stray (and is killed).

Usage: python benchmarks/hangup_exit.py [--rounds N] [--at-once K] [--seed S] [--json]
Target: 0 strays; every exit within 5 s (the median is a fraction of a second).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 5.0


def one_round(rnd, give_up: float) -> tuple[str, float | None, list[str]]:
    import test_hangup as rounds
    from pty_terminal import Terminal, child_env, p2pcall_argv

    act, _ = rounds.SCENARIOS[rnd.scenario]
    term = Terminal(
        p2pcall_argv(rnd.data_dir), child_env(), controlling=rnd.scenario != "no_signal"
    )
    ended_at: list[float] = []
    original_hang_up = term.hang_up

    def timed_hang_up() -> None:
        ended_at.append(time.monotonic())
        original_hang_up()

    term.hang_up = timed_hang_up  # type: ignore[method-assign]
    original_send = term.process.send_signal

    def timed_send(sig: int) -> None:
        ended_at.append(time.monotonic())
        original_send(sig)

    term.process.send_signal = timed_send  # type: ignore[method-assign]
    try:
        act(term, rnd)
        try:
            term.process.wait(timeout=give_up)
            took: float | None = time.monotonic() - ended_at[0]
        except subprocess.TimeoutExpired:
            took = None
    finally:
        term.hang_up = original_hang_up  # type: ignore[method-assign]
        term.close()
    return rnd.scenario, took, rounds.check_records(rnd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=56)
    parser.add_argument("--at-once", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--give-up", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path[:0] = [
        str(ROOT / "src"),
        str(ROOT / "tests" / "support"),
        str(ROOT / "tests" / "faults"),
    ]
    import test_hangup as rounds

    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    names = [name for name, (_, count) in rounds.SCENARIOS.items() for _ in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        plan = [
            rounds.Round(n, names[n % len(names)], random.Random(rng.random()), Path(tmp) / str(n))
            for n in range(args.rounds)
        ]
        with ThreadPoolExecutor(args.at_once) as pool:
            results = list(pool.map(lambda r: one_round(r, args.give_up), plan))
    by_scenario: dict[str, list[float | None]] = {}
    problems = [p for _, _, found in results for p in found]
    for scenario, took, _ in results:
        by_scenario.setdefault(scenario, []).append(took)
    strays = sum(took is None for _, took, _ in results)
    times = [took for _, took, _ in results if took is not None]
    report = {
        "seed": seed,
        "rounds": len(results),
        "strays": strays,
        "record_problems": problems,
        "median_s": statistics.median(times) if times else None,
        "max_s": max(times) if times else None,
        "by_scenario": {
            name: {
                "rounds": len(values),
                "strays": sum(v is None for v in values),
                "max_s": max((v for v in values if v is not None), default=None),
            }
            for name, values in by_scenario.items()
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"seed {seed}: {strays} of {len(results)} rounds left a process behind")
        print(f"hang-up to gone: median {report['median_s']:.2f} s, max {report['max_s']:.2f} s")
        for name, row in report["by_scenario"].items():
            worst = "-" if row["max_s"] is None else f"{row['max_s']:.2f} s"
            print(f"  {name:10} {row['rounds']:3} rounds  {row['strays']} strays  max {worst}")
        for problem in problems:
            print("  record:", problem)
    ok = strays == 0 and not problems and (report["max_s"] or 0) <= TARGET_SECONDS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
