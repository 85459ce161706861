"""The packet's summary table: rows of words and figures from the stats aggregation.

The figures come from `store.stats.call_stats` over exactly the packed calls (nothing is
counted here); this only words them. Every rate shows its count and denominator.
"""

from __future__ import annotations

from typing import Any

from p2pcall.domain.stats import OUTCOME_KEYS, GroupStats, Rate, StatsReport
from p2pcall.domain.vocab import CriteriaSet, Outcome

# Rows that follow what happened after the call (follow-ups marked done, documents marked
# received): work tracking that may move on after the packet was made (see verify).
FOLLOW_THROUGH = ("Days to written decision", "Days to documents received", "Promises kept")
FOLLOW_THROUGH_KEYS = ("days_to_written_decision", "days_to_documents_received", "promises_kept")


def _rate(count: int, of: int, percent: str) -> str:
    return f"{count} of {of} ({percent})" if of else f"{count} of {of} (no data)"


def _of(rate: Rate, words: str) -> str:
    return f"{_rate(rate.count, rate.of, rate.percent())} {words}"


def _outcome_label(key: str) -> str:
    if key == "none":
        return "No outcome recorded"
    member = Outcome.parse(key)
    return member.label if member else key


def _criteria(cited: dict[str, int]) -> str:
    if not cited:
        return "none recorded"
    parts = []
    for value, count in sorted(cited.items(), key=lambda kv: (-kv[1], kv[0])):
        member = CriteriaSet.parse(value)
        parts.append(f"{member.label if member else value} {count}")
    return ", ".join(parts)


def summary_rows(
    report: StatsReport, first_day: str | None, last_day: str | None
) -> list[tuple[str, str]]:
    """(label, value) rows of the summary table, in reading order."""
    total: GroupStats = report.total
    span = f"{first_day} to {last_day}" if first_day and last_day else "no calls"
    rows = [
        ("Calls", str(total.calls)),
        ("Dates", f"{span} (local days the calls were made)"),
    ]
    for key in (*OUTCOME_KEYS, "none"):
        rate = total.outcome_rate(key)
        if key == "none" and rate.count == 0:
            continue
        rows.append((_outcome_label(key), _rate(rate.count, rate.of, rate.percent())))
    rows += [
        ("Overturned on call", _of(total.overturned, "of calls after a denial")),
        ("Same specialty", _of(total.same_specialty, "of calls where it was noted")),
        ("Declined to identify", _of(total.declined_to_identify, "(reviewer's name declined)")),
        ("Criteria cited", _criteria(total.criteria)),
        (
            "Days to written decision",
            f"{total.days_to_decision.days()} ({total.days_to_decision.of} calls)",
        ),
        (
            "Days to documents received",
            f"{total.days_to_documents.days()} ({total.days_to_documents.of} received)",
        ),
        ("Promises kept", _of(total.promises_kept, "of promises whose keeping is known")),
    ]
    return rows


def summary_json(
    report: StatsReport, first_day: str | None, last_day: str | None
) -> dict[str, Any]:
    """The summary as the JSON packet holds it: the stats figures, every count with its
    denominator (the field names of `p2pcall stats --json`)."""
    total = report.total.as_json()
    for key in ("key", "label"):
        total.pop(key, None)
    return {
        "first_day": first_day,
        "last_day": last_day,
        **total,
    }
