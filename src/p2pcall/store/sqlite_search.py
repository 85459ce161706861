"""The history's full-text search on SQLite: the FTS5 indexes (`schema._v2_search`).

`history` calls `page` and `matching_calls` (the same functions as `postgres.search`).
Plain sqlite3 on the read connection: FTS5 has no SQLAlchemy construct, and the search
streams matches lazily, which the ORM cannot do.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from p2pcall.domain.history import field_match, fts_query, note_match
from p2pcall.domain.models import SearchMatch
from p2pcall.store.queries.calls import NEWEST_FIRST as _ORDER

if TYPE_CHECKING:
    from p2pcall.store.queries.cursor import Db

# A search walks the filtered calls newest first, CALL_BATCH at first (doubling up to
# MAX_CALL_BATCH), and asks for every matching call at once after WALK_BUDGET calls (a word
# rare enough not to fill a page by then has few matches: that query is quick for it).
CALL_BATCH = 128  # more than a page: a common word fills one from the first batch
MAX_CALL_BATCH = 800
# A word with fewer matching rows than this in each index is searched all at once (a rare
# word has few matches to gather, while walking the calls would find few per batch).
RARE_MATCHES = 2_000
WALK_BUDGET = 3_000
STREAM_BUDGET = 60_000  # index rows read by the walk before it gives up
STREAM_BATCH = 512
# The search indexes' tokenizer and prefixes (schema._v2_search); the scratch table of
# `_Matcher` is built with the same, so it matches exactly as the indexes do.
FTS_OPTIONS = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"

_ALL_HITS = (  # two parameters: the same MATCH expression twice
    "SELECT n.call_id FROM note_search s JOIN note n ON n.id = s.rowid "
    "WHERE note_search MATCH ? UNION SELECT f.call_id FROM field_search fs "
    "JOIN call_field f ON f.rowid = fs.rowid WHERE field_search MATCH ?"
)


# -- search -------------------------------------------------------------------------------------


def page(
    db: Db, search: str, where: str, params: list[object], offset: int, limit: int
) -> tuple[list[int], dict[int, SearchMatch], bool]:
    """The page of calls (ids, newest first) that pass `where` and match the words typed,
    each with where it matched (its newest matching note, else field), and whether more
    follow."""
    query = fts_query(search)
    assert query is not None  # history searches only when there are words
    conn = _sqlite(db)
    ids, hits, has_more = _search(conn, query, where, params, offset, limit)
    found = {}
    for call_id in ids:
        match = _match(conn, search, hits.get(call_id))
        if match is not None:
            found[call_id] = match
    return ids, found, has_more


def matching_calls(search: str) -> tuple[str, list[object]]:
    """A SELECT of the ids of every call matching the words typed, and its parameters."""
    query = fts_query(search)
    return _ALL_HITS, [query, query]


def _sqlite(db: Db) -> sqlite3.Connection:
    """FTS5 is SQLite's: on SQLite, `reading()` gives a `sqlite3.Connection`."""
    assert isinstance(db, sqlite3.Connection)
    return db


class _TooCostly(Exception):
    """The walk read more index rows than a search of every match at once would."""


def _search(
    db: sqlite3.Connection, query: str, where: str, params: list[object], offset: int, limit: int
) -> tuple[list[int], dict[int, tuple[str, int]], bool]:
    """The page's call ids (newest first), what matched in each, and whether more follow.

    Walks the calls that pass the filter newest first (the `ix_call_created` index, bounded by
    the dates), a batch at a time, and asks `_Matcher` which of each batch match. A common word
    fills the page within a batch or two whatever the size of the history, and a date range
    in the past reads only that part of the indexes. When the walk has looked at WALK_BUDGET
    calls, or read STREAM_BUDGET index rows, without filling the page (a rare word, or a
    filter few calls pass), SQLite is asked for every matching call at once instead.

    Nothing here assumes that rows were written in time order: an earlier version read the
    indexes newest row first and stopped at a time bound, and missed calls when a note with an
    old time had a high row id (a clock set back, or notes written out of time order).
    """
    if _rare(db, query):
        return _search_all(db, query, where, params, offset, limit)
    need = offset + limit + 1
    matcher = _Matcher(db, query, STREAM_BUDGET)
    found: list[int] = []
    hits: dict[int, tuple[str, int]] = {}
    walked = 0
    after: tuple[str, int] | None = None  # (created_at, id) of the last call walked
    size = CALL_BATCH
    try:
        while len(found) < need:
            if walked >= WALK_BUDGET:
                raise _TooCostly
            resume = "" if after is None else " AND (c.created_at, c.id) < (?, ?)"
            batch = db.execute(
                f"SELECT c.id, c.created_at FROM call c WHERE {where}{resume}{_ORDER} LIMIT ?",
                (*params, *(after or ()), size),
            ).fetchall()
            if not batch:
                break
            walked += len(batch)
            after = (batch[-1][1], batch[-1][0])
            ids = [row[0] for row in batch]
            matched = matcher.matches(ids)
            hits.update(matched)
            found += [call_id for call_id in ids if call_id in matched]
            if len(batch) < size:
                break
            size = min(size * 2, MAX_CALL_BATCH)
    except _TooCostly:
        matcher.close()
        return _search_all(db, query, where, params, offset, limit)
    matcher.close()
    page = found[offset : offset + limit]
    return page, {call_id: hits[call_id] for call_id in page}, len(found) > offset + limit


def _rare(db: sqlite3.Connection, query: str) -> bool:
    """Fewer than RARE_MATCHES rows match in each search index (counted up to that only)."""
    for fts in ("note_search", "field_search"):
        counted = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT ?)",
            (query, RARE_MATCHES),
        ).fetchone()[0]
        if counted >= RARE_MATCHES:
            return False
    return True


def _search_all(
    db: sqlite3.Connection, query: str, where: str, params: list[object], offset: int, limit: int
) -> tuple[list[int], dict[int, tuple[str, int]], bool]:
    """Every matching call at once: for searches the walk cannot end early (rare words)."""
    sql = (
        f"SELECT c.id FROM call c WHERE {where} AND c.id IN ({_ALL_HITS}){_ORDER} LIMIT ? OFFSET ?"
    )
    ids = [row[0] for row in db.execute(sql, (*params, query, query, limit + 1, offset))]
    page = ids[:limit]
    matcher = _Matcher(db, query, None)
    try:
        return page, matcher.matches(page), len(ids) > limit
    finally:
        matcher.close()


def _marks(values: list[int]) -> str:
    return ",".join("?" * len(values))


# Each searched table: its FTS5 index, its row id column and its text column.
_TABLES = {"note": ("note_search", "id", "body"), "call_field": ("field_search", "rowid", "value")}


class _Stream:
    """Matches of one FTS5 index, highest row id first, from one MATCH read lazily.

    One statement, because for a prefix ("revi"*) FTS5 merges the postings of every word
    with that prefix for each MATCH it runs (about 25 ms for a common prefix at 2,000,000
    notes), however few rows the statement is limited to: a MATCH per batch, or `rowid IN
    (...)` (a MATCH per value), would pay that again and again.
    """

    def __init__(self, db: sqlite3.Connection, query: str, table: str, top: int) -> None:
        fts, key, _text = _TABLES[table]
        self.top = top  # every matching row above `top` is outside this stream
        self.position = top + 1  # every matching row from here to `top` has been read
        self.cursor = db.execute(
            f"SELECT s.rowid, t.call_id FROM {fts} s JOIN {table} t ON t.{key} = s.rowid "
            f"WHERE {fts} MATCH ? AND s.rowid <= ? ORDER BY s.rowid DESC",
            (query, top),
        )
        self.best: dict[int, int] = {}  # call id -> highest matching row id read

    def read_down_to(self, low: int, budget: list[int] | None, calls: set[int]) -> None:
        """Read until every matching row from `low` up is read, or every one of `calls` has a
        match read (rows come highest first: the first read of a call is its newest)."""
        while self.position > low and not calls <= self.best.keys():
            rows = self.cursor.fetchmany(STREAM_BATCH)
            if budget is not None:
                budget[0] -= len(rows)
                if budget[0] < 0:
                    raise _TooCostly
            for rowid, call_id in rows:
                if rowid > self.best.get(call_id, -1):
                    self.best[call_id] = rowid
            if len(rows) < STREAM_BATCH:
                self.position = -1  # read to the end
                return
            self.position = rows[-1][0]


class _Matcher:
    """Which calls of a set match a search, each with its newest matching note, else field.

    Exact for any set of calls. For each table, the rows the calls wrote during the call
    (not `late`) lie in one span of row ids when calls do not overlap: a stream (see
    `_Stream`) reads the index's matches down through that span. Rows outside the span, or
    above the stream's start (late entries, a call prepared long before it was held) are few:
    their text is matched in a scratch in-memory FTS5 table built with the same tokenizer,
    so the answer is the same as the index's.
    """

    def __init__(self, db: sqlite3.Connection, query: str, budget: int | None) -> None:
        self.db = db
        self.query = query
        self.budget = None if budget is None else [budget]
        self.streams: dict[str, _Stream] = {}
        self.scratch: sqlite3.Connection | None = None

    def close(self) -> None:
        for stream in self.streams.values():
            stream.cursor.close()  # an open FTS5 cursor slows later MATCH queries
        if self.scratch is not None:
            self.scratch.close()

    def matches(self, calls: list[int]) -> dict[int, tuple[str, int]]:
        found: dict[int, tuple[str, int]] = {}
        if not calls:
            return found
        notes = self._best(calls, "note")
        found.update((call_id, ("note", rowid)) for call_id, rowid in notes.items())
        missing = [call_id for call_id in calls if call_id not in found]
        fields = self._best(missing, "call_field")
        found.update((call_id, ("field", rowid)) for call_id, rowid in fields.items())
        return found

    def _best(self, calls: list[int], table: str) -> dict[int, int]:
        """Call id -> its highest matching row id in `table`, for the calls that match."""
        if not calls:
            return {}
        _fts, key, text = _TABLES[table]
        marks = _marks(calls)
        low, high = self.db.execute(
            f"SELECT min({key}), max({key}) FROM {table} WHERE call_id IN ({marks}) AND NOT late",
            calls,
        ).fetchone()
        best: dict[int, int] = {}
        wanted = set(calls)
        if low is None:
            low, high = 0, -1  # no span: every row is checked on its own
        else:
            stream = self.streams.get(table)
            if stream is None:
                stream = self.streams[table] = _Stream(self.db, self.query, table, high)
            stream.read_down_to(low, self.budget, wanted)
            high = min(high, stream.top)
            for call_id in wanted:
                rowid = stream.best.get(call_id)
                if rowid is not None:  # a match whatever its place: never above a newer one
                    best[call_id] = rowid
        outside = self.db.execute(
            f"SELECT {key}, call_id, {text} FROM {table} "
            f"WHERE call_id IN ({marks}) AND ({key} < ? OR {key} > ?)",
            (*calls, low, high),
        ).fetchall()
        for rowid, call_id in self._scratch_matches(outside):
            if rowid > best.get(call_id, -1):
                best[call_id] = rowid
        return best

    def _scratch_matches(self, rows: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
        if not rows:
            return []
        if self.scratch is None:
            self.scratch = sqlite3.connect(":memory:", isolation_level=None)
            self.scratch.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, {FTS_OPTIONS})")
            self.scratch.execute("CREATE TABLE owner (id INTEGER PRIMARY KEY, call_id INTEGER)")
        db = self.scratch
        db.execute("DELETE FROM t")
        db.execute("DELETE FROM owner")
        keyed = [(index, row[0], row[1], row[2]) for index, row in enumerate(rows, 1)]
        db.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)", [(k[0], k[3]) for k in keyed])
        db.executemany("INSERT INTO owner VALUES (?, ?)", [(k[0], k[2]) for k in keyed])
        matched = {
            row[0] for row in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (self.query,))
        }
        return [(rowid, call_id) for index, rowid, call_id, _text in keyed if index in matched]


def _match(db: sqlite3.Connection, search: str, hit: tuple[str, int] | None) -> SearchMatch | None:
    """The excerpt shown for a call: its newest matching note or field."""
    if hit is None:
        return None
    kind, rowid = hit
    if kind == "note":
        row = db.execute("SELECT section, body FROM note WHERE id = ?", (rowid,)).fetchone()
        return None if row is None else note_match(search, row[0], row[1])
    row = db.execute("SELECT key, value FROM call_field WHERE rowid = ?", (rowid,)).fetchone()
    return None if row is None else field_match(search, row[0], row[1])
