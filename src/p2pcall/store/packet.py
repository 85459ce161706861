"""The store's side of an evidence packet: which calls a filter selects, and their records.

Kept in one small module so the read path can be re-pointed without touching the packet's
layout: `select_calls` is one indexed query, `packet_records` yields each call as
`store.exporting.load_for_export` gives it to `p2pcall export` (checked against its stamped
chain head; RecordChangedError for a record that no longer matches), and the summary is
`store.stats.call_stats` over exactly the packed calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from p2pcall.domain.models import CallRecord
from p2pcall.domain.packet.model import PacketFilter
from p2pcall.domain.stats import StatsReport
from p2pcall.store.history import _reading, dialect_of
from p2pcall.store.history import conditions as history_conditions

if TYPE_CHECKING:
    from p2pcall.store.readapi import ReadApi


@dataclass(frozen=True)
class Selection:
    call_ids: list[int]  # finalized calls that pass the filter, oldest first
    not_finalized: int  # calls that pass the filter but are not finalized (left out)


def _like(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The reviewer a call is linked to, merged entries counted as the one they were merged into.
_LINKED = (
    "(SELECT coalesce(r.merged_into, r.id) FROM call_reviewer cr JOIN reviewer r "
    "ON r.id = cr.reviewer_id WHERE cr.call_id = c.id)"
)


def _field(key: str) -> str:
    return f"(SELECT value FROM call_field WHERE call_id = c.id AND key = '{key}')"


def conditions(store: ReadApi, flt: PacketFilter) -> tuple[str, list[object]]:
    """SQL conditions on `call c` for the whole filter (the history's, then the packet's)."""
    like = dialect_of(store).LIKE_ANY_CASE
    where, params = history_conditions(store, flt.history_filter())
    parts, more = [where], list(params)
    if "\x00" in flt.vendor + flt.reviewer:  # in no stored name (PostgreSQL refuses one)
        parts.append("FALSE")
        return " AND ".join(parts), more
    if flt.vendor.strip():
        # As `stats --by vendor` groups: the linked reviewer's vendor, else the employer given.
        parts.append(
            "coalesce(nullif((SELECT v.vendor FROM reviewer v WHERE v.id = "
            f"{_LINKED}), ''), trim(coalesce({_field('reviewer_employer')}, ''))) "
            f"{like} ? ESCAPE '\\'"
        )
        more.append(_like(flt.vendor))
    if flt.reviewer.strip():
        number = flt.reviewer_number
        if number is not None:
            parts.append(
                f"{_LINKED} = (SELECT coalesce(merged_into, id) FROM reviewer WHERE id = ?)"
            )
            more.append(number)
        else:  # the linked reviewer's name, or the name given on the call
            parts.append(
                f"(coalesce((SELECT v.name FROM reviewer v WHERE v.id = {_LINKED}), '') "
                f"{like} ? ESCAPE '\\' OR coalesce({_field('reviewer_name')}, '') {like} ? "
                "ESCAPE '\\')"
            )
            more += [_like(flt.reviewer), _like(flt.reviewer)]
    if flt.not_same_specialty:
        parts.append(f"{_field('reviewer_same_specialty')} = 'no'")
    if flt.declined_to_identify:
        parts.append(
            "EXISTS (SELECT 1 FROM call_field WHERE call_id = c.id AND key = 'reviewer_name' "
            "AND declined)"
        )
    return " AND ".join(parts), more


def select_calls(store: ReadApi, flt: PacketFilter, as_of: datetime | None = None) -> Selection:
    """The finalized calls that pass the filter, oldest first, and how many were left out.

    `as_of` (verify): only calls created and finalized before that moment, so a packet's
    selection can be made again later; calls finalized since do not count. A finalized
    call never changes, so only reviewer links (metadata) can move it in or out since.
    """
    where, params = conditions(store, flt)
    finalized = "c.finalized_at IS NOT NULL"
    if as_of is not None:
        moment = dialect_of(store).time_value(as_of)
        finalized += " AND c.created_at < ? AND c.finalized_at < ?"
        params = [*params, moment, moment]
    with _reading(store) as db:
        ids = [
            int(row[0])
            for row in db.execute(
                f"SELECT c.id FROM call c WHERE {where} AND {finalized} "
                "ORDER BY c.created_at, c.id",
                params,
            )
        ]
        left_out = 0
        if as_of is None:
            left_out = db.execute(
                f"SELECT count(*) FROM call c WHERE {where} AND c.finalized_at IS NULL", params
            ).fetchone()[0]
    return Selection(ids, int(left_out))


def packet_records(store: ReadApi, call_ids: Sequence[int]) -> Iterator[CallRecord]:
    """Each call's record as `p2pcall export` loads it (chain head recomputed and checked)."""
    from p2pcall.store.exporting import load_for_export

    for call_id in call_ids:
        yield load_for_export(store, call_id)


def packet_summary(store: ReadApi, call_ids: Sequence[int], tz: str, now: datetime) -> StatsReport:
    """The stats aggregation over exactly these calls, with "overdue" judged at `now`."""
    from p2pcall.domain.history import HistoryFilter
    from p2pcall.store.stats import call_stats

    return call_stats(store, None, HistoryFilter(tz=tz), tz, call_ids=list(call_ids), now=now)
