"""Schema versions (PRAGMA user_version) and the ordered steps that reach the current one.

Each step is plain DDL, never `create_all`, so an old database is upgraded exactly as it
was shipped. A copy of the database is taken before any upgrade of existing data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

Step = Callable[[sqlite3.Connection], None]


def _run(db: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would COMMIT first and break the rollback.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE call (
            id INTEGER PRIMARY KEY,
            created_at VARCHAR(27) NOT NULL,
            tz VARCHAR NOT NULL,
            started_at VARCHAR(27),
            ended_at VARCHAR(27),
            outcome VARCHAR
        );
        CREATE TABLE call_field (
            call_id INTEGER NOT NULL REFERENCES call(id),
            key VARCHAR NOT NULL,
            value VARCHAR NOT NULL DEFAULT '',
            declined BOOLEAN NOT NULL DEFAULT 0,
            updated_at VARCHAR(27) NOT NULL,
            late BOOLEAN NOT NULL DEFAULT 0,
            PRIMARY KEY (call_id, key)
        );
        CREATE TABLE field_edit (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES call(id),
            key VARCHAR NOT NULL,
            value VARCHAR NOT NULL DEFAULT '',
            declined BOOLEAN NOT NULL DEFAULT 0,
            edited_at VARCHAR(27) NOT NULL,
            late BOOLEAN NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_field_edit_call ON field_edit (call_id, key, id);
        CREATE TABLE note (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES call(id),
            section VARCHAR(1) NOT NULL,
            kind VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            started_at VARCHAR(27) NOT NULL,
            saved_at VARCHAR(27) NOT NULL,
            late BOOLEAN NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_note_call ON note (call_id, saved_at);
        CREATE TABLE draft (
            call_id INTEGER NOT NULL REFERENCES call(id),
            section VARCHAR(1) NOT NULL,
            kind VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            started_at VARCHAR(27) NOT NULL,
            updated_at VARCHAR(27) NOT NULL,
            PRIMARY KEY (call_id, section)
        );
        CREATE INDEX ix_call_open ON call (ended_at, created_at);
        """,
    )


STEPS: tuple[Step, ...] = (_v1,)
CURRENT_VERSION = len(STEPS)


class SchemaError(Exception):
    """The database cannot be brought to the current schema; it was left as it was."""


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def backup(db: sqlite3.Connection, target: Path) -> Path:
    """A consistent copy of the live database (SQLite backup API), owner-only."""
    target.touch(mode=0o600, exist_ok=False)
    with sqlite3.connect(target) as copy:
        db.backup(copy)
        ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
    copy.close()
    if ok != "ok":
        raise SchemaError(f"the backup {target} failed its integrity check")
    return target


def check_openable(db: sqlite3.Connection) -> None:
    """Refuse, without writing, a database this version must not touch."""
    found = version_of(db)
    if found > CURRENT_VERSION:
        raise SchemaError(
            f"this database was written by a newer p2pcall (schema {found}, this one knows "
            f"{CURRENT_VERSION}); upgrade p2pcall rather than opening it with this version"
        )
    if found == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise SchemaError("this is an SQLite database of another program, not a p2pcall one")


def upgrade(db: sqlite3.Connection, backup_dir: Path, stamp: str) -> int:
    """Bring the database to CURRENT_VERSION; returns the version it had.

    Runs every pending step in one transaction: a failure rolls all of them back.
    """
    check_openable(db)
    found = version_of(db)
    if found == CURRENT_VERSION:
        return found
    if found > 0:
        backup(db, backup_dir / f"p2pcall-before-v{CURRENT_VERSION}-{stamp}.sqlite3")
    try:
        db.execute("BEGIN IMMEDIATE")
        for step in STEPS[found:]:
            step(db)
        db.execute(f"PRAGMA user_version = {CURRENT_VERSION}")
        db.execute("COMMIT")
    except Exception as exc:
        db.execute("ROLLBACK")
        raise SchemaError(
            f"upgrading the database from schema {found} failed ({type(exc).__name__}); "
            "it was left unchanged"
        ) from exc
    return found
