"""The reviewer track record's SQL on a practice's server (see `ReviewersMixin.track_record`).

The same figures as on SQLite, over every clinician's calls: row-level security shows a
clinician only their own calls, so the facts come from the views `reviewer_track` and
`reviewer_track_promise` (sql/v1.sql), which give, for each call linked to a reviewer, what
the track record counts and nothing of the call's text. Times are timestamptz and compared
as times; `:now` is an aware datetime.
"""

from __future__ import annotations

from p2pcall.domain.reviewers import PROMISE_ACTIONS

# The reviewer (and the entries merged into it): its calls other than the current one,
# created before it (all of them when there is no current call, -1).
EARLIER = """
    WITH ids AS (SELECT id FROM reviewer WHERE id = :r OR merged_into = :r),
    calls AS (
        SELECT t.call_id AS id, t.created_at, t.outcome, t.same_specialty, t.criteria_set,
            t.declined_keys
        FROM reviewer_track t
        WHERE t.reviewer_id IN (SELECT id FROM ids) AND t.call_id != :current
        AND t.created_at < coalesce(
            (SELECT created_at FROM call WHERE id = :current),
            (SELECT min(created_at) FROM reviewer_track WHERE call_id = :current),
            'infinity')
    )
"""
SPECIALTY = (
    "SELECT count(same_specialty), "
    "coalesce(sum(CAST(same_specialty = 'no' AS INTEGER)), 0) FROM calls"
)
DECLINED = "SELECT key, count(*) FROM calls, unnest(declined_keys) AS key GROUP BY key"
CRITERIA = (
    "SELECT criteria_set, count(*) FROM calls WHERE criteria_set IS NOT NULL GROUP BY criteria_set"
)
_DUE = "coalesce(f.due_override, f.computed_due)"
# As on SQLite: known (marked, or open past its date); not kept (marked not received, open
# past its date, or received after its UTC day).
_SETTLED = f"(f.received IS NOT NULL OR (f.status = 'planned' AND {_DUE} < :now))"
_NOT_KEPT = f"""(
    f.received = 'not_received'
    OR (f.received IS NULL AND f.status = 'planned' AND {_DUE} < :now)
    OR (f.received = 'received' AND {_DUE} IS NOT NULL
        AND f.received_on > to_char({_DUE} AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
)"""
PROMISES = (
    f"SELECT coalesce(sum(CAST({_SETTLED} AS INTEGER)), 0), "
    f"coalesce(sum(CAST({_NOT_KEPT} AS INTEGER)), 0) "
    "FROM reviewer_track_promise f "
    "WHERE f.call_id IN (SELECT id FROM calls) AND f.status != 'not_needed' "
    f"AND f.action IN {PROMISE_ACTIONS!r}"
)
