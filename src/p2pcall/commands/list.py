"""`p2pcall list`: past calls, newest first, with the same filters and search as the app.

Text output is one line per call (a second, indented line shows where a search matched);
`--json` prints one object (field names documented in the README, stable):

    {"calls": [{"id", "started_at", "ended_at", "duration_seconds", "status", "outcome",
                "patient_ref", "insurer", "review_type", "note_count", "match"}],
     "truncated": bool, "time_zone": str}

Times are ISO 8601 with the UTC offset, in the practice's time zone (the computer's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_LIMIT = 100
PAGE = 500


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "list",
        parents=parents,
        help="list past calls, newest first (filters and full-text search)",
        description="List past calls, newest first. Dates are days in this computer's time "
        "zone, written YYYY-MM-DD; --since and --until both include their day.",
    )
    parser.add_argument("--insurer", metavar="TEXT", default="", help="insurer name contains")
    parser.add_argument(
        "--outcome",
        metavar="OUTCOME",
        default="",
        help="approved, partially_approved, denied, pending, educational_only or unfinished",
    )
    parser.add_argument("--since", metavar="DATE", default="", help="calls on or after this day")
    parser.add_argument("--until", metavar="DATE", default="", help="calls on or before this day")
    parser.add_argument(
        "--search", metavar="TEXT", default="", help="words in a note or field of the call"
    )
    parser.add_argument(
        "--limit",
        metavar="N",
        default=str(DEFAULT_LIMIT),
        help=f"at most N calls (default {DEFAULT_LIMIT}; 0 for all)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _fail(message: str, code: int = 2) -> int:
    from p2pcall.commands._records import error_line

    print(error_line("p2pcall list", message), file=sys.stderr)
    return code


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.domain.history import (
        FilterError,
        HistoryFilter,
        parse_day,
        parse_outcome,
        search_words,
    )
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import local_tz_name

    try:
        limit = int(args.limit)
        if limit < 0:
            raise ValueError
    except ValueError:
        return _fail(f"--limit wants a whole number (0 for all), not {one_line(args.limit, 40)!r}")
    try:
        tz = local_tz_name()
        flt = HistoryFilter(
            insurer=args.insurer,
            outcome=parse_outcome(args.outcome),
            since=parse_day(args.since, "--since") if args.since else None,
            until=parse_day(args.until, "--until") if args.until else None,
            search=args.search,
            tz=tz,
        )
    except FilterError as exc:
        return _fail(str(exc))
    if flt.since and flt.until and flt.since > flt.until:
        return _fail("--since is after --until: no day is in that range")
    if args.search.strip() and not search_words(args.search):
        return _fail("--search has no letters or digits to look for")

    from p2pcall.commands._records import CommandError, open_for_reading

    try:
        store = open_for_reading(data_dir, args.database)
    except CommandError as exc:
        return _fail(str(exc), 1)
    if store is None:
        # A read-only command does not create a database where none was.
        calls: list[Any] = []
        truncated = False
    else:
        from p2pcall.store import StoreError

        try:
            calls, truncated = _collect(store, flt, limit)
        except StoreError as exc:
            return _fail(str(exc), 1)
        finally:
            store.close()
    if args.json:
        _print_json(calls, truncated, tz)
    else:
        _print_text(calls, truncated, tz, limit, data_dir)
    return 0


def _collect(store: Any, flt: Any, limit: int) -> tuple[list[Any], bool]:
    from p2pcall.store.history import list_calls

    entries: list[Any] = []
    offset = 0
    while True:
        size = PAGE if limit == 0 else min(PAGE, limit - len(entries))
        page = list_calls(store, flt, offset=offset, limit=size)
        entries.extend(page.entries)
        offset += len(page.entries)
        if not page.has_more:
            return entries, False
        if limit and len(entries) >= limit:
            return entries, True


def _iso(moment: Any, tz: str) -> str | None:
    from p2pcall.domain.timefmt import to_local

    if moment is None:
        return None
    return to_local(moment, tz).isoformat()


def _print_json(entries: list[Any], truncated: bool, tz: str) -> None:
    import json

    calls = []
    for entry in entries:
        s = entry.summary
        match = entry.match
        calls.append(
            {
                "id": s.id,
                "started_at": _iso(s.started_at or s.created_at, tz),
                "ended_at": _iso(s.ended_at, tz),
                "duration_seconds": (None if s.duration_seconds is None else s.duration_seconds),
                "status": "unfinished" if s.ended_at is None else "ended",
                "outcome": s.outcome.value if s.outcome else None,
                "patient_ref": s.patient_ref,
                "insurer": s.insurer,
                "review_type": s.review_type or None,
                "note_count": s.note_count,
                "match": None
                if match is None
                else {
                    "where": match.where,
                    "section": match.section.value if match.section else None,
                    "snippet": match.snippet,
                },
            }
        )
    json.dump({"calls": calls, "truncated": truncated, "time_zone": tz}, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _print_text(entries: list[Any], truncated: bool, tz: str, limit: int, data_dir: Path) -> None:
    from p2pcall.domain.fields import spec_for
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import elapsed, stamp

    if not entries:
        from p2pcall.commands._records import shown

        print(
            "No calls match." if data_dir.exists() else f"No calls recorded in {shown(data_dir)}."
        )
        return
    review = spec_for("review_type")
    for entry in entries:
        s = entry.summary
        when = stamp(s.started_at or s.created_at, tz)[:16] + stamp(s.created_at, tz)[19:]
        status = s.outcome.label if s.outcome else ("UNFINISHED" if s.ended_at is None else "")
        duration = "" if s.duration_seconds is None else elapsed(s.duration_seconds)
        kind = review.display(s.review_type).split(" (")[0]
        cells = [
            f"{s.id:>6}",
            when,
            one_line(s.patient_ref or "-", 14).ljust(14),
            one_line(s.insurer or "-", 26).ljust(26),
            kind.ljust(13),
            status.ljust(18),
            duration.rjust(7),
            f"{s.note_count:>4} note" + ("" if s.note_count == 1 else "s"),
        ]
        print("  ".join(cells).rstrip())
        if entry.match is not None:
            print(f"        {entry.match.place}: {entry.match.snippet}")
    if truncated:
        print(f"(the newest {limit} shown; --limit 0 lists all)", file=sys.stderr)
