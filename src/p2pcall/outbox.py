"""The local outbox: notes kept on this computer until the database has them.

A note goes into the outbox the moment Enter is pressed and leaves it once the database
has committed it. If the database cannot be written (a lock, a read-only file, a server
out of reach) or the app is killed first, the note is still here; it is sent again, in
typing order, with the same idempotency key, so the database keeps it exactly once.

One small SQLite file, `outbox.sqlite3` in the data folder, created owner-only (0600),
with `synchronous = FULL` (a note is on the disk when `put` returns). Standard library and
the domain only: no Textual, no SQLAlchemy. Thread-safe: one connection behind a lock, as
the outbox writer thread puts and removes while the database thread reads.

Fails closed: a file that cannot be read, or holds a row p2pcall never writes, is an
`OutboxError`, never "the outbox is empty". Errors name the file, never a note's text.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind

OUTBOX_NAME = "outbox.sqlite3"
BUSY_TIMEOUT_S = 5
_VERSION = 1

_SCHEMA = """
    CREATE TABLE IF NOT EXISTS outbox_note (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        call_id INTEGER NOT NULL,
        section TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        started_at TEXT NOT NULL,
        entered_at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT ''
    )
"""
_COLUMNS = "seq, key, call_id, section, kind, body, started_at, entered_at, reason, last_error"


class OutboxError(Exception):
    """The outbox cannot be used; one line that says why and what to do (no note text)."""


@dataclass(frozen=True)
class OutboxNote:
    """A note as typed, with the key the database knows it by once committed."""

    key: str  # uuid4 text: the idempotency key
    call_id: int
    section: Section
    kind: NoteKind
    body: str
    started_at: datetime
    entered_at: datetime  # the moment Enter was pressed (aware)
    reason: str = ""
    seq: int = 0  # typing order across every call; 0 until the outbox has it
    last_error: str = ""


def outbox_path(data_dir: Path) -> Path:
    return data_dir / OUTBOX_NAME


def outbox_problem(path: Path) -> str | None:
    """Why `path` cannot be the outbox (a link, folder, FIFO, device), or None."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"The outbox {path} cannot be looked at ({_reason(exc)})."
    if stat.S_ISLNK(info.st_mode):
        return (
            f"The outbox {path} is a symbolic link: p2pcall keeps unsent notes only in a "
            "file of its own. Move it aside."
        )
    if stat.S_ISDIR(info.st_mode):
        return f"The outbox {path} is a folder, not a file: move it aside."
    if not stat.S_ISREG(info.st_mode):
        return f"The outbox {path} is not a regular file (a device, FIFO or socket): move it aside."
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"The outbox {path} belongs to another user (uid {info.st_uid}): move it aside."
    return None


class Outbox:
    """The outbox file, open. Use `Outbox.open`; every method may raise OutboxError."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: Path, *, create: bool = True) -> Outbox | None:
        """The outbox of `data_dir`, created 0600 when missing and `create` (else None).

        `create=False` reads only: `p2pcall check` looks without making anything.
        """
        path = outbox_path(data_dir)
        problem = outbox_problem(path)
        if problem is not None:
            raise OutboxError(problem)
        if not create and (not path.exists() or path.stat().st_size == 0):
            return None  # nothing kept (an empty file: killed before its table was made)
        try:
            if create:
                _private_file(path)
                db = sqlite3.connect(
                    path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False
                )
            else:
                db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    timeout=BUSY_TIMEOUT_S,
                    check_same_thread=False,
                )
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(_describe(exc, path)) from None
        try:
            _prepare(db, path, create=create)
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, note: OutboxNote) -> None:
        """Keep `note` (on the disk when this returns); a key already here is kept once."""
        from p2pcall.store.timetext import to_text

        values = (
            note.key,
            note.call_id,
            note.section.value,
            note.kind.value,
            note.body,
            to_text(note.started_at),
            to_text(note.entered_at),
            note.reason,
        )
        self._write(
            "INSERT INTO outbox_note "
            "(key, call_id, section, kind, body, started_at, entered_at, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            values,
        )

    def remove(self, key: str) -> None:
        """The database has the note: forget it here."""
        self._write("DELETE FROM outbox_note WHERE key = ?", (key,))

    def note_error(self, key: str, error: str) -> None:
        """Why the last try to send it failed (words for the user, never the note)."""
        self._write("UPDATE outbox_note SET last_error = ? WHERE key = ?", (error[:500], key))

    def pending(self) -> list[OutboxNote]:
        """Every note kept, in typing order."""
        rows = self._read(f"SELECT {_COLUMNS} FROM outbox_note ORDER BY seq")
        try:
            return [_note_of(row) for row in rows]
        except (ValueError, TypeError, KeyError):
            raise OutboxError(
                f"The outbox {self.path} holds a row p2pcall never writes: nothing was sent "
                "or removed. Keep the file and move it aside to start without it."
            ) from None

    def count(self) -> int:
        return int(self._read("SELECT count(*) FROM outbox_note")[0][0])

    def _write(self, sql: str, values: tuple[object, ...]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute(sql, values)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                raise OutboxError(_describe(exc, self.path)) from None

    def _read(self, sql: str) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql).fetchall()
            except (sqlite3.Error, OSError) as exc:
                raise OutboxError(_describe(exc, self.path)) from None


def _private_file(path: Path) -> None:
    """Create the file owner-only, never through a link, before SQLite opens it."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode is masked by the umask; an old file tightened
    finally:
        os.close(fd)


def _prepare(db: sqlite3.Connection, path: Path, *, create: bool) -> None:
    """Settings, a walk of every page, and the table (created in a new file)."""
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
        if verdict != ["ok"]:
            raise sqlite3.DatabaseError("database disk image is malformed (quick_check)")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if version == 0 and not tables and create:
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute("BEGIN IMMEDIATE")
            db.execute(_SCHEMA)
            db.execute(f"PRAGMA user_version = {_VERSION}")
            db.execute("COMMIT")
        elif version != _VERSION or "outbox_note" not in tables:
            raise OutboxError(
                f"The outbox {path} is not a p2pcall outbox this version knows (version "
                f"{version}): it was left as it is. Move it aside to start without it."
            )
        if create:
            db.execute("PRAGMA synchronous = FULL")
            db.execute(f"SELECT {_COLUMNS} FROM outbox_note LIMIT 0")
    except sqlite3.Error as exc:
        raise OutboxError(_describe(exc, path)) from None


def _note_of(row: tuple[Any, ...]) -> OutboxNote:
    from p2pcall.store.timetext import from_text

    seq, key, call_id, section, kind, body, started, entered, reason, error = row
    if not all(isinstance(value, str) for value in (key, body, started, entered, reason, error)):
        raise TypeError("a text column holds something else")
    if not isinstance(seq, int) or not isinstance(call_id, int):
        raise TypeError("a number column holds something else")
    return OutboxNote(
        key=str(key),
        call_id=call_id,
        section=Section(section),
        kind=NoteKind(kind),
        body=str(body),
        started_at=from_text(str(started)),
        entered_at=from_text(str(entered)),
        reason=str(reason),
        seq=seq,
        last_error=str(error),
    )


def _describe(exc: BaseException, path: Path) -> str:
    """A failed outbox operation in words (the file, never a note)."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The outbox {path} is damaged or is not a p2pcall outbox: nothing in it was sent "
            "or removed. Keep the file (it may hold unsent notes) and move it aside to start "
            "without it."
        )
    if "locked" in text or "busy" in text:
        return f"The outbox {path} was locked by another program for {BUSY_TIMEOUT_S} seconds."
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"The outbox {path} cannot be written (read-only file, folder or disk)."
    if "disk is full" in text or "full" in text:
        return f"The outbox {path} cannot be written: the disk is full."
    if isinstance(exc, OSError):
        return f"The outbox {path} cannot be used ({_reason(exc)})."
    return f"The outbox {path} could not be used ({type(exc).__name__})."


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()
