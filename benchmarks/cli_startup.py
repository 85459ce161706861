"""Read-only commands from the shell against a bare Python start (issue 17).

Usage: python benchmarks/cli_startup.py DATA_DIR [DATA_DIR ...] [--runs 7] [--json]
(databases made by history_scale.py's generator, e.g. 1,250 / 12,500 / 50,000 calls).

For each database and each of `list`, `due`, `show 7`, `export 7 --format json`, `verify`
(of an export of call 7 written first) and `where`: the command as a fresh process and
`python -c "import sqlite3"`, in turn (A B A B ...), each pair's ratio of wall time and of CPU
time (the children's user + system), then the median. Target: every ratio <= 8 and flat
as the history grows (`due` prints every overdue follow-up: its output grows with them).

The children run without PYTHONDONTWRITEBYTECODE, so the warm-up run leaves p2pcall's compiled
bytecode in __pycache__ as an installed copy has it: with that variable set (as in the helpers'
shells) every run compiles p2pcall's sources again, about 30 ms of CPU (`show`: 110 ms
against 81 ms) that no installed copy pays.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "list": ["list"],
    "due": ["due"],
    "show": ["show", "7"],
    "export": ["export", "7", "--format", "json"],
    "verify": ["verify", "EXPORT"],
    "where": ["where"],
}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (its output thrown away)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(data_dir: Path, runs: int, export: Path) -> dict[str, dict[str, float]]:
    bare = [sys.executable, "-c", "import sqlite3"]
    results: dict[str, dict[str, float]] = {}
    for name, args in COMMANDS.items():
        argv = [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir)]
        argv += [str(export) if arg == "EXPORT" else arg for arg in args]
        _timed(argv), _timed(bare)  # warm the page cache
        walls, cpus, wall_ratios, cpu_ratios = [], [], [], []
        for _ in range(runs):
            wall_a, cpu_a = _timed(argv)
            wall_b, cpu_b = _timed(bare)
            walls.append(wall_a)
            cpus.append(cpu_a)
            wall_ratios.append(wall_a / wall_b)
            cpu_ratios.append(cpu_a / max(cpu_b, 1e-3))
        results[name] = {
            "wall_s": statistics.median(walls),
            "cpu_s": statistics.median(cpus),
            "wall_ratio": statistics.median(wall_ratios),
            "cpu_ratio": statistics.median(cpu_ratios),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, dict[str, dict[str, float]]] = {}
    worst = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for folder in args.dirs:
            export = Path(scratch) / f"{Path(folder).name}-call-7.txt"
            write = ["export", "7", "-o", str(export), "--force"]
            subprocess.run(
                [sys.executable, "-m", "p2pcall", "--data-dir", folder, *write],
                check=True,
                capture_output=True,
            )
            report[folder] = measure(Path(folder), args.runs, export)
            for name, row in report[folder].items():
                if name != "due":
                    worst = max(worst, row["wall_ratio"])
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{'database':>10} {'command':<8} {'wall':>8} {'cpu':>8} {'wall x':>7} {'cpu x':>7}")
        for folder, rows in report.items():
            for name, row in rows.items():
                print(
                    f"{Path(folder).name:>10} {name:<8} {row['wall_s'] * 1000:6.0f}ms "
                    f"{row['cpu_s'] * 1000:6.0f}ms {row['wall_ratio']:7.1f} {row['cpu_ratio']:7.1f}"
                )
    return 0 if worst <= 8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
