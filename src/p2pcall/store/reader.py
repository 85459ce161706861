"""The database opened to read only, with plain `sqlite3`: the read-only commands' way in.

`list`, `due`, `show`, `export` and `verify` read through a `Reader`: the same queries as the
app's `Store` (`ReadApi`, `queries`, `history`), without SQLAlchemy or SQLModel, whose imports
alone cost several times a bare Python start. Creates nothing (no folder, no file, no
backup), never upgrades, never takes the write lock (see `reading` for how it opens).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from p2pcall.store import reading, schema
from p2pcall.store import sqlite_dialect as dialect
from p2pcall.store.errors import DatabaseError, StoreError
from p2pcall.store.readapi import ReadApi


class Reader(ReadApi):
    read_only = True

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, data_dir: Path) -> Reader:
        """Open the database in `data_dir` for reading. StoreError when there is none (callers
        that accept "no records yet" ask `reading.database_to_read` first), DatabaseError
        when it cannot be read (damaged, foreign, older schema, a folder...)."""
        try:
            path = reading.database_to_read(data_dir)
        except reading.ReadError as exc:
            raise DatabaseError(str(exc)) from None
        if path is None:
            raise StoreError(f"There are no records in {data_dir} yet (no database file).")
        try:
            db = dialect.connect_reader(path)
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(dialect.describe_read(exc, path)) from None
        try:
            dialect.check_readable(db)
        except schema.SchemaError as exc:
            db.close()
            raise DatabaseError(f"{path}: {exc}.") from None
        except (sqlite3.Error, OSError) as exc:
            db.close()
            raise DatabaseError(dialect.describe_read(exc, path)) from None
        return cls(db, path)

    def describe(self, exc: BaseException) -> str:
        return dialect.describe_read(exc, self.path)

    @contextmanager
    def _read_connection(self) -> Iterator[sqlite3.Connection]:
        yield self._db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
