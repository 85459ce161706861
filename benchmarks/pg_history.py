"""History and search at ten years' scale on a practice's PostgreSQL server, and on SQLite.

Usage: python benchmarks/pg_history.py [--db-dir DIR] [--calls 50000] [--notes 1000000]
       [--runs 7] [--rebuild] [--json]

1. The SQLite database of `history_scale.py`'s generator (cached in --db-dir): a busy
   practice's ten years, 50,000 calls and 1,000,000 notes by default, with their fields.
2. A throwaway PostgreSQL cluster started as the tests start one (tests/support/pg_cluster.py:
   a temporary folder, a Unix socket, the Debian server binaries), a database set up by
   `p2pcall db init`, and the same calls, fields and notes copied in as the clinician dr_lee
   (multi-row INSERTs of unnest() arrays, ids kept: COPY FROM is refused on tables with
   row-level security), then VACUUM ANALYZE, as autovacuum would have done by then.
3. The history's queries as the screen and `p2pcall list` run them (`history.list_calls`
   and `count_calls` through the store the app opens: `PgStore` connected as dr_lee, row-level
   security on; `Store` on the SQLite file), each `--runs` times after one warm-up run:
   the first page, a later page, filters, searches for a common word, two words, a rare
   word, a word found nowhere, prefixes, and searches with dates.

Prints the median and the worst run of each, per database. Target: every PostgreSQL median
and worst under 150 ms (exit 1 otherwise). Never used as a test assertion.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

TARGET_MS = 150.0
CHUNK = 20_000
TABLES = {
    "call": (
        "SELECT id, created_at, tz, started_at, ended_at, outcome FROM call ORDER BY id",
        "id, created_at, tz, started_at, ended_at, outcome",
        "bigint, timestamptz, text, timestamptz, timestamptz, text",
    ),
    "call_field": (
        "SELECT call_id, key, value, declined, updated_at, late FROM call_field "
        "ORDER BY call_id, key",
        "call_id, key, value, declined, updated_at, late",
        "bigint, text, text, boolean, timestamptz, boolean",
    ),
    "note": (
        "SELECT id, call_id, section, kind, body, started_at, saved_at, late FROM note ORDER BY id",
        "id, call_id, section, kind, body, started_at, saved_at, late",
        "bigint, bigint, text, text, text, timestamptz, timestamptz, boolean",
    ),
}


def copy_to_server(sqlite_path: Path, url: str) -> dict[str, int]:
    """The calls, fields and notes of the SQLite file, inserted as the URL's role."""
    import psycopg

    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET search_path = p2pcall")
        for table, (select, columns, types) in TABLES.items():
            arrays = ", ".join(f"%s::{kind}[]" for kind in types.split(", "))
            insert = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"
            cursor = source.execute(select)
            counts[table] = 0
            while rows := cursor.fetchmany(CHUNK):
                booleans = [i for i, kind in enumerate(types.split(", ")) if kind == "boolean"]
                columns_of = [list(column) for column in zip(*rows, strict=True)]
                for index in booleans:
                    columns_of[index] = [bool(value) for value in columns_of[index]]
                conn.execute(insert, columns_of)
                counts[table] += len(rows)
            conn.commit()
    source.close()
    return counts


def sample_words(sqlite_path: Path) -> dict[str, str]:
    """A reference number that occurs in one note or two (a rare word)."""
    db = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    body = db.execute(
        "SELECT body FROM note WHERE body LIKE '%P2P-%' ORDER BY id LIMIT 1 OFFSET 1000"
    ).fetchone()[0]
    db.close()
    number = body.split("P2P-", 1)[1][:6]
    return {"rare": number}


def cases(rare: str) -> list[tuple[str, dict[str, Any], int]]:
    """(label, HistoryFilter arguments, offset)."""
    month = {"since": date(2019, 6, 1), "until": date(2019, 6, 30)}
    year = {"since": date(2020, 1, 1), "until": date(2020, 12, 31)}
    return [
        ("list: first page", {}, 0),
        ("list: page 10", {}, 900),
        ("list: insurer", {"insurer": "harbor"}, 0),
        ("list: outcome + year", {"outcome": "denied", **year}, 0),
        ("count: every call", {"count": True}, 0),
        ("count: insurer", {"insurer": "harbor", "count": True}, 0),
        ("search: common word", {"search": "reviewer"}, 0),
        ("search: common, page 5", {"search": "reviewer"}, 400),
        ("search: two words", {"search": "lithium trial"}, 0),
        ("search: rare word", {"search": rare}, 0),
        ("search: no match", {"search": "zyxwvut"}, 0),
        ("search: prefix", {"search": "quetia"}, 0),
        ("search: common prefix", {"search": "revi"}, 0),
        ("search: 2-letter prefix", {"search": "re"}, 0),
        ("search: accents", {"search": "QUÉTIAPINE dose"}, 0),
        ("search: field word", {"search": "northwind"}, 0),
        ("dated: until 2018", {"search": "reviewer", "until": date(2018, 1, 1)}, 0),
        ("dated: one month", {"search": "reviewer", **month}, 0),
        ("dated: one year", {"search": "reviewer", **year}, 0),
        ("dated: since 2024", {"search": "reviewer", "since": date(2024, 1, 1)}, 0),
        ("dated: rare, one year", {"search": rare, **year}, 0),
        ("dated: prefix, one month", {"search": "quetia", **month}, 0),
    ]


def measure(store: Any, runs: int, rare: str) -> dict[str, dict[str, float]]:
    from p2pcall.domain.history import HistoryFilter
    from p2pcall.store.history import count_calls, list_calls

    results: dict[str, dict[str, float]] = {}
    for label, arguments, offset in cases(rare):
        arguments = dict(arguments)
        counting = arguments.pop("count", False)
        flt = HistoryFilter(tz="America/New_York", **arguments)
        times = []
        rows = 0
        for run in range(runs + 1):
            started = time.perf_counter()
            if counting:
                rows = count_calls(store, flt)
            else:
                rows = len(list_calls(store, flt, offset=offset).entries)
            if run:  # the first run warms the caches, as the screen's first search does
                times.append((time.perf_counter() - started) * 1000)
        results[label] = {
            "median_ms": round(statistics.median(times), 1),
            "worst_ms": round(max(times), 1),
            "rows": rows,
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-dir", default="/tmp/p2pcall-pg-history")
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import history_scale
    import pg_cluster
    from p2pcall.store import Store
    from p2pcall.store.opening import open_store

    db_dir = Path(args.db_dir)
    db_dir.mkdir(parents=True, exist_ok=True)
    sqlite_path = history_scale.ensure_database(db_dir, args.calls, args.notes, args.rebuild)
    rare = sample_words(sqlite_path)["rare"]

    cluster = pg_cluster.start_cluster()
    try:
        url = pg_cluster.p2pcall_database(cluster)
        started = time.perf_counter()
        counts = copy_to_server(sqlite_path, url)
        copied = time.perf_counter() - started
        from urllib.parse import urlsplit

        import psycopg

        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(cluster.dsn(dbname=name), autocommit=True) as su:
            su.execute("VACUUM ANALYZE p2pcall.call, p2pcall.call_field, p2pcall.note")
        seeded = time.perf_counter() - started
        print(
            f"server: {counts['call']:,} calls, {counts['call_field']:,} fields, "
            f"{counts['note']:,} notes inserted as dr_lee in {copied:.0f} s "
            f"(with VACUUM ANALYZE {seeded:.0f} s)",
            flush=True,
        )
        pg_store = open_store(db_dir / "pg-local", url)
        try:
            server = measure(pg_store, args.runs, rare)
        finally:
            pg_store.close()
    finally:
        cluster.stop()
    sqlite_store = Store.open(db_dir)
    try:
        local = measure(sqlite_store, args.runs, rare)
    finally:
        sqlite_store.close()

    worst = max(max(r["median_ms"], r["worst_ms"]) for r in server.values())
    if args.json:
        print(json.dumps({"postgres": server, "sqlite": local, "rare_word": rare}, indent=2))
    else:
        print(f"rare word: {rare}; {args.runs} runs each after a warm-up; ms")
        print(f"{'query':<28} {'PG median':>9} {'PG worst':>9} {'SQLite med':>10} "
              f"{'SQLite worst':>12} {'rows':>6}")  # fmt: skip
        for label, found in server.items():
            mine = local[label]
            same = "" if found["rows"] == mine["rows"] else f"  (SQLite rows {mine['rows']})"
            print(
                f"{label:<28} {found['median_ms']:>9.1f} {found['worst_ms']:>9.1f} "
                f"{mine['median_ms']:>10.1f} {mine['worst_ms']:>12.1f} {found['rows']:>6}{same}"
            )
        print(f"PostgreSQL worst: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
