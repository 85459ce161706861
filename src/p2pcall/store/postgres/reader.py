"""The server opened to read only, with plain psycopg: the read-only commands' way in.

Like `store.reader.Reader` for the SQLite file: the same reads (`ReadApi`), no SQLAlchemy,
every read in a read-only snapshot (`dialect.BEGIN_READ`), nothing created or upgraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from p2pcall.store.errors import DatabaseError
from p2pcall.store.postgres import connection, schema
from p2pcall.store.postgres import dialect as pg
from p2pcall.store.postgres.dbapi import PgDb
from p2pcall.store.postgres.store import checked_role, prepared
from p2pcall.store.readapi import ReadApi


class PgReader(ReadApi):
    read_only = True
    schema_version_now = schema.CURRENT_VERSION  # the server schema this p2pcall writes
    kind = "postgres"
    db_errors = (psycopg.Error,)
    begin_read = pg.BEGIN_READ

    def __init__(self, conn: psycopg.Connection[Any], where: str, role: str) -> None:
        self._conn = conn
        self.where = where
        self.role = role
        self.path = Path(where)  # for messages only: there is no local file

    @classmethod
    def open_url(cls, url: str) -> PgReader:
        try:
            url = connection.database_url(url)
            conn = prepared(connection.connect(url, autocommit=True, settings=pg.SESSION_SETTINGS))
        except connection.ConnectionProblem as exc:
            raise DatabaseError(f"{exc}.") from None
        where = connection.shown_connected(conn)
        try:
            role = checked_role(conn, where)
        except psycopg.Error as exc:
            conn.close()
            raise DatabaseError(pg.describe_read(exc, where)) from None
        except DatabaseError:
            conn.close()
            raise
        return cls(conn, where, role)

    def is_damage(self, exc: BaseException) -> bool:
        return pg.is_damage(exc)

    def describe(self, exc: BaseException) -> str:
        return pg.describe_read(exc, self.where)

    @contextmanager
    def _read_connection(self) -> Iterator[PgDb]:
        yield PgDb(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PgReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
