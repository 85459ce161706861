"""Patterns across calls: what is counted, how a group is named, and how rates are written.

Pure: the store counts in SQL (store/stats.py) and fills these; `p2pcall stats` and the
insights screen show them. Every rate carries its count and its denominator, so a reader
can check it, and a rate with nothing to count is None ("no data"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

GROUPINGS = ("insurer", "vendor", "reviewer", "criteria", "month")
OUTCOME_KEYS = (
    "approved",
    "partially_approved",
    "denied",
    "pending",
    "educational_only",
)
NOT_GIVEN = "(not recorded)"


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def value(self) -> float | None:
        return None if self.of == 0 else self.count / self.of

    def as_json(self) -> dict[str, Any]:
        value = self.value
        return {
            "count": self.count,
            "of": self.of,
            "rate": None if value is None else round(value, 4),
        }

    def percent(self) -> str:
        value = self.value
        return "\u2014" if value is None else f"{round(100 * value)}%"


@dataclass(frozen=True)
class Average:
    total: float
    of: int

    @property
    def value(self) -> float | None:
        return None if self.of == 0 else self.total / self.of

    def as_json(self) -> dict[str, Any]:
        value = self.value
        return {"days": None if value is None else round(value, 1), "of": self.of}

    def days(self) -> str:
        value = self.value
        return "\u2014" if value is None else f"{value:.1f} d"


@dataclass(frozen=True)
class GroupStats:
    """One row: a group of calls (an insurer, a vendor, a reviewer, a criteria set, a month)."""

    key: str
    label: str
    calls: int
    outcomes: dict[str, int]  # OUTCOME_KEYS and "none" (not ended or no outcome)
    overturned: Rate  # a denial before the call, approved or partly approved on it
    same_specialty: Rate  # "same specialty: yes" of the calls where it was answered
    declined_to_identify: Rate  # reviewer's name declined, of all calls
    days_to_decision: Average  # call to the plan's written decision (its chase marked done)
    days_to_documents: Average  # call to a promised document or commitment received
    promises_kept: Rate  # received by the date, of promises settled (received, not, overdue)
    criteria: dict[str, int] = field(default_factory=dict)  # criteria set value -> calls

    def outcome_rate(self, key: str) -> Rate:
        return Rate(self.outcomes.get(key, 0), self.calls)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "calls": self.calls,
            "outcomes": {key: self.outcome_rate(key).as_json() for key in (*OUTCOME_KEYS, "none")},
            "overturned_on_call": self.overturned.as_json(),
            "same_specialty": self.same_specialty.as_json(),
            "declined_to_identify": self.declined_to_identify.as_json(),
            "days_to_written_decision": self.days_to_decision.as_json(),
            "days_to_documents_received": self.days_to_documents.as_json(),
            "promises_kept": self.promises_kept.as_json(),
            "criteria_cited": dict(sorted(self.criteria.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


@dataclass(frozen=True)
class StatsReport:
    by: str | None
    since: date | None
    until: date | None
    time_zone: str
    total: GroupStats
    groups: list[GroupStats]

    def as_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "time_zone": self.time_zone,
            "total": self.total.as_json(),
            "groups": [group.as_json() for group in self.groups],
        }


TEXT_COLUMNS = (
    ("Calls", 6),
    ("Appr", 5),
    ("Part", 5),
    ("Den", 5),
    ("Overt", 6),
    ("SameSp", 7),
    ("NoName", 7),
    ("Kept", 5),
)


def rate_cells(group: GroupStats) -> tuple[str, ...]:
    """The group's count and rates, in TEXT_COLUMNS order (the CLI and the insights table)."""
    return (
        str(group.calls),
        group.outcome_rate("approved").percent(),
        group.outcome_rate("partially_approved").percent(),
        group.outcome_rate("denied").percent(),
        group.overturned.percent(),
        group.same_specialty.percent(),
        group.declined_to_identify.percent(),
        group.promises_kept.percent(),
    )


def text_row(label: str, group: GroupStats, label_width: int) -> str:
    cells = rate_cells(group)
    return label.ljust(label_width)[:label_width] + "".join(
        cell.rjust(width) for cell, (_name, width) in zip(cells, TEXT_COLUMNS, strict=True)
    )


def text_header(title: str, label_width: int) -> str:
    return title.ljust(label_width)[:label_width] + "".join(
        name.rjust(width) for name, width in TEXT_COLUMNS
    )


LEGEND = (
    "Appr/Part/Den: share of calls approved, partly approved, denied. Overt: calls after a "
    "denial approved or partly approved on the call. SameSp: reviewer of the same specialty, "
    "of calls where it was noted. NoName: reviewer declined to give a name. Kept: promised "
    "documents and commitments received by their date, of those whose keeping is known "
    "(received, marked not received, or open past their date)."
)
