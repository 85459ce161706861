"""Everything the store does that only SQLite does, behind one module.

The rest of the store talks to a database through DB-API connections and plain SQL (the
`queries` package, `history`) or through SQLAlchemy (the writes in `store`, `records`, ...).
What differs from one database to another is here, so a second database (PostgreSQL) is
a second module with the same names, chosen where the store is opened:

Opening
    prepare(data_dir, path)          check the file before touching it, create it private,
                                     upgrade the schema (taking a backup first): on return
                                     the database is usable at the current schema version
    configure_writer(dbapi)          per-connection settings of a writing connection
    connect_writer(path)             a new DB-API connection for writing
    connect_reader(path)             a DB-API connection that can only read (never creates,
                                     never upgrades, never takes the write lock)
    check_readable(db)               refuse a database the read-only commands cannot read
    tighten_files(path)              the owner-only file modes of the database's files
Transactions
    BEGIN_WRITE / BEGIN_READ         how a write (takes the write lock up front, waits for
                                     another writer) and a read (one snapshot) begin
    BUSY_TIMEOUT_MS                  how long a statement waits for another program's lock
Errors
    is_damage(exc)                   the database met a damaged page or a foreign file
    describe_write(exc, path)        a failed write in words for the user
    describe_read(exc, path)         a failed read in words for the user
Reads across calls (history, stats, packet)
    LIKE_ANY_CASE                    the LIKE that ignores case (SQLite's: ASCII letters)
    INSURER_LIKE                     calls `c` whose insurer is LIKE a pattern (one `?`)
    time_value(moment)               a moment as a parameter compared with time columns
Checks
    needs_full_check(path)           could a full check find something the last session
                                     did not leave checked (an unclean close)
    integrity_check(db)              the database's own verdict on every page: ["ok"] or
                                     the problems
    schema_version(db), schema_objects(db)
                                     what `integrity` compares with the schema p2pcall builds

Specific to SQLite and kept in their own modules, which only this one and the store's
upgrade path use: `schema` (the DDL of each version: tables, record guards as triggers, FTS5
search indexes, the upgrade backup through SQLite's backup API) and `reading` (`mode=ro` and
`immutable` opening). The history search's MATCH queries (`history`) are FTS5 too: a second
database brings its own full-text queries there.

Standard library only: the read-only commands open the database through this module without
loading SQLAlchemy.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from p2pcall.store import reading, schema

BUSY_TIMEOUT_MS = 10_000
BEGIN_WRITE = "BEGIN IMMEDIATE"  # a second writer waits at BEGIN instead of failing mid-way
BEGIN_READ = "BEGIN"  # deferred: a read transaction (one snapshot), never the write lock

_WRITER_PRAGMAS = (
    "journal_mode = WAL",
    "synchronous = FULL",
    "foreign_keys = ON",
    f"busy_timeout = {BUSY_TIMEOUT_MS}",
)

LIKE_ANY_CASE = "LIKE"  # SQLite's LIKE ignores the case of ASCII letters
INSURER_LIKE = (
    "EXISTS (SELECT 1 FROM call_field f WHERE f.call_id = c.id AND f.key = 'insurer' "
    "AND f.value LIKE ? ESCAPE '\\')"
)


def time_value(moment: datetime) -> str:
    """A moment as the stored UTC text it is compared with (text order is time order).
    The year by hand: strftime writes year 999 as "999", which sorts after "2026"."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.%fZ")


# -- opening -------------------------------------------------------------------------------------


def private_file(path: Path) -> None:
    """Create (or tighten) a file as owner-only before SQLite touches it.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def tighten_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.chmod(0o600)


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


def check_before_open(path: Path, *, full: bool) -> None:
    """Refuse a foreign or newer database, and a damaged one, through a read-only connection.

    `quick_check` walks every page; it runs when `full` (see `needs_full_check`) and before
    an upgrade, so damage is reported before a call starts or a backup is taken from it.
    """
    # Without a -wal file the main file is the whole database: `immutable` reads it with
    # no lock and no -shm, so not a byte is created next to a file that may not be ours.
    wal = Path(f"{path}-wal").exists()
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        schema.check_openable(db)
        if not full and schema.version_of(db) == schema.CURRENT_VERSION:
            return
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
    finally:
        db.close()
    if verdict != ["ok"]:
        raise sqlite3.DatabaseError("database disk image is malformed (quick_check)")


def prepare(data_dir: Path, path: Path, stamp: str) -> None:
    """Check, create (owner-only) and upgrade the database at `path` (see the module text).

    Raises schema.SchemaError, sqlite3.DatabaseError or OSError; the store words them.
    """
    if path.exists():
        # A file we must refuse is never opened for writing.
        check_before_open(path, full=needs_full_check(path))
    private_file(path)
    raw = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        schema.check_openable(raw)  # before WAL: a refused file stays byte-identical
        raw.execute("PRAGMA journal_mode = WAL")
        schema.upgrade(raw, data_dir, stamp)
    finally:
        raw.close()


def connect_writer(path: Path) -> sqlite3.Connection:
    """A connection for the writing store (any thread: the store serializes its use)."""
    return sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)


def configure_writer(db: sqlite3.Connection) -> None:
    # No implicit BEGIN: each transaction is begun with BEGIN_WRITE or BEGIN_READ.
    db.isolation_level = None
    for pragma in _WRITER_PRAGMAS:
        db.execute(f"PRAGMA {pragma}")


def connect_reader(path: Path) -> sqlite3.Connection:
    """A connection that can only read `path` (see `reading`); no implicit transactions."""
    return reading.connect(path)


def check_readable(db: sqlite3.Connection) -> None:
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


# -- errors ---------------------------------------------------------------------------------------


def is_damage(exc: BaseException) -> bool:
    """SQLite's word for a damaged file (SQLITE_CORRUPT / SQLITE_NOTADB)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def describe_write(exc: BaseException, path: Path) -> str:
    """A failed statement of the writing store in words for the user (never the note text)."""
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


def describe_read(exc: BaseException, path: Path) -> str:
    return reading.describe(exc, path)


# -- checks ---------------------------------------------------------------------------------------

_MASTER = "SELECT type, name, sql FROM sqlite_master"


def integrity_check(db: sqlite3.Connection) -> list[str]:
    return [str(row[0]) for row in db.execute("PRAGMA integrity_check")]


def schema_version(db: sqlite3.Connection) -> int:
    return schema.version_of(db)


def schema_objects(db: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
    """(type, name, CREATE statement) of every object in the database's schema."""
    return [(row[0], row[1], row[2]) for row in db.execute(_MASTER)]
