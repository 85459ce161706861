"""The app's store on a practice's PostgreSQL server: `Store`, with the server's dialect.

Every read and write of `Store` and its mixins runs here unchanged: the writes through
SQLAlchemy's PostgreSQL dialect (psycopg 3), the reads' plain SQL through `dbapi.PgDb`.
What differs is how it opens (a URL, libpq's password sources, a schema set up by
`p2pcall db init`), how reads begin (`dialect.BEGIN_READ`), the words of its errors, and
the few statements PostgreSQL spells its own way (the upsert construct, the call row locked
while a call is finalized).

The server's triggers and row-level security are the guard (store/postgres/sql/); the role
connected is the author of every row it writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.datetime import TimestamptzBinaryLoader, TimestamptzLoader
from psycopg.types.string import StrDumperUnknown
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.pool import QueuePool
from sqlmodel import SQLModel

from p2pcall.domain.models import CallRecord, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.paths import database_path
from p2pcall.store.errors import DatabaseError, NotTakenError, StoreError
from p2pcall.store.postgres import connection, schema
from p2pcall.store.postgres import dialect as pg
from p2pcall.store.postgres.dbapi import PgDb
from p2pcall.store.postgres.local_drafts import LocalDrafts
from p2pcall.store.rows import note_of
from p2pcall.store.store import (
    ADDENDUM_NEEDS_REASON,
    FINALIZED_BEFORE_SENT,
    Store,
    check_note,
)
from p2pcall.store.timetext import utc_moment

GROUPS = {"p2pcall_clinician": "clinician", "p2pcall_coordinator": "coordinator"}
GROUPS_ADMIN = "p2pcall_admin"


class _UtcText(TimestamptzLoader):
    """timestamptz as the pendulum UTC DateTime SQLite's text gives (see timetext)."""

    def load(self, data: Any) -> Any:
        return utc_moment(super().load(data))


class _UtcBinary(TimestamptzBinaryLoader):
    def load(self, data: Any) -> Any:
        return utc_moment(super().load(data))


# PostgreSQL's text cannot hold a NUL character (SQLite's can): one in pasted text is kept as
# the symbol the app shows for it anyway, U+2400, instead of the save failing for ever.
_NUL, _NUL_SHOWN = "\x00", "\u2400"


class _TextNoNul(StrDumperUnknown):
    def dump(self, obj: str) -> Any:
        return super().dump(obj.replace(_NUL, _NUL_SHOWN))


def prepared(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """Times read as the store reads them from SQLite; text with NUL made storable."""
    conn.adapters.register_loader("timestamptz", _UtcText)
    conn.adapters.register_loader("timestamptz", _UtcBinary)
    # Text format, unknown type (as psycopg's own default for str): the server infers the
    # type, so a time given as text compares with a timestamptz column.
    conn.adapters.register_dumper(str, _TextNoNul)
    return conn


class PgStore(Store):
    kind = "postgres"
    db_errors = (psycopg.Error,)
    begin_read = pg.BEGIN_READ
    schema_version_now = schema.CURRENT_VERSION  # the server schema this p2pcall writes

    def __init__(self, engine: Engine, path: Path, where: str, role: str) -> None:
        super().__init__(engine, path)
        self.where = where  # "p2pcall on host as dr_lee": for messages, never a password
        self.role = role  # clinician, coordinator or admin
        self.drafts = LocalDrafts(path.parent, where)  # on this computer: see local_drafts

    @classmethod
    def open_url(
        cls, url: str, data_dir: Path, *, prompt: connection.Prompt | None = None
    ) -> PgStore:
        """Connect to the server at `url` (asking for a password through `prompt` when libpq
        has none) and check it is set up for this p2pcall and for this role.

        DatabaseError, in words, when it cannot be used. `data_dir` stays the local folder
        (settings, the outbox); `path` is its database file only so that nothing is ever
        exported over it.
        """
        try:
            url = connection.database_url(url)
            first = prepared(connection.connect(url, prompt=prompt, settings=pg.SESSION_SETTINGS))
        except connection.ConnectionProblem as exc:
            raise DatabaseError(f"{exc}.") from None
        password = first.info.password or None  # asked once: kept for the pool's connections
        try:
            where = connection.shown_connected(first)
            role = checked_role(first, where)
            first.rollback()
        except psycopg.Error as exc:
            first.close()
            raise DatabaseError(pg.describe_read(exc, connection.shown(url))) from None
        except DatabaseError:
            first.close()
            raise
        spare = [first]

        def connect() -> psycopg.Connection[Any]:
            if spare:
                return spare.pop()
            try:
                conn = connection.connect(
                    url,
                    prompt=_no_prompt,
                    password=password,
                    settings=pg.SESSION_SETTINGS,
                )
            except connection.ConnectionProblem as exc:
                # As the driver's own error, so the pool and `is_unreachable` know it.
                raise psycopg.OperationalError(str(exc)) from None
            return prepared(conn)

        engine = create_engine(
            "postgresql+psycopg://",
            creator=connect,
            poolclass=QueuePool,
            pool_pre_ping=True,  # a connection the server dropped (restart, network) is replaced
        )
        store = cls(engine, database_path(data_dir), where, role)
        store.reachable = True

        def reached(*_args: Any) -> None:  # a live connection (pinged or new) was handed out
            store.reachable = True

        event.listen(engine, "checkout", reached)
        return store

    def upsert(self, table: type[SQLModel]) -> Any:
        return pg_insert(table)

    # -- drafts stay on this computer (see local_drafts) ---------------------------------------

    def save_draft(
        self, call_id: int, section: Section, kind: NoteKind, body: str, started_at: datetime
    ) -> None:
        self.drafts.save(call_id, section, kind, body, started_at)

    def add_note(
        self,
        call_id: int,
        section: Section,
        kind: NoteKind,
        body: str,
        started_at: datetime,
        *,
        reason: str = "",
        corrects: int | None = None,
        key: str | None = None,
        entered_at: datetime | None = None,
    ) -> Note:
        """As `Store.add_note`, in one statement (`_ADD_NOTE`) rather than a transaction of
        five: each round trip is a wait for the UI thread to let go of the interpreter, and
        that, not the server, is what Enter -> saved costs. Then the section's draft here
        goes (the file's goes in the note's transaction): only one begun by the moment
        Enter was pressed (a note sent from the outbox later must not take the text typed
        since)."""
        check_note(body, entered_at)
        reason = reason.strip()
        saved_at = entered_at or now_utc()
        values = {
            "call_id": call_id,
            "section": section.value,
            "kind": kind.value,
            "body": body,
            "started_at": started_at,
            "saved_at": saved_at,
            "entered": entered_at is not None,
            "reason": reason,
            "corrects": corrects,
            "key": key,
        }
        with self._autocommit() as conn:
            try:
                row: Any = (
                    conn.cursor(row_factory=namedtuple_row).execute(_ADD_NOTE, values).fetchone()
                )
            except psycopg.Error as exc:
                raise self._error(exc) from None
        assert row is not None  # the statement always answers one row
        if row.id is not None:  # its commit went through before: exactly once
            if row.call_id != call_id:
                raise StoreError("This note's key belongs to a note of another call.")
            return note_of(row)
        if row.added_id is None:
            if not row.found:
                raise StoreError(f"There is no call number {call_id}.")
            if entered_at is not None and entered_at <= row.finalized_at:
                raise NotTakenError(FINALIZED_BEFORE_SENT)
            raise StoreError(ADDENDUM_NEEDS_REASON)
        with contextlib.suppress(StoreError):  # a stale draft is offered back, never lost
            self.drafts.drop(call_id, section, begun_by=entered_at)
        return Note(
            id=row.added_id,
            call_id=call_id,
            section=section,
            kind=kind,
            body=body,
            started_at=started_at,
            saved_at=saved_at,
            late=row.added_late,
            reason=reason,
            corrects=corrects,
        )

    def load_call(self, call_id: int) -> CallRecord:
        record = super().load_call(call_id)
        return replace(record, drafts=self.drafts.of_call(call_id))

    def close(self) -> None:
        self.drafts.close()
        super().close()

    def is_damage(self, exc: BaseException) -> bool:
        return pg.is_damage(exc)

    def is_unreachable(self, exc: BaseException) -> bool:
        return pg.is_unreachable(exc)

    def describe(self, exc: BaseException) -> str:
        if self.read_only:
            return pg.describe_read(exc, self.where)
        return pg.describe_write(exc, self.where)

    @contextmanager
    def _read_connection(self) -> Iterator[PgDb]:  # type: ignore[override]
        """A pooled connection in autocommit, so that `reading()` begins its own snapshot."""
        with self._autocommit() as conn:
            yield PgDb(conn)

    @contextmanager
    def _autocommit(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (pinged: see open_url) in autocommit, given back after."""
        try:
            fairy = self.engine.raw_connection()
        except Exception as exc:
            raise self._error(exc) from None
        try:
            conn = fairy.driver_connection
            assert isinstance(conn, psycopg.Connection)
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.closed:
                    conn.autocommit = False
        finally:
            fairy.close()

    def integrity_check(self) -> str:
        return "ok"  # the server checks its own storage; nothing here to walk


# One statement, atomic on its own: the note already stored with this key (sent before, its
# answer lost), else the note inserted when the call takes it (not finalized, or an addendum
# with a reason that was not typed before the call was finalized), and what the call's row
# said, for the refusal. `late` as `Store.add_note` judges it. The record's guards (triggers,
# row-level security) check the insert as they check any.
_ADD_NOTE = """
WITH target AS (
    SELECT id, ended_at, finalized_at FROM call WHERE id = %(call_id)s
), stored AS (
    SELECT id, call_id, section, kind, body, started_at, saved_at, late, reason, corrects_id,
           author
    FROM note WHERE client_key = %(key)s
), added AS (
    INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason,
                      corrects_id, client_key)
    SELECT id, %(section)s, %(kind)s, %(body)s, %(started_at)s, %(saved_at)s,
           ended_at IS NOT NULL AND (NOT %(entered)s OR %(saved_at)s >= ended_at),
           %(reason)s, %(corrects)s, %(key)s
    FROM target
    WHERE NOT EXISTS (SELECT FROM stored)
      AND (finalized_at IS NULL
           OR (%(reason)s <> '' AND NOT (%(entered)s AND %(saved_at)s <= finalized_at)))
    RETURNING id, late
)
SELECT EXISTS (SELECT FROM target) AS found, (SELECT finalized_at FROM target) AS finalized_at,
       added.id AS added_id, added.late AS added_late, stored.*
FROM (SELECT) AS one LEFT JOIN added ON true LEFT JOIN stored ON true
"""


def _no_prompt(_question: str) -> str:
    raise EOFError  # a reconnect never asks: the password asked at open is reused


def checked_role(conn: psycopg.Connection[Any], where: str) -> str:
    """The role's group; DatabaseError when the schema or the role is not ready."""
    found = schema.version_of(conn)
    if found == 0:
        raise DatabaseError(
            f"{where}: there is no p2pcall schema on this database yet; whoever runs the "
            "server sets it up with `p2pcall db init` (docs/team.md)."
        )
    if found < schema.CURRENT_VERSION:
        raise DatabaseError(
            f"{where}: the server's p2pcall schema is version {found} and this p2pcall needs "
            f"{schema.CURRENT_VERSION}; whoever runs the server runs `p2pcall db upgrade`."
        )
    if found > schema.CURRENT_VERSION:
        raise DatabaseError(
            f"{where}: the server was set up by a newer p2pcall (schema {found}, this one "
            f"knows {schema.CURRENT_VERSION}); install the newer p2pcall on this computer."
        )
    row = conn.execute(
        "SELECT pg_has_role(session_user, 'p2pcall_admin', 'MEMBER'), "
        "pg_has_role(session_user, 'p2pcall_clinician', 'MEMBER'), "
        "pg_has_role(session_user, 'p2pcall_coordinator', 'MEMBER'), session_user"
    ).fetchone()
    assert row is not None
    admin, clinician, coordinator, user = row
    if clinician:
        return "clinician"
    if coordinator:
        return "coordinator"
    if admin:
        return "admin"
    raise DatabaseError(
        f"{where}: the role {user} is not a member of p2pcall_clinician, p2pcall_coordinator "
        "or p2pcall_admin; whoever runs the server grants one (docs/team.md)."
    )
