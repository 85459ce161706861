"""Past calls: the history list, its filters and full-text search, one page at a time.

Plain sqlite3 on a pooled connection of the store's engine: these are read-only queries
(no BEGIN IMMEDIATE needed), FTS5 has no SQLAlchemy construct, and the search streams
matches lazily, which the ORM cannot do. Nothing here loads the notes of every call: a
page costs one small query, plus a bounded scan of the search index when searching.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from p2pcall.domain.history import UNFINISHED, HistoryFilter, snippet, utc_bounds
from p2pcall.domain.models import CallSummary, HistoryEntry, HistoryPage, SearchMatch
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import Outcome
from p2pcall.store.store import StoreError
from p2pcall.store.types import _FORMAT

if TYPE_CHECKING:
    from p2pcall.store.store import Store

PAGE_SIZE = 100
STREAM_BATCH = 256
# Matches scanned newest-first before the search stops streaming and asks SQLite for every
# matching call at once (about 100-300 ms for a word in half of all notes). With an end
# date the newest matches are all out of range, so it gives up sooner.
STREAM_BUDGET = 20_000
STREAM_BUDGET_UNTIL = 4_000

_SUMMARY = """
    SELECT c.id, c.created_at, c.started_at, c.ended_at, c.outcome,
        (SELECT value FROM call_field WHERE call_id = c.id AND key = 'patient_ref'),
        (SELECT value FROM call_field WHERE call_id = c.id AND key = 'insurer'),
        (SELECT value FROM call_field WHERE call_id = c.id AND key = 'review_type'),
        (SELECT count(*) FROM note WHERE call_id = c.id)
    FROM call c
"""
_ORDER = " ORDER BY c.created_at DESC, c.id DESC"
_NOTE_HITS = (
    "SELECT s.rowid, n.call_id, n.saved_at FROM note_search s JOIN note n ON n.id = s.rowid "
    "WHERE note_search MATCH ? ORDER BY s.rowid DESC"
)
_FIELD_HITS = (
    "SELECT fs.rowid, f.call_id, f.updated_at FROM field_search fs "
    "JOIN call_field f ON f.rowid = fs.rowid WHERE field_search MATCH ? ORDER BY fs.rowid DESC"
)
_ALL_HITS = (  # two parameters: the same MATCH expression twice
    "SELECT n.call_id FROM note_search s JOIN note n ON n.id = s.rowid "
    "WHERE note_search MATCH ? UNION SELECT f.call_id FROM field_search fs "
    "JOIN call_field f ON f.rowid = fs.rowid WHERE field_search MATCH ?"
)


def list_calls(
    store: Store, flt: HistoryFilter | None = None, *, offset: int = 0, limit: int = PAGE_SIZE
) -> HistoryPage:
    """One page of calls, newest first, that pass `flt`; with a search, why each matched."""
    flt = flt or HistoryFilter()
    query = flt.fts_query
    with _reading(store) as db:
        where, params = _conditions(flt)
        if query is None:
            rows = db.execute(
                f"{_SUMMARY} WHERE {where}{_ORDER} LIMIT ? OFFSET ?",
                (*params, limit + 1, offset),
            ).fetchall()
            summaries = [_summary(row) for row in rows]
            return HistoryPage(
                tuple(HistoryEntry(s) for s in summaries[:limit]), offset, len(rows) > limit
            )
        ids, hits, has_more = _search(db, query, flt, where, params, offset, limit)
        summaries = _summaries_of(db, ids)
        entries = [HistoryEntry(s, _match(db, flt.search, hits.get(s.id))) for s in summaries]
        return HistoryPage(tuple(entries), offset, has_more)


def count_calls(store: Store, flt: HistoryFilter | None = None) -> int:
    """How many calls pass the filter (a search counts every matching call: slower)."""
    flt = flt or HistoryFilter()
    with _reading(store) as db:
        where, params = _conditions(flt)
        if flt.fts_query is not None:
            where += f" AND c.id IN ({_ALL_HITS})"
            params = [*params, flt.fts_query, flt.fts_query]
        return int(db.execute(f"SELECT count(*) FROM call c WHERE {where}", params).fetchone()[0])


# -- plumbing ---------------------------------------------------------------------------------


@contextmanager
def _reading(store: Store) -> Iterator[sqlite3.Connection]:
    """A read transaction on a pooled connection: every query sees the same snapshot."""
    try:
        fairy = store.engine.raw_connection()
    except Exception as exc:
        raise StoreError(store.describe(exc)) from None
    db: sqlite3.Connection = fairy.driver_connection  # type: ignore[assignment]
    try:
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise StoreError(store.describe(exc)) from None
    finally:
        fairy.close()


def _stamp(moment: datetime) -> str:
    # The year by hand: strftime writes year 999 as "999", which sorts after "2026".
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime(_FORMAT.removeprefix("%Y"))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _conditions(flt: HistoryFilter) -> tuple[str, list[object]]:
    """SQL conditions on `call c` for everything but the search words."""
    where = ["1"]
    params: list[object] = []
    insurer = flt.insurer.strip()
    if insurer:
        escaped = insurer.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(
            "EXISTS (SELECT 1 FROM call_field f WHERE f.call_id = c.id AND f.key = 'insurer' "
            "AND f.value LIKE ? ESCAPE '\\')"
        )
        params.append(f"%{escaped}%")
    if flt.outcome == UNFINISHED:
        where.append("c.ended_at IS NULL")
    elif flt.outcome:
        where.append("c.outcome = ?")
        params.append(flt.outcome)
    start, end = utc_bounds(flt)
    if start is not None:
        where.append("c.created_at >= ?")
        params.append(_stamp(start))
    if end is not None:
        where.append("c.created_at < ?")
        params.append(_stamp(end))
    return " AND ".join(where), params


def _summary(row: tuple) -> CallSummary:
    call_id, created, started, ended, outcome, patient, insurer, review, notes = row
    return CallSummary(
        id=call_id,
        created_at=_time(created),  # type: ignore[arg-type]
        started_at=_time(started),
        ended_at=_time(ended),
        outcome=Outcome.parse(outcome),
        patient_ref=patient or "",
        insurer=insurer or "",
        review_type=review or "",
        note_count=notes or 0,
    )


def _summaries_of(db: sqlite3.Connection, ids: list[int]) -> list[CallSummary]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"{_SUMMARY} WHERE c.id IN ({marks}){_ORDER}", ids).fetchall()
    return [_summary(row) for row in rows]


# -- search -------------------------------------------------------------------------------------


@dataclass
class _Stream:
    """Matches of one FTS table, newest row first, read lazily."""

    kind: str  # "note" or "field"
    cursor: sqlite3.Cursor
    bound: str = "\uffff"  # no call not yet seen was created after this (UTC text)
    done: bool = False

    def take(self) -> list[tuple[int, int, str]]:
        rows = self.cursor.fetchmany(STREAM_BATCH)
        if not rows:
            self.done = True
            self.bound = ""
        else:
            self.bound = min(self.bound, rows[-1][2])
        return rows


def _search(
    db: sqlite3.Connection,
    query: str,
    flt: HistoryFilter,
    where: str,
    params: list[object],
    offset: int,
    limit: int,
) -> tuple[list[int], dict[int, tuple[str, int]], bool]:
    """The page's call ids (newest first), what matched in each, and whether more follow.

    Reads the note and field indexes newest row first. A row is written after its call
    was created, so once the scan has reached rows saved at time T, no call it has not
    yet seen can be newer than T: the page is complete when enough matching calls newer
    than T are known. Common words stop after a few hundred rows, rare words have few.
    """
    need = offset + limit + 1
    start, _end = utc_bounds(flt)
    floor = _stamp(start) if start else ""
    streams = [
        _Stream("note", db.execute(_NOTE_HITS, (query,))),
        _Stream("field", db.execute(_FIELD_HITS, (query,))),
    ]
    seen: set[int] = set()
    hits: dict[int, tuple[str, int]] = {}  # call id -> (kind, rowid) of its newest match
    accepted: dict[int, str] = {}  # call id -> created_at, for calls passing the filter
    scanned = 0
    while True:
        bound = max(s.bound for s in streams)
        if sum(1 for created in accepted.values() if created > bound) >= need:
            break
        if all(s.done for s in streams) or bound < floor:
            break
        if scanned > (STREAM_BUDGET_UNTIL if flt.until else STREAM_BUDGET):
            for each in streams:
                each.cursor.close()  # an open FTS5 cursor slows later MATCH queries
            return _search_all(db, query, where, params, offset, limit)
        stream = max((s for s in streams if not s.done), key=lambda s: s.bound)
        rows = stream.take()
        scanned += len(rows)
        fresh = []
        for rowid, call_id, _saved in rows:
            hits.setdefault(call_id, (stream.kind, rowid))
            if call_id not in seen:
                seen.add(call_id)
                fresh.append(call_id)
        if fresh:
            marks = ",".join("?" * len(fresh))
            for call_id, created in db.execute(
                f"SELECT c.id, c.created_at FROM call c WHERE c.id IN ({marks}) AND {where}",
                (*fresh, *params),
            ):
                accepted[call_id] = created
    ranked = sorted(accepted, key=lambda call_id: (accepted[call_id], call_id), reverse=True)
    page = ranked[offset : offset + limit]
    return page, hits, len(ranked) > offset + limit


def _search_all(
    db: sqlite3.Connection, query: str, where: str, params: list[object], offset: int, limit: int
) -> tuple[list[int], dict[int, tuple[str, int]], bool]:
    """Every matching call at once: for searches the newest-first scan cannot end early."""
    sql = (
        f"SELECT c.id FROM call c WHERE {where} AND c.id IN ({_ALL_HITS}){_ORDER} LIMIT ? OFFSET ?"
    )
    ids = [row[0] for row in db.execute(sql, (*params, query, query, limit + 1, offset))]
    page = ids[:limit]
    return page, _hits_in(db, query, page), len(ids) > limit


def _hits_in(db: sqlite3.Connection, query: str, calls: list[int]) -> dict[int, tuple[str, int]]:
    """A matching note (else field) for each call of a page.

    One MATCH over the span of note ids the page's calls wrote during the call (their
    notes are contiguous, as notes are written in time order), one over their late
    entries, one over their fields: never one MATCH per call.
    """
    hits: dict[int, tuple[str, int]] = {}
    if not calls:
        return hits
    wanted = set(calls)
    marks = ",".join("?" * len(calls))
    low, high = db.execute(
        f"SELECT min(id), max(id) FROM note WHERE call_id IN ({marks}) AND NOT late", calls
    ).fetchone()
    if low is not None:
        for rowid, call_id in db.execute(
            "SELECT s.rowid, n.call_id FROM note_search s JOIN note n ON n.id = s.rowid "
            "WHERE note_search MATCH ? AND s.rowid BETWEEN ? AND ? ORDER BY s.rowid DESC",
            (query, low, high),
        ):
            if call_id in wanted:
                hits.setdefault(call_id, ("note", rowid))
    missing = [call_id for call_id in calls if call_id not in hits]
    late = [
        row[0]
        for row in db.execute(
            f"SELECT id FROM note WHERE call_id IN ({','.join('?' * len(missing))}) AND late",
            missing,
        )
    ]
    if late:  # entries added after their call: few, anywhere in the id order
        marks = ",".join("?" * len(late))
        for rowid, call_id in db.execute(
            "SELECT s.rowid, n.call_id FROM note_search s JOIN note n ON n.id = s.rowid "
            f"WHERE note_search MATCH ? AND s.rowid IN ({marks}) ORDER BY s.rowid DESC",
            (query, *late),
        ):
            hits.setdefault(call_id, ("note", rowid))
    missing = [call_id for call_id in calls if call_id not in hits]
    if missing:
        marks = ",".join("?" * len(missing))
        for rowid, call_id in db.execute(
            "SELECT fs.rowid, f.call_id FROM field_search fs JOIN call_field f "
            f"ON f.rowid = fs.rowid WHERE field_search MATCH ? AND f.call_id IN ({marks})",
            (query, *missing),
        ):
            hits.setdefault(call_id, ("field", rowid))
    return hits


def _match(db: sqlite3.Connection, search: str, hit: tuple[str, int] | None) -> SearchMatch | None:
    """The excerpt shown for a call: its newest matching note or field."""
    if hit is None:
        return None
    kind, rowid = hit
    if kind == "note":
        row = db.execute("SELECT section, body FROM note WHERE id = ?", (rowid,)).fetchone()
        if row is None:
            return None
        line, marks = snippet(row[1], search)
        return SearchMatch("note", Section(row[0]), line, marks)
    row = db.execute("SELECT key, value FROM call_field WHERE rowid = ?", (rowid,)).fetchone()
    if row is None:
        return None
    line, marks = snippet(row[1], search)
    return SearchMatch(row[0], None, line, marks)


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
