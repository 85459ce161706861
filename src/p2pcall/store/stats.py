"""Patterns across calls, counted in SQL: one pass over the filtered calls, grouped.

Nothing here loads calls into Python: each call is reduced to one row of facts (outcome,
insurer, vendor, reviewer, same specialty, ...) by indexed subqueries, and SQLite groups and
sums those rows. Read on a pooled connection in one read transaction (one snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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
from p2pcall.store.history import _reading, conditions
from p2pcall.store.queries.cursor import Db

if TYPE_CHECKING:
    from p2pcall.store.readapi import ReadApi


def _field(key: str) -> str:
    return f"(SELECT value FROM call_field WHERE call_id = c.id AND key = '{key}')"


_PROMISES = f"f.action IN {PROMISE_ACTIONS!r} AND f.status != 'not_needed'"
_DUE = "coalesce(f.due_override, f.computed_due)"
# NOW_MARK is replaced by the time of the query (a stamp this code formats, not user text).
NOW_MARK = "'__now__'"


def _int(condition: str) -> str:
    """A condition as 1 or 0 (NULL stays NULL): SQLite's booleans are numbers already,
    PostgreSQL's are not, and neither sums a boolean."""
    return f"CAST(({condition}) AS INTEGER)"


# What the two databases spell differently: times are UTC text on SQLite (text order is
# time order, the day is the first ten characters), timestamptz on PostgreSQL.
_SQLITE = {
    "utc_day": "substr({t}, 1, 10)",
    "utc_month": "substr({t}, 1, 7)",
    "days_between": "(julianday({later}) - julianday({earlier}))",
    "days_from_day": "(julianday({day}) - julianday(substr({t}, 1, 10)))",
    "json_rows": "json_each(?)",
    "as_time": "{x}",
    "no_end": "\uffff",
    "ids_in": "c.id IN (SELECT value FROM json_each(?))",
}
_POSTGRES = {
    "utc_day": "to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "utc_month": "to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM')",
    "days_between": "(CAST(extract(epoch FROM {later} - {earlier}) AS DOUBLE PRECISION) / 86400)",
    "days_from_day": "(CAST({day} AS date) - CAST({t} AT TIME ZONE 'UTC' AS date))",
    "json_rows": "json_array_elements(CAST(? AS json)) AS rows(value)",
    "as_time": "CAST({x} AS timestamptz)",
    "no_end": "infinity",
    "ids_in": (
        "c.id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json)))"
    ),
}
_DIALECTS = {"sqlite": _SQLITE, "postgres": _POSTGRES}


def _facts(sql: dict[str, str]) -> str:
    """One row of facts per call that passes the filter, in the dialect `sql`."""
    call_time = "coalesce(c.started_at, c.created_at)"
    kept = (
        f"f.received = 'received' AND ({_DUE} IS NULL OR "
        f"f.received_on <= {sql['utc_day'].format(t=_DUE)})"
    )
    # A promise whose keeping is known: marked received or not, or still open past its date.
    settled = f"(f.received IS NOT NULL OR (f.status = 'planned' AND {_DUE} < {NOW_MARK}))"
    no_name = _int(
        "coalesce((SELECT declined FROM call_field WHERE call_id = c.id "
        "AND key = 'reviewer_name'), FALSE)"
    )
    after_denial = _int(
        f"coalesce({_field('denial_date')}, '') != '' "
        f"OR coalesce({_field('denial_reason')}, '') != ''"
    )
    return f"""
    SELECT c.id, c.created_at, coalesce(c.outcome, 'none') AS outcome,
        trim(coalesce({_field("insurer")}, '')) AS insurer,
        (SELECT coalesce(r.merged_into, r.id) FROM call_reviewer cr
            JOIN reviewer r ON r.id = cr.reviewer_id WHERE cr.call_id = c.id) AS reviewer_id,
        trim(coalesce({_field("reviewer_employer")}, '')) AS employer,
        {_field("reviewer_same_specialty")} AS same,
        {no_name} AS no_name,
        coalesce({_field("criteria_set")}, '') AS criteria,
        {after_denial} AS after_denial,
        (SELECT min({sql["days_between"].format(later="f.done_at", earlier=call_time)})
            FROM followup f
            WHERE f.call_id = c.id AND f.action = 'chase_plan' AND f.status = 'done'
            AND f.done_at IS NOT NULL) AS decision_days,
        (SELECT sum({sql["days_from_day"].format(day="f.received_on", t=call_time)})
            FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND f.received = 'received') AS documents_days,
        (SELECT count(*) FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND f.received = 'received') AS documents_received,
        (SELECT count(*) FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND {settled}) AS promises,
        (SELECT count(*) FROM followup f WHERE f.call_id = c.id AND {_PROMISES}
            AND {kept}) AS kept
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
    sum(after_denial * {approved}), sum(after_denial),
    sum({same}), sum({answered}),
    sum(no_name),
    CAST(coalesce(sum(decision_days), 0) AS DOUBLE PRECISION), count(decision_days),
    CAST(coalesce(sum(documents_days), 0) AS DOUBLE PRECISION),
    CAST(sum(documents_received) AS BIGINT),
    CAST(sum(kept) AS BIGINT), CAST(sum(promises) AS BIGINT)
""".format(
    outcomes=", ".join(f"sum({_int(f'outcome = {key!r}')})" for key in (*OUTCOME_KEYS, "none")),
    approved=_int("outcome IN ('approved', 'partially_approved')"),
    same=_int("same = 'yes'"),
    answered=_int("same IN ('yes', 'no')"),
)
_SUM_COLUMNS = 2 + len(OUTCOME_KEYS) + 11  # count(*), the outcomes and "none", the rest

# Every part of the one statement has the same columns: part, grouping, rank, key, label,
# then the sums (the criteria parts use the first sum column for their count).
_TOTAL, _CITED, _GROUP, _GROUP_CITED = range(4)
# PostgreSQL types a column of a UNION from its first parts: NULL alone there would be text.
_NO_NUMBER = "CAST(NULL AS INTEGER)"


def _months(db: Db, sql: dict[str, str], tz: str, where: str, params: list[object]) -> str:
    """The local calendar months the calls span, as JSON rows for the `months` CTE.

    Each row: the UTC month key ("YYYY-MM", as a stored UTC stamp begins), the local
    month's label, its UTC start, the next month's UTC start, and the labels before and
    after. A call's local month is its UTC month or one of the two beside it (a zone's
    offset is under a day), so one equality lookup on the UTC key finds it (an automatic
    index on the CTE), without a temporary table the read-only connection may not create.
    """
    import json

    import pendulum

    from p2pcall.store.sqlite_dialect import time_value as stamp
    from p2pcall.store.timetext import required_time

    low, high = db.execute(
        f"SELECT min(c.created_at), max(c.created_at) FROM call c WHERE {where}", params
    ).fetchone()
    if low is None:
        return "[]"
    first = pendulum.instance(required_time(low)).in_timezone(tz).start_of("month")
    last = pendulum.instance(required_time(high)).in_timezone(tz).start_of("month")
    # One month either side: a UTC month key just outside the local span still has a row.
    months = []
    month = first.subtract(months=1) if first.year > 1 or first.month > 1 else first
    end = last.add(months=1) if last.year < 9999 or last.month < 12 else last
    while month <= end:
        months.append(month)
        if month.year == 9999 and month.month == 12:
            break
        month = month.add(months=1)
    rows = []
    for index, month in enumerate(months):
        following = months[index + 1] if index + 1 < len(months) else None
        rows.append(
            [
                f"{month.year:04d}-{month.month:02d}",
                month.format("YYYY-MM"),
                stamp(month),  # UTC text: read as a time where times are not text
                stamp(following) if following is not None else sql["no_end"],
                months[index - 1].format("YYYY-MM") if index else month.format("YYYY-MM"),
                following.format("YYYY-MM") if following is not None else month.format("YYYY-MM"),
            ]
        )
    return json.dumps(rows)


_MONTHS_CTE = """months AS MATERIALIZED (
    SELECT value ->> 0 AS utc_key, value ->> 1 AS label, {start} AS start,
        {next_start} AS next_start, value ->> 4 AS prev_label, value ->> 5 AS next_label
    FROM {json_rows})"""
_MONTH_JOIN = "FROM call c LEFT JOIN months m ON m.utc_key = {utc_month}"
_MONTH_OF = (
    "CASE WHEN c.created_at < m.start THEN m.prev_label "
    "WHEN c.created_at >= m.next_start THEN m.next_label ELSE m.label END"
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
    store: ReadApi,
    by: str | None,
    flt: HistoryFilter,
    tz: str,
    limit: int | None = None,
    *,
    call_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> StatsReport:
    """The totals and one row per group (most calls first; months in order).

    `call_ids`: only these calls (and the filter); the evidence packet counts exactly the
    calls it packs. `now`: the moment a promise still open counts as overdue (default: the
    clock), fixed by the packet so its summary can be recomputed later.
    """
    return call_stats_by(store, [by], flt, tz, limit, call_ids=call_ids, now=now)[0]


def call_stats_by(
    store: ReadApi,
    groupings: list[str | None],
    flt: HistoryFilter,
    tz: str,
    limit: int | None = None,
    *,
    call_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> list[StatsReport]:
    """One report per grouping, from one statement over the calls (one read, one snapshot).

    The facts are a materialized CTE of that statement, read by every part of it: no
    temporary table, so this runs on the read-only connection (`query_only`) too.
    """
    for by in groupings:
        if by not in (None, *GROUPINGS):
            raise ValueError(f"unknown grouping {by!r}")
    sql = _DIALECTS[store.kind]
    where, params = conditions(store, flt)
    if call_ids is not None:  # one parameter however many: a JSON array of the ids
        import json

        where += f" AND {sql['ids_in']}"
        params = [*params, json.dumps([int(call_id) for call_id in call_ids])]
    with _reading(store) as db:
        statement, arguments = _statement(db, sql, groupings, tz, where, params, now)
        rows = db.execute(statement, arguments).fetchall()
    total_row = next(row[3:] for row in rows if row[0] == _TOTAL)
    total_cited = {row[3]: row[5] for row in rows if row[0] == _CITED}
    total = _group(total_row, total_cited, None)
    reports = []
    for index, by in enumerate(groupings):
        groups = [] if by is None else _grouped(rows, index, by)
        if limit is not None:
            groups = groups[:limit]
        reports.append(
            StatsReport(
                by=by, since=flt.since, until=flt.until, time_zone=tz, total=total,
                groups=groups,
            )
        )  # fmt: skip
    return reports


def _statement(
    db: Db,
    sql: dict[str, str],
    groupings: list[str | None],
    tz: str,
    where: str,
    params: list[object],
    now: datetime | None,
) -> tuple[str, list[object]]:
    """The one SELECT: the facts CTE, then the totals, the criteria cited, and per grouping
    its groups (ranked in their order) and their criteria cited."""
    from p2pcall.domain.timefmt import now_utc

    ctes: list[str] = []
    arguments: list[object] = []
    from p2pcall.store.sqlite_dialect import time_value as stamp

    facts = _facts(sql)
    month = "''"
    if "month" in groupings:
        ctes.append(
            _MONTHS_CTE.format(
                start=sql["as_time"].format(x="value ->> 2"),
                next_start=sql["as_time"].format(x="value ->> 3"),
                json_rows=sql["json_rows"],
            )
        )
        arguments.append(_months(db, sql, tz, where, params))
        join = _MONTH_JOIN.format(utc_month=sql["utc_month"].format(t="c.created_at"))
        facts = facts.replace("FROM call c", join, 1)
        month = _MONTH_OF
    facts = facts.replace("SELECT c.id,", f"SELECT {month} AS month, c.id,", 1)
    # A stamp this code formats (not user text); read as a time where times are not text.
    now_text = f"'{stamp(now or now_utc())}'"
    facts = facts.replace(NOW_MARK, sql["as_time"].format(x=now_text))
    ctes.append(f"facts AS MATERIALIZED ({facts} WHERE {where})")
    arguments += params
    padding = ", NULL" * (_SUM_COLUMNS - 1)
    parts = [
        f"SELECT {_TOTAL}, {_NO_NUMBER}, {_NO_NUMBER}, 'all', 'All calls', {_SUMS} FROM facts",
        f"SELECT {_CITED}, {_NO_NUMBER}, {_NO_NUMBER}, criteria, NULL, count(*){padding} "
        "FROM facts "
        "WHERE criteria != '' GROUP BY criteria",
    ]
    source = "facts LEFT JOIN reviewer rv ON rv.id = facts.reviewer_id"
    for index, by in enumerate(groupings):
        if by is None:
            continue
        key, label = _GROUP_KEY[by], _GROUP_LABEL[by]
        order = key if by == "month" else f"count(*) DESC, {label}"
        parts.append(
            f"SELECT {_GROUP}, {index}, row_number() OVER (ORDER BY {order}), {key}, {label}, "
            f"{_SUMS} FROM {source} GROUP BY {key}"
        )
        parts.append(
            f"SELECT {_GROUP_CITED}, {index}, {_NO_NUMBER}, {key}, criteria, count(*){padding} "
            f"FROM {source} WHERE criteria != '' GROUP BY {key}, criteria"
        )
    statement = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(parts) + " ORDER BY 1, 2, 3, 4, 5"
    return statement, arguments


def _grouped(rows: list[tuple[Any, ...]], index: int, by: str) -> list[GroupStats]:
    cited: dict[str, dict[str, int]] = {}
    for row in rows:
        if row[0] == _GROUP_CITED and row[1] == index:
            cited.setdefault(row[3] or "", {})[row[4]] = row[5]
    return [
        _group(row[3:], cited.get(row[3] or "", {}), by)
        for row in rows
        if row[0] == _GROUP and row[1] == index
    ]
