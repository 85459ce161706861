"""The history's full-text search on PostgreSQL: tsvector columns and their GIN indexes.

`history` calls `page` and `matching_calls`, as it calls `sqlite_search`'s on SQLite, and
gets the same answers: every word in one note or one field, the last one as a prefix unless
a space follows it, case and accents ignored (the text search configuration
`p2pcall.record_text`: unaccent, then lower case, no stemming), and words split as SQLite's
index splits them (the `search` columns of sql/v2_search.sql).

The words come from `domain.history.search_words` (runs of letters and digits), the same as
on SQLite. They reach the server only as bound parameters: the whole words through
`plainto_tsquery`, which reads no operator, and the prefix word as one quoted lexeme with
`:*` through `to_tsquery`; nothing the user typed is ever part of the SQL text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from p2pcall.domain.history import field_match, fts_query, note_match, search_words
from p2pcall.domain.models import SearchMatch
from p2pcall.store.queries.calls import NEWEST_FIRST as ORDER

if TYPE_CHECKING:
    from p2pcall.store.queries.cursor import Db

CONFIG = "'p2pcall.record_text'"
# A search with fewer matching rows than this in each table gathers every matching call at
# once (the GIN index lists them); a commoner one walks the calls newest first and checks
# each against its own notes and fields, which fills a page after a few hundred calls.
RARE_MATCHES = 2_000


def tsquery(search: str) -> tuple[str, list[object]]:
    """The tsquery for the words typed, as SQL with `?` parameters (None-free)."""
    words = search_words(search)
    prefix = (fts_query(search) or "").endswith("*")
    whole = words[:-1] if prefix else words
    parts: list[str] = []
    params: list[object] = []
    if whole:
        parts.append(f"plainto_tsquery({CONFIG}, ?)")
        params.append(" ".join(whole))
    if prefix:
        parts.append(f"to_tsquery({CONFIG}, ?)")
        params.append(_quoted(words[-1]) + ":*")
    if not parts:  # no words: history never searches then; match nothing rather than all
        return "''::tsquery", []
    return "(" + " && ".join(parts) + ")", params


def _quoted(word: str) -> str:
    """One lexeme in tsquery syntax: quoted, its quotes and backslashes escaped (a word is
    letters and digits, so there are none; escaped all the same)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def matching_calls(search: str) -> tuple[str, list[object]]:
    """A SELECT of the ids of every call matching the words typed, and its parameters."""
    query, params = tsquery(search)
    sql = (
        f"SELECT n.call_id FROM note n WHERE n.search @@ {query} "
        f"UNION SELECT f.call_id FROM call_field f WHERE f.search @@ {query}"
    )
    return sql, [*params, *params]


def page(
    db: Db, search: str, where: str, params: list[object], offset: int, limit: int
) -> tuple[list[int], dict[int, SearchMatch], bool]:
    """The page of calls (ids, newest first) that pass `where` and match the words typed,
    each with where it matched (its newest matching note, else field), and whether more
    follow."""
    query, words = tsquery(search)
    if _rare(db, query, words):
        matching, more = matching_calls(search)
        condition, condition_params = f"c.id IN ({matching})", more
    else:
        condition = (
            f"(EXISTS (SELECT 1 FROM note n WHERE n.call_id = c.id AND n.search @@ {query}) "
            "OR EXISTS (SELECT 1 FROM call_field f WHERE f.call_id = c.id "
            f"AND f.search @@ {query}))"
        )
        condition_params = [*words, *words]
    rows = db.execute(
        f"SELECT c.id FROM call c WHERE {where} AND {condition}{ORDER} LIMIT ? OFFSET ?",
        [*params, *condition_params, limit + 1, offset],
    ).fetchall()
    ids = [int(row[0]) for row in rows[:limit]]
    return ids, _matches(db, search, query, words, ids), len(rows) > limit


def _rare(db: Db, query: str, words: list[object]) -> bool:
    """Fewer than RARE_MATCHES rows match in each table (counted up to that only)."""
    counted = db.execute(
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM note WHERE search @@ {query} "
        f"LIMIT ?) AS n), (SELECT count(*) FROM (SELECT 1 FROM call_field "
        f"WHERE search @@ {query} LIMIT ?) AS f)",
        [*words, RARE_MATCHES, *words, RARE_MATCHES],
    ).fetchone()
    return int(counted[0]) < RARE_MATCHES and int(counted[1]) < RARE_MATCHES


def _matches(
    db: Db, search: str, query: str, words: list[object], ids: list[int]
) -> dict[int, SearchMatch]:
    """Where each call matched: its newest matching note (the highest number, as on SQLite),
    else its most recently set matching field."""
    if not ids:
        return {}
    found: dict[int, SearchMatch] = {}
    notes = db.execute(
        "SELECT DISTINCT ON (n.call_id) n.call_id, n.section, n.body FROM note n "
        f"WHERE n.call_id = ANY(?) AND n.search @@ {query} ORDER BY n.call_id, n.id DESC",
        [ids, *words],
    ).fetchall()
    for call_id, section, body in notes:
        found[int(call_id)] = note_match(search, section, body)
    rest = [call_id for call_id in ids if call_id not in found]
    if rest:
        fields = db.execute(
            "SELECT DISTINCT ON (f.call_id) f.call_id, f.key, f.value FROM call_field f "
            f"WHERE f.call_id = ANY(?) AND f.search @@ {query} "
            "ORDER BY f.call_id, f.updated_at DESC, f.key",
            [rest, *words],
        ).fetchall()
        for call_id, key, value in fields:
            found[int(call_id)] = field_match(search, key, value)
    return found
