"""`p2pcall stats`: patterns across calls, per insurer, UM vendor, reviewer, criteria set or
month, counted in SQL. Text is a table of shares; `--json` prints every count with its
denominator (field names in the README):

    {"by", "since", "until", "time_zone",
     "total": GROUP, "groups": [GROUP, ...]}
    GROUP = {"key", "label", "calls", "outcomes": {OUTCOME: RATE}, "overturned_on_call": RATE,
             "same_specialty": RATE, "declined_to_identify": RATE,
             "days_to_written_decision": {"days", "of"}, "days_to_documents_received":
             {"days", "of"}, "promises_kept": RATE, "criteria_cited": {SET: calls}}
    RATE = {"count", "of", "rate"}   (rate is null when there is nothing to count)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.domain.stats import StatsReport

GROUPINGS = ("insurer", "vendor", "reviewer", "criteria", "month")


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "stats",
        parents=parents,
        help="patterns across calls: outcomes, reviewers' specialty, promises kept",
        description="Patterns across calls, per insurer, UM vendor, reviewer, criteria set "
        "or month. Dates are days in this computer's time zone, YYYY-MM-DD, both included.",
    )
    parser.add_argument("--by", choices=GROUPINGS, default=None, help="one row per ...")
    parser.add_argument("--since", metavar="DATE", default="", help="calls on or after this day")
    parser.add_argument("--until", metavar="DATE", default="", help="calls on or before this day")
    parser.add_argument("--insurer", metavar="TEXT", default="", help="insurer name contains")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _fail(message: str) -> int:
    print(f"p2pcall stats: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.domain.history import FilterError, HistoryFilter, parse_day
    from p2pcall.domain.timefmt import local_tz_name

    try:
        tz = local_tz_name()
        flt = HistoryFilter(
            insurer=args.insurer,
            since=parse_day(args.since, "--since") if args.since else None,
            until=parse_day(args.until, "--until") if args.until else None,
            tz=tz,
        )
    except FilterError as exc:
        return _fail(str(exc))
    if flt.since and flt.until and flt.since > flt.until:
        return _fail("--since is after --until: no day is in that range")

    from p2pcall.commands._records import CommandError, open_for_reading
    from p2pcall.store import StoreError
    from p2pcall.store.stats import call_stats

    try:  # read-only: nothing created, upgraded or locked (see `Store.open_read_only`)
        store = open_for_reading(data_dir, args.database)
    except CommandError as exc:
        print(f"p2pcall stats: {exc}", file=sys.stderr)
        return 1
    if store is None:
        print(f"p2pcall stats: no calls recorded in {data_dir}", file=sys.stderr)
        return 1
    try:
        report = call_stats(store, args.by, flt, tz)
    except StoreError as exc:
        print(f"p2pcall stats: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        import json

        json.dump(report.as_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_text(report)
    return 0


def _print_text(report: StatsReport) -> None:
    from p2pcall.domain.stats import LEGEND, text_header, text_row
    from p2pcall.domain.text import one_line

    width = 28
    title = (report.by or "all").capitalize()
    print(text_header(title, width))
    for group in report.groups:
        print(text_row(one_line(group.label, width - 1), group, width))
    print(text_row("All calls", report.total, width))
    total = report.total
    print(
        f"Days to the written decision: {total.days_to_decision.days()} "
        f"({total.days_to_decision.of} calls); to promised documents: "
        f"{total.days_to_documents.days()} ({total.days_to_documents.of} received)."
    )
    import textwrap

    print(textwrap.fill(LEGEND, 78))
