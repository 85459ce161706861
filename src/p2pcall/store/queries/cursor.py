"""Running a query with rows whose columns are attributes (see `store.rows`)."""

from __future__ import annotations

from typing import Any, Protocol

from p2pcall.store.rows import named_rows


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
    found: list[Any] = cursor.execute(sql, params).fetchall()
    return found


def one(db: Db, sql: str, params: tuple[Any, ...] = ()) -> Any | None:
    found = rows(db, sql, params)
    return found[0] if found else None
