"""`p2pcall due`: follow-ups overdue, due today and due soon, across every call."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from p2pcall.domain.followups import DueItem, DueReport

DEFAULT_DAYS = 7
MAX_DAYS = 366


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of days") from None
    if not 0 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"use 0 to {MAX_DAYS} days, not {days}")
    return days


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "due",
        parents=parents,
        help="list follow-ups that are overdue, due today or due soon, across all calls",
        description="Follow-ups still planned, across all calls: overdue, due today, and due "
        "in the next DAYS days. Dates are advice: check the date on the notice.",
    )
    parser.add_argument(
        "--within",
        metavar="DAYS",
        type=_days,
        default=DEFAULT_DAYS,
        help=f"how many days ahead to look (default {DEFAULT_DAYS})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import CommandError, error_line, open_for_reading
    from p2pcall.domain.timefmt import local_tz_name, now_utc

    try:
        store = open_for_reading(data_dir, args.database)
    except CommandError as exc:
        print(error_line("p2pcall due", str(exc)), file=sys.stderr)
        return 1
    if store is None:
        report = None
    else:
        from p2pcall.store import StoreError

        try:
            report = store.due_across_calls(now_utc(), args.within, local_tz_name())
        except StoreError as exc:
            print(error_line("p2pcall due", str(exc)), file=sys.stderr)
            return 1
        finally:
            store.close()
    # A coordinator or admin on a practice server works every clinician's calls.
    every_clinician = getattr(store, "role", "clinician") != "clinician"
    if args.json:
        print(json.dumps(_as_json(report, args.within), indent=2, ensure_ascii=False))
    else:
        print(_as_text(report, args.within, with_clinician=every_clinician))
    return 0


def _as_text(report: DueReport | None, within: int, *, with_clinician: bool = False) -> str:
    from p2pcall.domain.followups import CHECK_NOTICE, due_source, due_text
    from p2pcall.domain.followups import followup_title as title

    if report is None:
        return "No records yet: nothing is due."
    lines: list[str] = []
    for heading, items in report.groups:
        if not items:
            continue
        lines.append(f"{heading} ({len(items)})")
        for item in items:
            f = item.followup
            lines.append(f"  {due_text(item.due, item.tz)}  {title(f)}")
            lines.append(f"      {item.call_label(with_clinician=with_clinician)}")
            source = due_source(f)
            if source:
                lines.append(f"      {source}")
    if not lines:
        lines.append(f"Nothing overdue or due in the next {within} days.")
    else:
        lines.append(CHECK_NOTICE)
    if report.undated:
        lines.append(f"{report.undated} planned follow-up(s) have no date (set one in the app).")
    return "\n".join(lines)


def _as_json(report: DueReport | None, within: int) -> dict[str, Any]:
    from p2pcall.domain.deadlines import DeadlineInputError, get_rule

    def entry(item: DueItem) -> dict[str, Any]:
        f = item.followup
        citation = None
        if f.rule_id:
            try:
                citation = get_rule(f.rule_id).citation
            except DeadlineInputError:
                citation = None
        return {
            "id": f.id,
            "call_id": f.call_id,
            "patient_ref": item.patient_ref,
            "insurer": item.insurer,
            "clinician": item.clinician,
            "action": f.action.value,
            "action_label": f.action.label,
            "note": f.note,
            "due": item.due.isoformat(),
            "computed_due": f.computed_due.isoformat() if f.computed_due else None,
            "legal_due": f.legal_due.isoformat() if f.legal_due else None,
            "due_override": f.due_override.isoformat() if f.due_override else None,
            "override_reason": f.override_reason,
            "rule_id": f.rule_id,
            "citation": citation,
            "call_tz": item.tz,
        }

    keys = ("overdue", "due_today", "due_soon")
    groups = (report.overdue, report.today, report.soon) if report else ([], [], [])
    return {
        "within_days": within,
        **{key: [entry(i) for i in items] for key, items in zip(keys, groups, strict=True)},
        "undated": report.undated if report else 0,
        "reminder": "Dates are advice: check the date on the notice.",
    }
