"""What the record checks cost: the head recomputed on every export, the schema comparison.

Builds a temporary database with one finalized call of --notes notes (through the real store,
so the guards and the search triggers run), then measures (median of --runs):

* `load_for_export` of that call, which now reads the chain inputs in the same transaction and
  recomputes the head before returning the record;
* `Store.load_call` alone, for comparison (what exports read before);
* `schema_differences` (the in-memory reference schema is built once per process: the first
  call is shown apart);
* `p2pcall verify` of a text export as a subprocess (wall time, interpreter start included).

Usage: python benchmarks/record_checks.py [--notes 400] [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=400)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

    from p2pcall.domain.export import render
    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.domain.vocab import NoteKind, Outcome
    from p2pcall.exportfile import write_export
    from p2pcall.store import Store
    from p2pcall.store.exporting import load_for_export
    from p2pcall.store.integrity import schema_differences

    root = Path(tempfile.mkdtemp(prefix="p2pcall-bench-"))
    results: dict[str, float] = {}
    try:
        data_dir = root / "data"
        store = Store.open(data_dir)
        call = store.start_call("America/New_York")
        sections = list(Section)
        for index in range(args.notes):
            body = f"note {index}: reviewer cited the criteria for level of care " * 3
            store.add_note(call.id, sections[index % 7], NoteKind.NOTE, body, now_utc())
        store.end_call(call.id, Outcome.DENIED)
        store.finalize_call(call.id)

        results["load_call ms"] = timed(lambda: store.load_call(call.id), args.runs)
        results["load_for_export (head recomputed) ms"] = timed(
            lambda: load_for_export(store, call.id), args.runs
        )
        start = time.perf_counter()
        schema_differences(store)
        results["schema_differences, first ms"] = (time.perf_counter() - start) * 1000
        results["schema_differences ms"] = timed(lambda: schema_differences(store), args.runs)

        path = write_export(
            root / "call.txt", render(load_for_export(store, call.id), "text", now_utc())
        )
        store.close()
        command = [
            sys.executable,
            "-m",
            "p2pcall",
            "verify",
            str(path),
            "--data-dir",
            str(data_dir),
        ]
        samples = []
        for _ in range(max(3, args.runs // 3)):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            samples.append(time.perf_counter() - start)
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                return 1
        results["p2pcall verify s"] = statistics.median(samples)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"one finalized call of {args.notes} notes, median of {args.runs} runs")
        for name, value in results.items():
            print(f"  {name:<40} {value:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
