"""Queries and writes, synchronous: the TUI calls these from its database thread only."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, delete, event, func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col

from p2pcall.domain.fields import FIELDS_BY_KEY
from p2pcall.domain.models import Call, CallRecord, CallSummary, Draft, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.paths import DataDirError, database_path, ensure_private_dir
from p2pcall.store import reading, schema
from p2pcall.store.followups import FollowUpsMixin, followups_of_call
from p2pcall.store.letters import LettersMixin
from p2pcall.store.records import RecordsMixin
from p2pcall.store.reviewers import ReviewersMixin
from p2pcall.store.tables import CallRow, DraftRow, FieldEditRow, FieldRow, NoteRow

BUSY_TIMEOUT_MS = 10_000
ADDENDUM_NEEDS_REASON = (
    "This call is finalized: a note added now is an addendum and needs a reason."
)


class StoreError(Exception):
    """A problem the user must be told about, in words they can act on."""


class DatabaseError(StoreError):
    """The database file is damaged, not a database, or cannot be opened."""


class DamagedError(DatabaseError):
    """SQLite met a damaged page: nothing more should be written to this file."""


class NoSuchCallError(StoreError):
    """The call number asked for is not in the database."""


def _private_file(path: Path) -> None:
    """Create (or tighten) a file as owner-only before SQLite touches it.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def needs_full_check(path: Path) -> bool:
    """Could a full page walk find something the last session did not leave checked?

    A `-wal` file next to the database outlives a session only when it did not close
    cleanly (a crash, kill -9, a power cut; SQLite removes it when the last connection
    closes) or while another p2pcall has the file open. After a clean close the file is as the
    last session left it, and walking every page (about 0.9 s at 50,000 calls) on every start
    would find nothing; damage that appears later is met by SQLite itself on the first read
    of a damaged page (the app then stops using the file) and by `p2pcall check`.
    """
    return Path(f"{path}-wal").exists()


def _check_read_only(path: Path, *, full: bool) -> None:
    """Refuse a foreign or newer database, and a damaged one, through a read-only connection.

    `quick_check` walks every page; it runs when `full` (see `needs_full_check`) and before
    an upgrade, so damage is reported before a call starts or a backup is taken from it.
    """
    # Without a -wal file the main file is the whole database: `immutable` reads it with
    # no lock and no -shm, so not a byte is created next to a file that may not be ours.
    wal = Path(f"{path}-wal").exists()
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)  # the wait _describe states
    try:
        schema.check_openable(db)
        if not full and schema.version_of(db) == schema.CURRENT_VERSION:
            return
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
    finally:
        db.close()
    if verdict != ["ok"]:
        raise sqlite3.DatabaseError("database disk image is malformed (quick_check)")


def is_damage(exc: BaseException) -> bool:
    """SQLite's word for a damaged file (SQLITE_CORRUPT / SQLITE_NOTADB)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue the BEGIN, so writes can take the lock up front.
    dbapi_connection.isolation_level = None
    for pragma in (
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
        f"busy_timeout = {BUSY_TIMEOUT_MS}",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _on_begin(connection: object) -> None:
    # IMMEDIATE: a second writer waits at BEGIN (busy_timeout) instead of failing mid-way.
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


def _describe(exc: BaseException, path: Path) -> str:
    message = str(getattr(exc, "orig", exc))
    if message.startswith(schema.RECORD_GUARD):  # a record trigger refused: says why, no PHI
        reason = message[len(schema.RECORD_GUARD) :]
        return reason[:1].upper() + reason[1:] + "."
    text = message.lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The database file {path} is damaged or is not a p2pcall database. Nothing was "
            "changed. Move it aside (keep it: it may be recoverable) and start p2pcall again, "
            "or point --data-dir at another folder."
        )
    if "locked" in text or "busy" in text:
        return (
            f"The database {path} is busy in another program for more than "
            f"{BUSY_TIMEOUT_MS // 1000} seconds. Close other p2pcall windows and try again."
        )
    if (
        "readonly" in text
        or "read-only" in text
        or "permission" in text
        or "unable to open" in text
    ):
        return (
            f"The database {path} cannot be written: the file or its folder is read-only "
            "(permissions, or a disk mounted read-only). What you typed stays on screen; "
            "fix the permissions or start p2pcall with --data-dir pointing at a folder of yours."
        )
    if "full" in text:
        return (
            f"The disk holding {path} is full: nothing more can be saved until you free some "
            "space. What you typed stays on screen and is saved once there is room."
        )
    if "disk i/o error" in text or "i/o" in text:
        return (
            f"Writing to {path} failed (disk I/O error: the disk may be full, removed or "
            "failing). What you typed stays on screen and saving is retried."
        )
    return f"The database {path} could not be used ({type(exc).__name__})."


def _on_connect_read_only(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None  # the "begin" event issues a plain BEGIN


def _on_begin_read(connection: object) -> None:
    # A deferred BEGIN: a read transaction (one snapshot), never the write lock.
    connection.exec_driver_sql("BEGIN")  # type: ignore[attr-defined]


def _check_readable(db: sqlite3.Connection) -> None:
    """Refuse, on a read-only connection, a database the read-only commands cannot read."""
    schema.check_openable(db)
    found = schema.version_of(db)
    if found == 0:  # an empty file: SQLite reads it as an empty database
        raise schema.SchemaError("the file is empty: there are no records in it")
    if found < schema.CURRENT_VERSION:
        raise schema.SchemaError(
            f"this database is from an older p2pcall (schema {found}; this one reads "
            f"{schema.CURRENT_VERSION}) and commands that only read never upgrade it: open it "
            "once with the app (`p2pcall`, which keeps a backup first), or, for a copy you "
            "may not change, open a copy of it"
        )
    # No page walk here: a reader changes nothing, and a damaged page it meets is reported
    # by SQLite ("malformed") as the command's one-line error. `p2pcall check` walks them all.


def _engine_on(connect: Callable[[], sqlite3.Connection]) -> Engine:
    """An engine whose connections come from `connect`, never from a URL built from the path.

    In a URL, a `?` or `#` in the folder's name starts the query: "sqlite:////tmp/a?b/x"
    would open (and create, world-readable) /tmp/a. The URL only picks the dialect here;
    the pool is the one SQLAlchemy gives a database file.
    """
    return create_engine("sqlite://", creator=connect, poolclass=QueuePool)


class Store(RecordsMixin, FollowUpsMixin, LettersMixin, ReviewersMixin):
    def __init__(self, engine: Engine, path: Path, *, read_only: bool = False) -> None:
        self.engine = engine
        self.path = path
        self.read_only = read_only

    def describe(self, exc: BaseException) -> str:
        """A failed query in words for the user: a reader is not told about unsaved typing."""
        if self.read_only:
            return reading.describe(exc, self.path)
        return _describe(exc, self.path)

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
            if path.exists():
                # A file we must refuse is never opened for writing.
                _check_read_only(path, full=needs_full_check(path))
            _private_file(path)
            raw = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                schema.check_openable(raw)  # before WAL: a refused file stays byte-identical
                raw.execute("PRAGMA journal_mode = WAL")
                schema.upgrade(raw, data_dir, now_utc().strftime("%Y%m%dT%H%M%SZ"))
            finally:
                raw.close()
        except schema.SchemaError as exc:
            raise DatabaseError(f"{path}: {exc}.") from None
        except (sqlite3.DatabaseError, OSError) as exc:
            raise DatabaseError(_describe(exc, path)) from None
        engine = _engine_on(
            lambda: sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        store = cls(engine, path)
        store._tighten_files()
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
            db = reading.connect(path)
            try:
                _check_readable(db)
            finally:
                db.close()
        except schema.SchemaError as exc:
            raise DatabaseError(f"{path}: {exc}.") from None
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(reading.describe(exc, path)) from None
        engine = _engine_on(lambda: reading.connect(path))
        event.listen(engine, "connect", _on_connect_read_only)
        event.listen(engine, "begin", _on_begin_read)
        return cls(engine, path, read_only=True)

    def close(self) -> None:
        self.engine.dispose()

    def _tighten_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                candidate.chmod(0o600)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except (OperationalError, SADatabaseError) as exc:
            if is_damage(exc):
                raise DamagedError(self.describe(exc)) from None
            raise StoreError(self.describe(exc)) from None

    # -- calls ---------------------------------------------------------------------------

    def start_call(self, tz: str) -> Call:
        now = now_utc()
        with self._session() as session:
            row = CallRow(created_at=now, started_at=now, tz=tz)
            session.add(row)
            session.commit()
            return _call(row, [])

    def prepare_call(self, tz: str) -> Call:
        """A call prepared ahead: created now, not connected (its clock starts at connect)."""
        now = now_utc()
        with self._session() as session:
            row = CallRow(created_at=now, started_at=None, tz=tz)
            session.add(row)
            session.commit()
            return _call(row, [])

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
            fields = session.scalars(select(FieldRow).where(FieldRow.call_id == call_id)).all()
            return _call(row, list(fields))

    def end_call(self, call_id: int, outcome: Outcome) -> Call:
        with self._session() as session:
            row = self._call_row(session, call_id)
            if row.ended_at is None:
                row.ended_at = now_utc()
            row.outcome = outcome.value
            session.add(row)
            session.commit()
            fields = session.scalars(select(FieldRow).where(FieldRow.call_id == call_id)).all()
            return _call(row, list(fields))

    def load_call(self, call_id: int) -> CallRecord:
        with self._session() as session:
            row = self._call_row(session, call_id)
            fields = session.scalars(select(FieldRow).where(FieldRow.call_id == call_id)).all()
            # Columns, not ORM objects: a long call's notes are read on every resume, and
            # building (and tracking) an entity per note took most of the time.
            notes = session.execute(
                select(*_NOTE_COLUMNS)
                .where(NoteRow.call_id == call_id)
                .order_by(col(NoteRow.saved_at), col(NoteRow.id))
            ).all()
            drafts = session.scalars(select(DraftRow).where(DraftRow.call_id == call_id)).all()
            return CallRecord(
                call=_call(row, list(fields)),
                notes=[_note(n) for n in notes],
                drafts=[_draft(d) for d in drafts],
                followups=followups_of_call(session, call_id),
            )

    def _call_row(self, session: Session, call_id: int) -> CallRow:
        if not 0 < call_id < 2**63:  # SQLite cannot even be asked (OverflowError): none such
            raise StoreError(f"There is no call number {call_id}.")
        row = session.get(CallRow, call_id)
        if row is None:
            raise NoSuchCallError(f"There is no call number {call_id}.")
        return row

    def unfinished_calls(self) -> list[CallSummary]:
        return self._summaries(unfinished=True, limit=50)

    def recent_calls(self, limit: int = 20) -> list[CallSummary]:
        return self._summaries(unfinished=False, limit=limit)

    def _summaries(self, *, unfinished: bool, limit: int) -> list[CallSummary]:
        def field(key: str):
            return (
                select(FieldRow.value)
                .where(FieldRow.call_id == CallRow.id, FieldRow.key == key)
                .scalar_subquery()
            )

        notes = (
            select(func.count(col(NoteRow.id)))
            .where(NoteRow.call_id == CallRow.id)
            .scalar_subquery()
        )
        query = select(CallRow, field("patient_ref"), field("insurer"), field("review_type"), notes)
        if unfinished:
            query = query.where(col(CallRow.ended_at).is_(None))
        else:
            query = query.where(col(CallRow.ended_at).is_not(None))
        query = query.order_by(col(CallRow.created_at).desc(), col(CallRow.id).desc()).limit(limit)
        with self._session() as session:
            return [
                CallSummary(
                    id=row.id or 0,
                    created_at=row.created_at,
                    started_at=row.started_at,
                    ended_at=row.ended_at,
                    outcome=Outcome.parse(row.outcome),
                    patient_ref=patient or "",
                    insurer=insurer or "",
                    review_type=review or "",
                    note_count=count or 0,
                    finalized=row.finalized_at is not None,
                )
                for row, patient, insurer, review, count in session.exec(query).all()
            ]

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
            upsert = sqlite_insert(FieldRow).values(
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
                    .where(FieldEditRow.call_id == call_id, FieldEditRow.key == key)
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

    def field_history(self, call_id: int, key: str) -> list[tuple[str, bool, datetime, bool]]:
        with self._session() as session:
            rows = session.scalars(
                select(FieldEditRow)
                .where(FieldEditRow.call_id == call_id, FieldEditRow.key == key)
                .order_by(col(FieldEditRow.id))
            ).all()
            return [(r.value, r.declined, r.edited_at, r.late) for r in rows]

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
    ) -> Note:
        """Commit a note and drop its section's draft in the same transaction.

        After finalizing, a note is an addendum and `reason` is required (the database
        refuses one without). Core statements rather than the ORM: this is the hot path.
        """
        if not body.strip():
            raise StoreError("An empty note is not saved.")
        try:
            with self.engine.begin() as conn:
                ended = conn.execute(_CALL_STATE, {"call_id": call_id}).one_or_none()
                if ended is None:
                    raise StoreError(f"There is no call number {call_id}.")
                if ended[1] is not None and not reason.strip():
                    raise StoreError(ADDENDUM_NEEDS_REASON)
                values = {
                    "call_id": call_id,
                    "section": section.value,
                    "kind": kind.value,
                    "body": body,
                    "started_at": started_at,
                    "saved_at": now_utc(),
                    "late": ended[0] is not None,
                    "reason": reason.strip(),
                    "corrects_id": corrects,
                }
                note_id = conn.execute(_INSERT_NOTE, values).inserted_primary_key[0]
                conn.execute(_DROP_DRAFT, {"call_id": call_id, "section": section.value})
        except (OperationalError, SADatabaseError) as exc:
            if is_damage(exc):
                raise DamagedError(self.describe(exc)) from None
            raise StoreError(self.describe(exc)) from None
        values["corrects"] = values.pop("corrects_id")
        return Note(id=note_id, **{**values, "section": section, "kind": kind})

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
                    sqlite_insert(DraftRow)
                    .values(call_id=call_id, section=section.value, started_at=started_at, **values)
                    .on_conflict_do_update(index_elements=["call_id", "section"], set_=values)
                )
            session.commit()

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: "ok" or the first problems it found."""
        with self.engine.connect() as conn:
            return "\n".join(row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check"))


# -- row -> domain -------------------------------------------------------------------------


def _call(row: CallRow, fields: list[FieldRow]) -> Call:
    return Call(
        id=row.id or 0,
        created_at=row.created_at,
        tz=row.tz,
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=Outcome.parse(row.outcome),
        values={f.key: f.value for f in fields if f.value},
        declined={f.key for f in fields if f.declined},
        finalized_at=row.finalized_at,
        chain_head=row.chain_head,
    )


# The hot path's statements, built once: building them per note (and SQLAlchemy's cache
# lookup of values-bearing statements) was most of add_note's CPU beside the commit.
_CALL_STATE = select(CallRow.ended_at, CallRow.finalized_at).where(
    CallRow.id == bindparam("call_id")
)
_INSERT_NOTE = insert(NoteRow)
_DROP_DRAFT = delete(DraftRow).where(
    col(DraftRow.call_id) == bindparam("call_id"), col(DraftRow.section) == bindparam("section")
)

_NOTE_COLUMNS = (
    NoteRow.id,
    NoteRow.call_id,
    NoteRow.section,
    NoteRow.kind,
    NoteRow.body,
    NoteRow.started_at,
    NoteRow.saved_at,
    NoteRow.late,
    NoteRow.reason,
    NoteRow.corrects_id,
)


def _note(row: Any) -> Note:
    """A saved note from its NoteRow, or from a row of _NOTE_COLUMNS (same attribute names)."""
    return Note(
        id=row.id or 0,
        call_id=row.call_id,
        section=Section(row.section),
        kind=NoteKind(row.kind),
        body=row.body,
        started_at=row.started_at,
        saved_at=row.saved_at,
        late=row.late,
        reason=row.reason,
        corrects=row.corrects_id,
    )


def _draft(row: DraftRow) -> Draft:
    return Draft(
        call_id=row.call_id,
        section=Section(row.section),
        kind=NoteKind(row.kind),
        body=row.body,
        started_at=row.started_at,
        updated_at=row.updated_at,
    )
