"""`p2pcall db copy --from local` on a laptop history of a given size, against a local server.

Builds a laptop database of --calls calls of --notes notes each (export_one.py's generator:
plain sqlite3, one transaction), finalizes every other call through the store, starts a
throwaway PostgreSQL cluster (tests/support/pg_cluster.py), and runs `p2pcall db copy` as a
subprocess twice: the first copies everything (and compares every call before and after the
commit), the second finds every call copied and compares them again. Wall time of each, and
calls per second.

Usage: python benchmarks/db_copy.py [--calls 500] [--notes 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "benchmarks"))
# A year of a busy clinician (~500 calls) copied, checked twice, in under a minute.
TARGET_CALLS_PER_S = 10.0


def copy_once(data_dir: Path, url: str) -> tuple[float, int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "P2PCALL_"))}
    started = time.perf_counter()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "p2pcall", "db", "copy", "--from", "local"),
            *("--data-dir", str(data_dir), "--database", url),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    return time.perf_counter() - started, done.returncode, done.stdout.splitlines()[-1:][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import pg_cluster as pgc
    from export_one import build
    from p2pcall.store import Store

    folder = Path(tempfile.mkdtemp(prefix="p2pcall-copy-bench-"))
    cluster = pgc.start_cluster()
    try:
        data_dir = folder / "laptop"
        ids = build(data_dir, args.calls, args.notes)
        store = Store.open(data_dir)
        try:
            calls = [c.id for c in store.recent_calls(limit=args.calls + 10)]
            for call_id in calls[::2]:
                store.finalize_call(call_id)
        finally:
            store.close()
        total = args.calls + 2  # export_one adds a typical and a long call
        del ids
        url = pgc.p2pcall_database(cluster, "dr_lee")
        first = copy_once(data_dir, url)
        second = copy_once(data_dir, url)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "calls": total,
        "notes_each": args.notes,
        "first_copy_s": round(first[0], 2),
        "first_exit": first[1],
        "first_last_line": first[2],
        "second_copy_s": round(second[0], 2),
        "second_exit": second[1],
        "calls_per_s_first": round(total / first[0], 1),
        "calls_per_s_second": round(total / second[0], 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")
    ok = first[1] == 0 and second[1] == 0 and figures["calls_per_s_first"] >= TARGET_CALLS_PER_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
