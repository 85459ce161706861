"""Running a query with rows whose columns are attributes (see `store.rows`)."""

from __future__ import annotations

import sqlite3
from typing import Any

from p2pcall.store.rows import named_rows


def rows(db: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    cursor = db.cursor()
    cursor.row_factory = named_rows
    return cursor.execute(sql, params).fetchall()


def one(db: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any | None:
    found = rows(db, sql, params)
    return found[0] if found else None
