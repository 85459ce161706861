"""Exporting one call: load it with its follow-ups, render each format, and the CLI end to end.

Builds a temporary database with --calls background calls of --notes notes each (rows written
with plain sqlite3 in one transaction, so the set-up is quick), plus a typical call (40 notes)
and a long one (400 notes), all with the same fields. Then, for the typical and the long call:
`load_for_export` and `render` for text, Markdown and JSON (median of --runs), and
`p2pcall export CALL --format json` as a subprocess (wall time, interpreter start included).

Loading one call is by primary key and the note index (call_id, saved_at), so its cost does not
grow with the size of the database; --calls only checks that.

Usage: python benchmarks/export_one.py [--calls 2000] [--notes 40] [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

RENDER_TARGET_MS = 100.0  # a typical call, any format
# `p2pcall export`, start-up included: importing SQLAlchemy/SQLModel alone is ~0.6 s here.
CLI_TARGET_S = 3.0

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
WORDS = ["reviewer", "criteria", "residential", "level", "care", "risk", "denial", "approve",
         "documented", "plan"]  # fmt: skip


def build(data_dir: Path, calls: int, notes_each: int) -> dict[str, int]:
    from p2pcall.paths import database_path
    from p2pcall.store import Store

    Store.open(data_dir).close()  # creates the schema
    db = sqlite3.connect(database_path(data_dir), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    start = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)
    ids: dict[str, int] = {}
    sizes = [("background", notes_each)] * calls + [("typical", 40), ("long", 400)]
    for index, (kind, count) in enumerate(sizes):
        began = start + timedelta(hours=5 * index)
        call_id = db.execute(
            "INSERT INTO call (created_at, tz, started_at, ended_at, outcome) VALUES (?,?,?,?,?)",
            (
                began.strftime(STAMP),
                "America/New_York",
                began.strftime(STAMP),
                (began + timedelta(minutes=20)).strftime(STAMP),
                "denied",
            ),
        ).lastrowid
        fields = (("patient_ref", f"P-{index:05d}"), ("insurer", "Acme Health"),
                  ("review_type", "concurrent"), ("reviewer_name", "Dr. Ruiz"))  # fmt: skip
        for key, value in fields:
            db.execute(
                "INSERT INTO call_field (call_id, key, value, declined, updated_at, late) "
                "VALUES (?,?,?,0,?,0)",
                (call_id, key, value, began.strftime(STAMP)),
            )
        for n in range(count):
            moment = (began + timedelta(seconds=20 * n)).strftime(STAMP)
            body = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(18))
            db.execute(
                "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late) "
                "VALUES (?,?,?,?,?,?,0)",
                (call_id, "ABCDEFG"[n % 7], "note", body, moment, moment),
            )
        if kind != "background":
            ids[kind] = call_id
    db.execute("COMMIT")
    db.close()
    return ids


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - begin) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from p2pcall.domain.export import render
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.store import Store
    from p2pcall.store.exporting import load_for_export

    tmp = Path(tempfile.mkdtemp(prefix="p2pcall-export-bench-"))
    results: dict[str, float] = {}
    try:
        data_dir = tmp / "data"
        ids = build(data_dir, args.calls, args.notes)
        store = Store.open(data_dir)
        try:
            for name, call_id in ids.items():
                results[f"{name}: load_for_export ms"] = timed(
                    lambda c=call_id: load_for_export(store, c), args.runs
                )
                record = load_for_export(store, call_id)
                for fmt in ("text", "markdown", "json"):
                    results[f"{name}: render {fmt} ms"] = timed(
                        lambda f=fmt, r=record: render(r, f, now_utc()), args.runs
                    )
        finally:
            store.close()
        for name, call_id in ids.items():
            command = [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), "export",
                       str(call_id), "--format", "json"]  # fmt: skip
            samples = []
            for _ in range(3):
                begin = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                samples.append(time.perf_counter() - begin)
            results[f"{name}: p2pcall export (s)"] = statistics.median(samples)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    worst_typical = max(v for k, v in results.items() if k.startswith("typical: render"))
    ok = worst_typical < RENDER_TARGET_MS and results["typical: p2pcall export (s)"] < CLI_TARGET_S
    if args.json:
        print(json.dumps({"calls": args.calls + 2, "results": results, "ok": ok}, indent=2))
    else:
        print(f"database: {args.calls + 2} calls, {args.calls * args.notes + 440} notes")
        for key, value in results.items():
            print(f"  {key:<34} {value:8.2f}")
        print(
            f"target: typical call renders in < {RENDER_TARGET_MS:.0f} ms in every format, "
            f"`p2pcall export` < {CLI_TARGET_S:.1f} s: {'met' if ok else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
