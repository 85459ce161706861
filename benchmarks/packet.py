"""An evidence packet of 200 calls at ten years' scale (issue 14's target: under 10 s).

On a copy of the database history_scale.py generates (12,500 calls, 500,000 notes, about
40 notes a call, ~600 reviewers), 200 calls of one insurer are finalized (the generator
finalizes none); then, in a fresh process each time (start-up included), wall time of:

  p2pcall packet --insurer X --format json -o FILE     target < 10 s
  p2pcall packet --insurer X --format pdf -o FILE      target < 10 s
  p2pcall verify FILE (the JSON packet, record by record against the database)

The insurer has more calls than the 200 finalized: the rest are left out, as a packet does
with calls not finalized. Never used as test assertions.

Usage: python benchmarks/packet.py [--db-dir DIR] [--runs N] [--calls 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import history_scale  # noqa: E402

TARGET_S = 10.0
INSURER = "Blue Harbor Mutual"  # 978 calls in the generated database


def scratch_with_finalized(db_dir: Path, calls: int) -> Path:
    """A copy of the generated database with `calls` of INSURER's ended calls finalized."""
    from p2pcall.store import Store

    scratch = Path(tempfile.mkdtemp(prefix="p2pcall-packet-bench-"))
    source = sqlite3.connect(db_dir / "p2pcall.sqlite3")
    target = sqlite3.connect(scratch / "p2pcall.sqlite3")
    source.backup(target)
    source.close()
    ids = [
        row[0]
        for row in target.execute(
            "SELECT c.id FROM call c JOIN call_field f ON f.call_id = c.id AND f.key = 'insurer' "
            "WHERE f.value = ? AND c.ended_at IS NOT NULL ORDER BY c.created_at LIMIT ?",
            (INSURER, calls),
        )
    ]
    target.close()
    if len(ids) < calls:
        raise SystemExit(f"only {len(ids)} ended calls of {INSURER}")
    store = Store.open(scratch)
    try:
        for call_id in ids:
            store.finalize_call(call_id)
    finally:
        store.close()
    return scratch


def timed(args: list[str]) -> tuple[float, str]:
    env = {**os.environ}
    env.pop("P2PCALL_DATA_DIR", None)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "p2pcall", *args], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"p2pcall {args[2]} failed: {proc.stderr.strip()}")
    return elapsed, proc.stderr.strip() or proc.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db-dir", help="where the generated database is kept (reused)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    db_dir = Path(args.db_dir or Path(tempfile.gettempdir()) / "p2pcall-history-scale")
    db_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    history_scale.ensure_database(db_dir, history_scale.CALLS, history_scale.NOTES, False)
    scratch = scratch_with_finalized(db_dir, args.calls)
    out = Path(tempfile.mkdtemp(prefix="p2pcall-packet-out-"))
    results: dict[str, list[float]] = {}
    said: dict[str, str] = {}
    try:
        base = ["--data-dir", str(scratch)]
        for fmt in ("json", "pdf"):
            for run in range(args.runs):
                target = out / f"packet-{run}.{fmt}"
                seconds, said[fmt] = timed(
                    [*base, "packet", "--insurer", INSURER, "-f", fmt, "-o", str(target)]
                )
                results.setdefault(f"packet {fmt}", []).append(seconds)
            size = (out / f"packet-0.{fmt}").stat().st_size
            said[fmt] += f"; {size / 1e6:.1f} MB"
        for _run in range(args.runs):
            seconds, said["verify"] = timed([*base, "verify", str(out / "packet-0.json")])
            results.setdefault("verify json", []).append(seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    print(f"database: {db_dir / 'p2pcall.sqlite3'} (copy), {args.calls} calls finalized")
    for label, times in results.items():
        print(f"  {label:<12} median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    for label, text in said.items():
        print(f"  {label}: {text}")
    worst = max(max(results["packet json"]), max(results["packet pdf"]))
    ok = worst < TARGET_S
    print(f"{'PASS' if ok else 'MISS'}: slowest packet {worst:.2f} s (< {TARGET_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
