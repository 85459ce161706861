"""Running a query with rows whose columns are attributes (see `store.rows`)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Protocol

from p2pcall.store.rows import named_rows

# In a query's column list, `{author}` (or `{f.author}` with a table alias, `{c.author AS
# call_author}` under another name) is the row's author where the database records one: the
# server's `author` column; a laptop's SQLite file has none, and reads NULL. One query text
# for both databases, chosen by the kind of connection that runs it (`on_server`).
AUTHOR = "{author}"
_AUTHOR = re.compile(r"\{(\w+\.)?author(?: AS (\w+))?\}")


@lru_cache(maxsize=256)
def _with_author(sql: str, recorded: bool) -> str:
    def column(m: re.Match[str]) -> str:
        name = m[2] or "author"
        return f"{m[1] or ''}author AS {name}" if recorded else f"NULL AS {name}"

    return _AUTHOR.sub(column, sql)


def on_server(db: Db) -> bool:
    """A practice server's connection (`store.postgres.dbapi.PgDb`), not a laptop's SQLite
    file (a `sqlite3.Connection`, or anything standing in for one)."""
    return getattr(db, "on_server", False) is True


def text_for(db: Db, sql: str) -> str:
    """`sql` as `db` runs it (see AUTHOR)."""
    if "{" not in sql:
        return sql
    return _with_author(sql, on_server(db))


class Db(Protocol):
    """What the store's plain SQL needs of a DB-API connection: `sqlite3.Connection`, or
    `store.postgres.dbapi.PgDb` (psycopg answering the same SQL)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def cursor(self) -> Any: ...
    @property
    def in_transaction(self) -> bool: ...


def rows(db: Db, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    cursor = db.cursor()
    cursor.row_factory = named_rows
    found: list[Any] = cursor.execute(text_for(db, sql), params).fetchall()
    return found


def one(db: Db, sql: str, params: tuple[Any, ...] = ()) -> Any | None:
    found = rows(db, sql, params)
    return found[0] if found else None
