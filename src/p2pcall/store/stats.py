"""Patterns across calls, counted in SQL: one pass over the filtered calls, grouped.

Nothing here loads calls into Python: each call is reduced to one row of facts (outcome,
insurer, vendor, reviewer, same specialty, ...) by indexed subqueries, and SQLite groups and
sums those rows. Read on a pooled connection in one read transaction (one snapshot).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from p2pcall.domain.history import HistoryFilter
from p2pcall.domain.reviewers import PROMISE_ACTIONS
from p2pcall.domain.stats import (
    GROUPINGS,
    NOT_GIVEN,
    OUTCOME_KEYS,
    Average,
    GroupStats,
    Rate,
    StatsReport,
)
from p2pcall.domain.vocab import CriteriaSet
from p2pcall.store.history import _conditions, _reading, _stamp

if TYPE_CHECKING:
    from p2pcall.store.store import Store


def _field(key: str) -> str:
    return f"(SELECT value FROM call_field WHERE call_id = c.id AND key = '{key}')"


_PROMISES = f"f.action IN {PROMISE_ACTIONS!r} AND f.status != 'not_needed'"
_DUE = "coalesce(f.due_override, f.computed_due)"
_KEPT = f"f.received = 'received' AND ({_DUE} IS NULL OR f.received_on <= substr({_DUE}, 1, 10))"
# A promise whose keeping is known: marked received or not, or still open past its date.
# NOW_MARK is replaced by the time of the query (a stamp this code formats, not user text).
NOW_MARK = "'__now__'"
_SETTLED = f"(f.received IS NOT NULL OR (f.status = 'planned' AND {_DUE} < {NOW_MARK}))"
_CALL_DAY = "julianday(coalesce(c.started_at, c.created_at))"

# One row of facts per call that passes the filter.
_FACTS = f"""
    SELECT c.id, c.created_at, coalesce(c.outcome, 'none') AS outcome,
        trim(coalesce({_field("insurer")}, '')) AS insurer,
        (SELECT coalesce(r.merged_into, r.id) FROM call_reviewer cr
            JOIN reviewer r ON r.id = cr.reviewer_id WHERE cr.call_id = c.id) AS reviewer_id,
        trim(coalesce({_field("reviewer_employer")}, '')) AS employer,
        {_field("reviewer_same_specialty")} AS same,
        coalesce((SELECT declined FROM call_field WHERE call_id = c.id
            AND key = 'reviewer_name'), 0) AS no_name,
        coalesce({_field("criteria_set")}, '') AS criteria,
        (coalesce({_field("denial_date")}, '') != ''
            OR coalesce({_field("denial_reason")}, '') != '') AS after_denial,
        (SELECT min(julianday(f.done_at) - {_CALL_DAY}) FROM followup f
            WHERE f.call_id = c.id AND f.action = 'chase_plan' AND f.status = 'done'
            AND f.done_at IS NOT NULL) AS decision_days,
        (SELECT sum(julianday(f.received_on) - julianday(substr(
            coalesce(c.started_at, c.created_at), 1, 10)))
            FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND f.received = 'received') AS documents_days,
        (SELECT count(*) FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND f.received = 'received') AS documents_received,
        (SELECT count(*) FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND {_SETTLED}) AS promises,
        (SELECT count(*) FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND {_KEPT}) AS kept
    FROM call c
"""

_GROUP_KEY = {
    None: "'all'",
    "insurer": "lower(insurer)",
    "vendor": "lower(coalesce(nullif(rv.vendor, ''), employer))",
    "reviewer": "coalesce(CAST(reviewer_id AS TEXT), '')",
    "criteria": "criteria",
    "month": "month",
}
_GROUP_LABEL = {
    None: "'All calls'",
    "insurer": "min(insurer)",
    "vendor": "min(coalesce(nullif(rv.vendor, ''), employer))",
    "reviewer": "min(rv.name)",
    "criteria": "min(criteria)",
    "month": "min(month)",
}

_SUMS = """
    count(*),
    {outcomes},
    sum(after_denial AND outcome IN ('approved', 'partially_approved')), sum(after_denial),
    sum(same = 'yes'), sum(same IN ('yes', 'no')),
    sum(no_name),
    total(decision_days), count(decision_days),
    total(documents_days), sum(documents_received),
    sum(kept), sum(promises)
""".format(outcomes=", ".join(f"sum(outcome = '{key}')" for key in (*OUTCOME_KEYS, "none")))


def _months(db: sqlite3.Connection, tz: str, where: str, params: list[object]) -> None:
    """temp.stats_months: the local calendar months the calls span, as UTC bounds (indexed
    by start, so each call finds its month with one index step)."""
    import pendulum

    db.execute("DROP TABLE IF EXISTS temp.stats_months")
    db.execute("CREATE TEMP TABLE stats_months (start TEXT PRIMARY KEY, label TEXT NOT NULL)")
    low, high = db.execute(
        f"SELECT min(c.created_at), max(c.created_at) FROM call c WHERE {where}", params
    ).fetchone()
    if low is None:
        return
    month = pendulum.parse(low).in_timezone(tz).start_of("month")  # type: ignore[union-attr]
    last = pendulum.parse(high).in_timezone(tz).start_of("month")  # type: ignore[union-attr]
    rows = []
    while month <= last:
        rows.append((_stamp(month), month.format("YYYY-MM")))
        month = month.add(months=1)
    db.executemany("INSERT INTO stats_months (start, label) VALUES (?, ?)", rows)


_MONTH_OF = (
    "(SELECT label FROM stats_months WHERE start <= c.created_at ORDER BY start DESC LIMIT 1)"
)


def _group(row: tuple[Any, ...], criteria: dict[str, int], by: str | None) -> GroupStats:
    key, label = row[0] or "", row[1] or ""
    values = [v or 0 for v in row[2:]]
    calls, *rest = values
    outcome_counts = dict(zip((*OUTCOME_KEYS, "none"), rest[:6], strict=True))
    (overturned, after_denial, same, answered, no_name, dec_total, dec_n, doc_total, doc_n,
     kept, promises) = rest[6:]  # fmt: skip
    if not label:
        label = "(not linked)" if by == "reviewer" else NOT_GIVEN
    elif by == "criteria":
        member = CriteriaSet.parse(str(label))
        label = member.label if member else label
    return GroupStats(
        key=str(key),
        label=str(label),
        calls=int(calls),
        outcomes={k: int(v) for k, v in outcome_counts.items()},
        overturned=Rate(int(overturned), int(after_denial)),
        same_specialty=Rate(int(same), int(answered)),
        declined_to_identify=Rate(int(no_name), int(calls)),
        days_to_decision=Average(float(dec_total), int(dec_n)),
        days_to_documents=Average(float(doc_total), int(doc_n)),
        promises_kept=Rate(int(kept), int(promises)),
        criteria=criteria,
    )


def call_stats(
    store: Store, by: str | None, flt: HistoryFilter, tz: str, limit: int | None = None
) -> StatsReport:
    """The totals and one row per group (most calls first; months in order)."""
    return call_stats_by(store, [by], flt, tz, limit)[0]


def call_stats_by(
    store: Store, groupings: list[str | None], flt: HistoryFilter, tz: str, limit: int | None = None
) -> list[StatsReport]:
    """One report per grouping, from one pass over the calls (one read, one snapshot)."""
    for by in groupings:
        if by not in (None, *GROUPINGS):
            raise ValueError(f"unknown grouping {by!r}")
    where, params = _conditions(flt)
    reports = []
    with _reading(store) as db:
        # The facts once, in a temporary table of this read transaction (its rollback drops
        # it): the grouped sums, the criteria cited and the totals all read it.
        db.execute("DROP TABLE IF EXISTS temp.stats_facts")
        month = "''"
        if "month" in groupings:
            _months(db, tz, where, params)
            month = _MONTH_OF
        facts = _FACTS.replace("SELECT c.id,", f"SELECT {month} AS month, c.id,", 1)
        from p2pcall.domain.timefmt import now_utc

        facts = facts.replace(NOW_MARK, f"'{_stamp(now_utc())}'")
        db.execute(f"CREATE TEMP TABLE stats_facts AS {facts} WHERE {where}", params)
        total_row = db.execute(f"SELECT 'all', 'All calls', {_SUMS} FROM stats_facts").fetchone()
        total_cited = dict(
            db.execute(
                "SELECT criteria, count(*) FROM stats_facts WHERE criteria != '' GROUP BY 1"
            ).fetchall()
        )
        total = _group(total_row, total_cited, None)
        for by in groupings:
            groups = [] if by is None else _grouped(db, by)
            if limit is not None:
                groups = groups[:limit]
            reports.append(
                StatsReport(
                    by=by, since=flt.since, until=flt.until, time_zone=tz, total=total,
                    groups=groups,
                )
            )  # fmt: skip
    return reports


def _grouped(db: sqlite3.Connection, by: str) -> list[GroupStats]:
    source = "stats_facts AS facts LEFT JOIN reviewer rv ON rv.id = facts.reviewer_id"
    group_key = _GROUP_KEY[by]
    order = "1" if by == "month" else "3 DESC, 2"
    rows = db.execute(
        f"SELECT {group_key}, {_GROUP_LABEL[by]}, {_SUMS} FROM {source} GROUP BY 1 ORDER BY {order}"
    ).fetchall()
    cited: dict[str, dict[str, int]] = {}
    for key, criteria, count in db.execute(
        f"SELECT {group_key}, criteria, count(*) FROM {source} WHERE criteria != '' GROUP BY 1, 2"
    ):
        cited.setdefault(key or "", {})[criteria] = count
    return [_group(row, cited.get(row[0] or "", {}), by) for row in rows]
