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
# A search walks the calls that pass the filter newest first and asks the server whether each
# matches (`search_matches`), WALK_FACTOR times as many calls as the page needs at most (and
# WALK_CALLS at least): a common word fills the page within the first few hundred calls. A
# word that does not is rare enough to gather every matching call at once from the GIN
# indexes (`search_calls`) and keep the newest.
WALK_CALLS = 400
WALK_FACTOR = 4


def tsquery(search: str) -> tuple[str, list[object]]:
    """The tsquery for the words typed: SQL with `?` placeholders, and their values."""
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
    """A SELECT of the ids of every call matching the words typed, and its parameters.

    Through `search_calls` (sql/v2_search.sql): the GIN indexes read as their owner, only
    the calls the connected role may read given back. The same query run as the role would
    read every row: row-level security checks its policy before `@@`, which is not leakproof.
    """
    query, params = tsquery(search)
    return f"SELECT search_calls({query})", params


def page(
    db: Db, search: str, where: str, params: list[object], offset: int, limit: int
) -> tuple[list[int], dict[int, SearchMatch], bool]:
    """The page of calls (ids, newest first) that pass `where` and match the words typed,
    each with where it matched (its newest matching note, else field), and whether more
    follow."""
    query, words = tsquery(search)
    need = offset + limit + 1
    budget = max(WALK_CALLS, WALK_FACTOR * need)
    # The walk: the first `budget` calls of the filter, each asked in turn until `need` match.
    found = [
        int(row[0])
        for row in db.execute(
            f"SELECT w.id FROM (SELECT c.id, c.created_at FROM call c WHERE {where}{ORDER} "
            f"LIMIT ?) AS w WHERE search_matches({query}, w.id) "
            "ORDER BY w.created_at DESC, w.id DESC LIMIT ?",
            [*params, budget, *words, need],
        )
    ]
    if len(found) < need:
        walked = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM call c WHERE {where} LIMIT ?) AS w",
            [*params, budget],
        ).fetchone()[0]
        if walked >= budget:  # calls were left unwalked: every match at once instead
            matching, more = matching_calls(search)
            found = [
                int(row[0])
                for row in db.execute(
                    f"SELECT c.id FROM call c WHERE {where} AND c.id IN ({matching})"
                    f"{ORDER} LIMIT ?",
                    [*params, *more, need],
                )
            ]
    ids = found[offset : offset + limit]
    return ids, _matches(db, search, query, words, ids), len(found) > offset + limit


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
