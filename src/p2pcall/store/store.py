"""The app's store: writes through SQLAlchemy (BEGIN IMMEDIATE), reads through `ReadApi`.

Synchronous: the TUI calls it from its database thread only. What belongs to SQLite is in
`sqlite_dialect`; the reads' SQL is in `queries` (shared with the read-only `Reader`); the
write areas (records, follow-ups, letters, reviewers) are mixins that import nothing back
from this module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlmodel import Session, SQLModel, col

from p2pcall.domain.fields import FIELDS_BY_KEY
from p2pcall.domain.models import Call, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.paths import DataDirError, database_path, ensure_private_dir
from p2pcall.store import reading, schema
from p2pcall.store import sqlite_dialect as dialect
from p2pcall.store.errors import (
    DamagedError,
    DatabaseError,
    NoSuchCallError,
    NotTakenError,
    StoreError,
)
from p2pcall.store.followups import FollowUpsMixin
from p2pcall.store.letters import LettersMixin
from p2pcall.store.readapi import ReadApi
from p2pcall.store.records import RecordsMixin
from p2pcall.store.reviewers import ReviewersMixin
from p2pcall.store.rows import call_of, note_of
from p2pcall.store.tables import (
    NOTE_WITH_KEY,
    CallRow,
    DraftRow,
    FieldEditRow,
    FieldRow,
    NoteRow,
)

__all__ = [
    "ADDENDUM_NEEDS_REASON",
    "FINALIZED_BEFORE_SENT",
    "DamagedError",
    "DatabaseError",
    "NoSuchCallError",
    "Store",
    "StoreError",
    "is_damage",
    "needs_full_check",
]

BUSY_TIMEOUT_MS = dialect.BUSY_TIMEOUT_MS
ADDENDUM_NEEDS_REASON = (
    "This call is finalized: a note added now is an addendum and needs a reason."
)
FINALIZED_BEFORE_SENT = (
    "This call was finalized before this note reached the database, so the record cannot "
    "take it as typed: it is kept in the outbox. Add it to the call as an addendum."
)
# Kept under their earlier names: callers and tests use them.
needs_full_check = dialect.needs_full_check
is_damage = dialect.is_damage
_describe = dialect.describe_write


def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dialect.configure_writer(dbapi_connection)


def _on_connect_read_only(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # the "begin" event issues a plain BEGIN


def _on_begin(connection: Connection) -> None:
    connection.exec_driver_sql(dialect.BEGIN_WRITE)


def _on_begin_read(connection: Connection) -> None:
    connection.exec_driver_sql(dialect.BEGIN_READ)


def _engine_on(connect: Callable[[], sqlite3.Connection]) -> Engine:
    """An engine whose connections come from `connect`, never from a URL built from the path.

    In a URL, a `?` or `#` in the folder's name starts the query: "sqlite:////tmp/a?b/x"
    would open (and create, world-readable) /tmp/a. The URL only picks the dialect here;
    the pool is the one SQLAlchemy gives a database file.
    """
    return create_engine("sqlite://", creator=connect, poolclass=QueuePool)


class Store(ReadApi, RecordsMixin, FollowUpsMixin, LettersMixin, ReviewersMixin):
    def __init__(self, engine: Engine, path: Path, *, read_only: bool = False) -> None:
        self.engine = engine
        self.path = path
        self.read_only = read_only

    def upsert(self, table: type[SQLModel]) -> Any:
        """An INSERT that can become an UPDATE (`on_conflict_do_update`), in this database's
        own construct (SQLite and PostgreSQL spell it the same way)."""
        return sqlite_insert(table)

    def describe(self, exc: BaseException) -> str:
        """A failed query in words for the user: a reader is not told about unsaved typing."""
        if self.read_only:
            return dialect.describe_read(exc, self.path)
        return dialect.describe_write(exc, self.path)

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: Path) -> Store:
        """Open (creating or upgrading) the database in `data_dir`."""
        try:
            ensure_private_dir(data_dir)
        except DataDirError as exc:
            raise StoreError(str(exc)) from None
        path = database_path(data_dir)
        try:
            # A folder would read as "read-only disk", a FIFO would block the first read.
            reading.database_to_read(data_dir)
        except reading.ReadError as exc:
            raise DatabaseError(str(exc)) from None
        try:
            dialect.prepare(data_dir, path, now_utc().strftime("%Y%m%dT%H%M%SZ"))
        except schema.SchemaError as exc:
            raise DatabaseError(f"{path}: {exc}.") from None
        except (sqlite3.DatabaseError, OSError) as exc:
            raise DatabaseError(dialect.describe_write(exc, path)) from None
        engine = _engine_on(lambda: dialect.connect_writer(path))
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        store = cls(engine, path)
        dialect.tighten_files(path)
        return store

    @classmethod
    def open_read_only(cls, data_dir: Path) -> Store:
        """Open the database in `data_dir` for reading only: the read-only commands' way in.

        Creates nothing (no folder, no file, no backup), never upgrades, never takes the
        write lock: every session is a read transaction on a `mode=ro` connection (see
        `store.reading`). StoreError when there is no database: callers that accept
        "no records yet" ask `reading.database_to_read` first.
        """
        try:
            path = reading.database_to_read(data_dir)
        except reading.ReadError as exc:
            raise DatabaseError(str(exc)) from None
        if path is None:
            raise StoreError(f"There are no records in {data_dir} yet (no database file).")
        try:
            db = dialect.connect_reader(path)
            try:
                dialect.check_readable(db)
            finally:
                db.close()
        except schema.SchemaError as exc:
            raise DatabaseError(f"{path}: {exc}.") from None
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(dialect.describe_read(exc, path)) from None
        engine = _engine_on(lambda: dialect.connect_reader(path))
        event.listen(engine, "connect", _on_connect_read_only)
        event.listen(engine, "begin", _on_begin_read)
        return cls(engine, path, read_only=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE, see `sqlite_dialect`) through the ORM."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except (OperationalError, SADatabaseError) as exc:
            raise self._error(exc) from None

    @contextmanager
    def _read_connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection's DB-API connection, for `ReadApi.reading`."""
        try:
            fairy = self.engine.raw_connection()
        except Exception as exc:
            raise self._error(exc) from None
        try:
            db = fairy.driver_connection
            assert isinstance(db, sqlite3.Connection)
            yield db
        finally:
            fairy.close()

    # -- calls ---------------------------------------------------------------------------

    def start_call(self, tz: str) -> Call:
        now = now_utc()
        with self._session() as session:
            row = CallRow(created_at=now, started_at=now, tz=tz)
            session.add(row)
            session.commit()
            return call_of(row, [])

    def prepare_call(self, tz: str) -> Call:
        """A call prepared ahead: created now, not connected (its clock starts at connect)."""
        now = now_utc()
        with self._session() as session:
            row = CallRow(created_at=now, started_at=None, tz=tz)
            session.add(row)
            session.commit()
            return call_of(row, [])

    def connect_call(self, call_id: int, at: datetime | None = None) -> Call:
        """Stamp the moment the reviewer came on the line (``at``: the key press, else now).

        Once, and only before the end: a second press keeps the first time.
        """
        at = at or now_utc()
        if at.tzinfo is None or at.utcoffset() is None:
            raise StoreError("The connected time has no time zone; it was not saved.")
        with self._session() as session:
            row = self._call_row(session, call_id)
            if row.ended_at is not None:
                raise StoreError("This call has ended: its connected time can no longer be set.")
            if row.started_at is None:
                row.started_at = at
                session.add(row)
                session.commit()
            fields = session.scalars(select(FieldRow).where(col(FieldRow.call_id) == call_id)).all()
            return call_of(row, fields)

    def end_call(self, call_id: int, outcome: Outcome) -> Call:
        with self._session() as session:
            row = self._call_row(session, call_id)
            if row.ended_at is None:
                row.ended_at = now_utc()
            row.outcome = outcome.value
            session.add(row)
            session.commit()
            fields = session.scalars(select(FieldRow).where(col(FieldRow.call_id) == call_id)).all()
            return call_of(row, fields)

    def _call_row(self, session: Session, call_id: int, *, lock: bool = False) -> CallRow:
        """The call's row; with `lock`, held until the transaction ends (PostgreSQL's FOR
        UPDATE: writes of the record wait for it; SQLite's BEGIN IMMEDIATE already holds the
        whole file)."""
        if not 0 < call_id < 2**63:  # SQLite cannot even be asked (OverflowError): none such
            raise StoreError(f"There is no call number {call_id}.")
        row = session.get(CallRow, call_id, with_for_update=lock)
        if row is None:
            raise NoSuchCallError(f"There is no call number {call_id}.")
        return row

    # -- fields --------------------------------------------------------------------------

    def set_field(
        self, call_id: int, key: str, value: str, *, declined: bool = False, log: bool = False
    ) -> datetime:
        """Save a field's current value; with `log`, also append it to the field's history."""
        if key not in FIELDS_BY_KEY:
            raise StoreError(f"{key!r} is not a field of the call record.")
        now = now_utc()
        with self._session() as session:
            call = self._call_row(session, call_id)
            late = call.ended_at is not None
            upsert = self.upsert(FieldRow).values(
                call_id=call_id, key=key, value=value, declined=declined, updated_at=now, late=late
            )
            session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["call_id", "key"],
                    set_={"value": value, "declined": declined, "updated_at": now, "late": late},
                )
            )
            if log:
                last = session.scalars(
                    select(FieldEditRow)
                    .where(col(FieldEditRow.call_id) == call_id, col(FieldEditRow.key) == key)
                    .order_by(col(FieldEditRow.id).desc())
                    .limit(1)
                ).first()
                if last is None or (last.value, last.declined) != (value, declined):
                    session.add(
                        FieldEditRow(
                            call_id=call_id,
                            key=key,
                            value=value,
                            declined=declined,
                            edited_at=now,
                            late=late,
                        )
                    )
            session.commit()
        return now

    # -- notes and drafts --------------------------------------------------------------------

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
        """Commit a note and drop its section's draft in the same transaction.

        After finalizing, a note is an addendum and `reason` is required (the database
        refuses one without). Core statements rather than the ORM: this is the hot path.
        `key` (the outbox's idempotency key): a note already stored with it is returned as
        it is, never stored twice. `entered_at` (when Enter was pressed, for a note sent
        from the outbox): its saved time, and what "added after the call" is judged by;
        the section's draft is dropped unless it was begun after that moment.
        """
        check_note(body, entered_at)
        try:
            with self.engine.begin() as conn:
                if key is not None:
                    stored = conn.execute(_NOTE_BY_KEY, {"key": key}).one_or_none()
                    if stored is not None:
                        if stored.call_id != call_id:
                            raise StoreError("This note's key belongs to a note of another call.")
                        return note_of(stored)  # its commit went through: exactly once
                ended = conn.execute(_CALL_STATE, {"call_id": call_id}).one_or_none()
                if ended is None:
                    raise StoreError(f"There is no call number {call_id}.")
                if ended[1] is not None and entered_at is not None and entered_at <= ended[1]:
                    raise NotTakenError(FINALIZED_BEFORE_SENT)
                if ended[1] is not None and not reason.strip():
                    raise StoreError(ADDENDUM_NEEDS_REASON)
                saved_at, reason = entered_at or now_utc(), reason.strip()
                late = ended[0] is not None and (entered_at is None or saved_at >= ended[0])
                values = {
                    "call_id": call_id,
                    "section": section.value,
                    "kind": kind.value,
                    "body": body,
                    "started_at": started_at,
                    "saved_at": saved_at,
                    "late": late,
                    "reason": reason,
                    "corrects_id": corrects,
                }
                if key is None:
                    inserted = conn.execute(_INSERT_NOTE, values).inserted_primary_key
                else:
                    keyed = {**values, "client_key": key}
                    inserted = conn.execute(_INSERT_KEYED_NOTE, keyed).inserted_primary_key
                assert inserted is not None  # an INSERT of one row
                note_id = int(inserted[0])
                where = {"call_id": call_id, "section": section.value}
                if entered_at is None:
                    conn.execute(_DROP_DRAFT, where)
                else:
                    conn.execute(_DROP_OLDER_DRAFT, {**where, "entered_at": entered_at})
        except (OperationalError, SADatabaseError) as exc:
            raise self._error(exc) from None
        return Note(
            id=note_id,
            call_id=call_id,
            section=section,
            kind=kind,
            body=body,
            started_at=started_at,
            saved_at=saved_at,
            late=late,
            reason=reason,
            corrects=corrects,
        )

    def save_draft(
        self, call_id: int, section: Section, kind: NoteKind, body: str, started_at: datetime
    ) -> None:
        """Keep the unsent text of a note field; empty text removes the draft."""
        with self._session() as session:
            self._call_row(session, call_id)
            if not body:
                session.execute(
                    delete(DraftRow).where(
                        col(DraftRow.call_id) == call_id, col(DraftRow.section) == section.value
                    )
                )
            else:
                now = now_utc()
                values = {"kind": kind.value, "body": body, "updated_at": now}
                session.execute(
                    self.upsert(DraftRow)
                    .values(call_id=call_id, section=section.value, started_at=started_at, **values)
                    .on_conflict_do_update(index_elements=["call_id", "section"], set_=values)
                )
            session.commit()

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: "ok" or the first problems it found."""
        with self.reading() as db:
            assert isinstance(db, sqlite3.Connection)  # a check of the file: SQLite's
            return "\n".join(dialect.integrity_check(db))


def check_note(body: str, entered_at: datetime | None) -> None:
    """What every store refuses before a note reaches its database."""
    if not body.strip():
        raise StoreError("An empty note is not saved.")
    if entered_at is not None and (entered_at.tzinfo is None or entered_at.utcoffset() is None):
        raise StoreError("The note's time has no time zone; it was not saved.")


# The hot path's statements, built once: building them per note (and SQLAlchemy's cache
# lookup of values-bearing statements) was most of add_note's CPU beside the commit.
_CALL_STATE = select(col(CallRow.ended_at), col(CallRow.finalized_at)).where(
    col(CallRow.id) == bindparam("call_id")
)
_INSERT_NOTE = insert(NoteRow)
_DROP_DRAFT = delete(DraftRow).where(
    col(DraftRow.call_id) == bindparam("call_id"), col(DraftRow.section) == bindparam("section")
)
# A draft begun after Enter is the next note's text, not this one's: it stays. (Its start, not
# its last write: a draft job queued before Enter may run after it.)
_DROP_OLDER_DRAFT = _DROP_DRAFT.where(col(DraftRow.started_at) <= bindparam("entered_at"))
_INSERT_KEYED_NOTE = insert(NOTE_WITH_KEY)
_NOTE_BY_KEY = select(*[column for column in NOTE_WITH_KEY.c if column.name != "client_key"]).where(
    NOTE_WITH_KEY.c.client_key == bindparam("key")
)
