"""Past calls: the history list, its filters and full-text search, one page at a time.

Plain SQL on a read connection of the store (`ReadApi.reading`: one snapshot), for either
database: the list, the filters and the summaries are written once here; the search words
are each database's own (`sqlite_search`: FTS5, `postgres.search`: tsvector and GIN), two
modules with the same functions, picked by the store's `kind`. Nothing here loads the
notes of every call: a page costs one small query, plus a bounded search when searching.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from p2pcall.domain.history import UNFINISHED, HistoryFilter, utc_bounds
from p2pcall.domain.models import CallSummary, HistoryEntry, HistoryPage
from p2pcall.domain.vocab import Outcome
from p2pcall.store.queries.calls import NEWEST_FIRST as ORDER
from p2pcall.store.timetext import time_of

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from p2pcall.store.queries.cursor import Db
    from p2pcall.store.readapi import ReadApi as Store

PAGE_SIZE = 100

_SUMMARY = """
    SELECT c.id, c.created_at, c.started_at, c.ended_at, c.outcome,
        (SELECT value FROM call_field WHERE call_id = c.id AND key = 'patient_ref'),
        (SELECT value FROM call_field WHERE call_id = c.id AND key = 'insurer'),
        (SELECT value FROM call_field WHERE call_id = c.id AND key = 'review_type'),
        (SELECT count(*) FROM note WHERE call_id = c.id)
    FROM call c
"""


def list_calls(
    store: Store, flt: HistoryFilter | None = None, *, offset: int = 0, limit: int = PAGE_SIZE
) -> HistoryPage:
    """One page of calls, newest first, that pass `flt`; with a search, why each matched."""
    flt = flt or HistoryFilter()
    with _reading(store) as db:
        where, params = conditions(store, flt)
        if flt.fts_query is None:
            # The page's calls first, then their summaries: rows skipped by OFFSET are
            # never summarized (each summary reads the call's fields and counts its notes).
            page = f"(SELECT * FROM call c WHERE {where}{ORDER} LIMIT ? OFFSET ?) AS c"
            rows = db.execute(
                _SUMMARY.replace("FROM call c", f"FROM {page}") + ORDER,
                (*params, limit + 1, offset),
            ).fetchall()
            summaries = [_summary(row) for row in rows]
            return HistoryPage(
                tuple(HistoryEntry(s) for s in summaries[:limit]), offset, len(rows) > limit
            )
        ids, matches, has_more = search_module(store).page(
            db, flt.search, where, params, offset, limit
        )
        entries = [HistoryEntry(s, matches.get(s.id)) for s in _summaries_of(db, ids)]
        return HistoryPage(tuple(entries), offset, has_more)


def count_calls(store: Store, flt: HistoryFilter | None = None) -> int:
    """How many calls pass the filter (a search counts every matching call: slower)."""
    flt = flt or HistoryFilter()
    with _reading(store) as db:
        where, params = conditions(store, flt)
        if flt.fts_query is not None:
            matching, more = search_module(store).matching_calls(flt.search)
            where += f" AND c.id IN ({matching})"
            params = [*params, *more]
        return int(db.execute(f"SELECT count(*) FROM call c WHERE {where}", params).fetchone()[0])


def late_fields(store: Store, call_id: int) -> set[str]:
    """Keys of the call's fields whose current value was set after the call ended."""
    with _reading(store) as db:
        rows = db.execute(
            "SELECT key FROM call_field WHERE call_id = ? AND late", (call_id,)
        ).fetchall()
    return {row[0] for row in rows}


def summaries_of(store: Store, ids: list[int]) -> list[CallSummary]:
    """The calls with these ids, newest first (a reviewer's earlier calls, a packet's calls)."""
    with _reading(store) as db:
        return _summaries_of(db, ids)


# -- shared by the reads across calls (history, stats, packet) ---------------------------------


def dialect_of(store: Store) -> ModuleType:
    """The store's dialect module (`sqlite_dialect` or `postgres.dialect`)."""
    if store.kind == "postgres":
        from p2pcall.store.postgres import dialect as pg

        return pg
    from p2pcall.store import sqlite_dialect

    return sqlite_dialect


def search_module(store: Store) -> ModuleType:
    """The store's full-text search: `page(db, search, where, params, offset, limit)` and
    `matching_calls(search)`, the same functions in both modules."""
    if store.kind == "postgres":
        from p2pcall.store.postgres import search as pg_search

        return pg_search
    from p2pcall.store import sqlite_search

    return sqlite_search


def _reading(store: Store) -> AbstractContextManager[Db]:
    """A read transaction: every query sees the same snapshot (see `ReadApi.reading`)."""
    return store.reading()


def conditions(store: Store, flt: HistoryFilter) -> tuple[str, list[object]]:
    """SQL conditions on `call c` for everything but the search words."""
    dialect = dialect_of(store)
    where = ["TRUE"]
    params: list[object] = []
    insurer = flt.insurer.strip()
    if "\x00" in insurer:  # in no stored name (PostgreSQL refuses one even as a parameter)
        where.append("FALSE")
    elif insurer:
        escaped = insurer.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(dialect.INSURER_LIKE)
        params.append(f"%{escaped}%")
    if flt.outcome == UNFINISHED:
        where.append("c.ended_at IS NULL")
    elif flt.outcome:
        where.append("c.outcome = ?")
        params.append(flt.outcome)
    start, end = utc_bounds(flt)
    if start is not None:
        where.append("c.created_at >= ?")
        params.append(dialect.time_value(start))
    if end is not None:
        where.append("c.created_at < ?")
        params.append(dialect.time_value(end))
    return " AND ".join(where), params


def _time(value: object) -> datetime | None:
    """A time as SQLite's text (read as before) or PostgreSQL's timestamptz gives it."""
    if not value:
        return None
    return datetime.fromisoformat(value) if isinstance(value, str) else time_of(value)


def _summary(row: tuple[Any, ...]) -> CallSummary:
    call_id, created, started, ended, outcome, patient, insurer, review, notes = row
    created_at = _time(created)
    assert created_at is not None  # NOT NULL in both schemas
    return CallSummary(
        id=call_id,
        created_at=created_at,
        started_at=_time(started),
        ended_at=_time(ended),
        outcome=Outcome.parse(outcome),
        patient_ref=patient or "",
        insurer=insurer or "",
        review_type=review or "",
        note_count=notes or 0,
    )


def _summaries_of(db: Db, ids: list[int]) -> list[CallSummary]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"{_SUMMARY} WHERE c.id IN ({marks}){ORDER}", ids).fetchall()
    return [_summary(row) for row in rows]
