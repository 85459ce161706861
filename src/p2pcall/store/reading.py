"""Opening the database only to read it: the one place that decides how.

The read-only commands (`list`, `due`, `show`, `export`, `letter`, `verify`) never write,
so they never take the write lock, never upgrade the schema, never write a backup and
never create the data folder. They must work on an archived copy nobody may write to
(a read-only mount, a 0400 file, a 0500 folder) and while the app is saving.

Plain `sqlite3` only, nothing from SQLAlchemy: a reader that does not need the ORM can
call `connect()` directly.

`immutable=1` (no locks, no -shm, the -wal ignored) is used only when no writer can change
the file while it is read: on a read-only mount, or when the file or its folder has no
write permission for anyone and no -wal file exists (an open writer keeps one; a -wal left
by a killed app holds committed notes that `immutable` would not see). Anywhere else a
writer may be at work, and `immutable` would read pages half-way through a checkpoint:
there the connection is a normal read-only one (`mode=ro`) that takes a read lock and
sees the last commit. Root is not counted as a writer: root can change any file anyway.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from p2pcall.paths import database_path

BUSY_TIMEOUT_S = 10  # how long a read waits for another program's lock (rare in WAL mode)

_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class ReadError(Exception):
    """The database cannot be read; one line that says why and what to do."""


def database_to_read(data_dir: Path) -> Path | None:
    """The database file in `data_dir`, None when there is none yet.

    ReadError when what is there is not a regular file (a folder, a device, a FIFO) or
    cannot be looked at. Nothing is created.
    """
    path = database_path(data_dir)
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise ReadError(f"The data directory {data_dir} is not a folder.") from None
    except OSError as exc:
        raise ReadError(f"The database {path} cannot be read ({_reason(exc)}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(
            f"{path} is a folder, not a database file: move it aside, or point --data-dir "
            "at the folder that holds your p2pcall.sqlite3."
        )
    if not stat.S_ISREG(info.st_mode):
        raise ReadError(f"{path} is not a regular file (a device, FIFO or socket).")
    return path


def cannot_change(path: Path) -> bool:
    """True when no writer can change the database while it is read (see the module text)."""
    if os.path.lexists(f"{path}-wal"):
        return False
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
        file_mode = path.stat().st_mode
        folder_mode = path.resolve().parent.stat().st_mode
    except OSError:
        return False
    # A SQLite writer needs the file open for writing and, to commit, a -wal or -journal
    # file created in the folder: without either permission nobody but root can write.
    return not file_mode & _ANY_WRITE or not folder_mode & _ANY_WRITE


def read_only_uri(path: Path) -> str:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return uri + "&immutable=1" if cannot_change(path) else uri


def connect(path: Path) -> sqlite3.Connection:
    """A connection that can only read `path`; statements begin no transaction by themselves."""
    db = sqlite3.connect(
        read_only_uri(path),
        uri=True,
        isolation_level=None,
        timeout=BUSY_TIMEOUT_S,
        check_same_thread=False,
    )
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        db.execute("PRAGMA query_only = ON")  # a second lock on the door: no write, ever
    except BaseException:
        db.close()
        raise
    return db


def describe(exc: BaseException, path: Path) -> str:
    """One line about a failed read, in words for the user (never the note text)."""
    message = str(getattr(exc, "orig", exc))
    text = message.lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The database file {path} is damaged or is not a p2pcall database. Nothing was "
            "changed. Keep the file: it may be recoverable."
        )
    if "locked" in text or "busy" in text:
        return (
            f"The database {path} was locked by another program for {BUSY_TIMEOUT_S} seconds "
            "(waiting for it to finish): try again in a moment."
        )
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        hint = ""
        if os.path.lexists(f"{path}-wal") and not os.path.lexists(f"{path}-shm"):
            hint = (
                ": it has a -wal file (notes not yet merged into the main file) that can "
                "only be read where a -shm file can be created; copy the whole folder to "
                "a place of yours and read the copy"
            )
        return f"The database {path} cannot be opened for reading{hint}."
    if isinstance(exc, OSError):
        return f"The database {path} cannot be read ({_reason(exc)})."
    if "i/o" in text:
        return f"Reading {path} failed (disk I/O error: the disk may be removed or failing)."
    return f"The database {path} could not be read ({type(exc).__name__})."


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()
