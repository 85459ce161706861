"""Schema versions (PRAGMA user_version) and the ordered steps that reach the current one.

Each step is plain DDL, never `create_all`, so an old database is upgraded exactly as it
was shipped. A copy of the database is taken before any upgrade of existing data.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

Step = Callable[[sqlite3.Connection], None]


def _run(db: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would COMMIT first and break the rollback.
    # complete_statement() keeps a trigger's BEGIN ... ; ... END together.
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                db.execute(pending)
            pending = ""
    if pending.strip(" \n;"):
        raise ValueError("incomplete SQL statement in a schema step")


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


def _v2(db: sqlite3.Connection) -> None:
    _v2_records(db)
    _v2_followups(db)
    _v2_search(db)


def _v2_records(db: sqlite3.Connection) -> None:
    """Finalizing, addenda and corrections (the record as evidence)."""
    _run(
        db,
        """
        ALTER TABLE call ADD COLUMN finalized_at VARCHAR(27);
        ALTER TABLE call ADD COLUMN chain_head VARCHAR(64);
        ALTER TABLE note ADD COLUMN reason VARCHAR NOT NULL DEFAULT '';
        ALTER TABLE note ADD COLUMN corrects_id INTEGER REFERENCES note(id);
        """,
    )
    _run(db, RECORD_TRIGGERS)


# Messages start with RECORD_GUARD so the store can pass them on to the user as they are.
RECORD_GUARD = "p2pcall record: "


def _refuse(message: str) -> str:
    quoted = (RECORD_GUARD + message).replace("'", "''")
    return f"SELECT RAISE(ABORT, '{quoted}')"


def _finalized(row: str) -> str:
    return f"(SELECT finalized_at FROM call WHERE id = {row}.call_id)"


_CORRECT_INSTEAD = "save a correction instead"
_FIELDS_FIXED = "this call is finalized: its fields cannot be changed; add an addendum"

# The database itself keeps the record: notes are append-only (a correction is a new row), and
# after finalizing nothing of the call, its fields or their history changes. The only thing
# added later is an addendum: a late note with a reason, saved after the finalize stamp.
RECORD_TRIGGERS = f"""
    CREATE TRIGGER record_note_no_update BEFORE UPDATE ON note BEGIN
        {_refuse("a saved note is never changed; " + _CORRECT_INSTEAD)};
    END;
    CREATE TRIGGER record_note_no_delete BEFORE DELETE ON note BEGIN
        {_refuse("a saved note is never deleted; " + _CORRECT_INSTEAD)};
    END;
    CREATE TRIGGER record_note_corrects_same_call BEFORE INSERT ON note
    WHEN new.corrects_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM note WHERE id = new.corrects_id AND call_id = new.call_id
    ) BEGIN
        {_refuse("a correction must correct a note of the same call")};
    END;
    CREATE TRIGGER record_note_after_finalize BEFORE INSERT ON note
    WHEN {_finalized("new")} IS NOT NULL BEGIN
        {_refuse("this call is finalized: corrections are refused; add an addendum with a reason")}
        WHERE new.corrects_id IS NOT NULL;
        {_refuse("this call is finalized: a note added now is an addendum and needs a reason")}
        WHERE new.late = 0 OR trim(new.reason, char(32, 9, 10, 13)) = '';
        {_refuse("an addendum must be saved after the finalize time; check the clock")}
        WHERE new.saved_at <= {_finalized("new")};
    END;
    CREATE TRIGGER record_call_finalize BEFORE UPDATE OF finalized_at, chain_head ON call
    WHEN old.finalized_at IS NULL AND new.finalized_at IS NOT NULL BEGIN
        {_refuse("only an ended call can be finalized")}
        WHERE new.ended_at IS NULL;
        {_refuse("a finalized call needs its chain head")}
        WHERE new.chain_head IS NULL OR length(new.chain_head) != 64;
    END;
    CREATE TRIGGER record_call_no_update
    BEFORE UPDATE OF id, created_at, tz, started_at, ended_at, outcome, finalized_at, chain_head
    ON call WHEN old.finalized_at IS NOT NULL BEGIN
        {_refuse("this call is finalized and cannot be changed")};
    END;
    CREATE TRIGGER record_call_no_delete BEFORE DELETE ON call
    WHEN old.finalized_at IS NOT NULL BEGIN
        {_refuse("a finalized call is never deleted")};
    END;
    CREATE TRIGGER record_field_no_insert BEFORE INSERT ON call_field
    WHEN {_finalized("new")} IS NOT NULL BEGIN
        {_refuse(_FIELDS_FIXED)};
    END;
    CREATE TRIGGER record_field_no_update BEFORE UPDATE ON call_field
    WHEN {_finalized("old")} IS NOT NULL OR {_finalized("new")} IS NOT NULL BEGIN
        {_refuse(_FIELDS_FIXED)};
    END;
    CREATE TRIGGER record_field_no_delete BEFORE DELETE ON call_field
    WHEN {_finalized("old")} IS NOT NULL BEGIN
        {_refuse(_FIELDS_FIXED)};
    END;
    CREATE TRIGGER record_field_edit_no_insert BEFORE INSERT ON field_edit
    WHEN {_finalized("new")} IS NOT NULL BEGIN
        {_refuse(_FIELDS_FIXED)};
    END;
    CREATE TRIGGER record_field_edit_no_update BEFORE UPDATE ON field_edit BEGIN
        {_refuse("the history of a field is never changed")};
    END;
    CREATE TRIGGER record_field_edit_no_delete BEFORE DELETE ON field_edit BEGIN
        {_refuse("the history of a field is never deleted")};
    END;
"""


def _v2_followups(db: sqlite3.Connection) -> None:
    """What is to be done after a call, and by when."""
    _run(
        db,
        """
        CREATE TABLE followup (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES call(id),
            action VARCHAR NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'planned',
            created_at VARCHAR(27) NOT NULL,
            rule_id VARCHAR,
            computed_due VARCHAR(27),
            due_override VARCHAR(27),
            override_reason VARCHAR NOT NULL DEFAULT '',
            done_at VARCHAR(27),
            note VARCHAR NOT NULL DEFAULT ''
        );
        CREATE INDEX ix_followup_call ON followup (call_id, id);
        CREATE INDEX ix_followup_due ON followup (status, coalesce(due_override, computed_due));
        """,
    )


def _v2_search(db: sqlite3.Connection) -> None:
    """Full-text indexes over notes and field values, kept in step by triggers.

    prefix='2 3': the history search matches the last word typed as a prefix; without
    these indexes a short prefix merges the postings of every word it starts.
    ix_call_created: the history list reads calls newest first, one page at a time.
    """
    _run(
        db,
        """
        CREATE VIRTUAL TABLE note_search USING fts5(
            body, content='note', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        );
        INSERT INTO note_search (rowid, body) SELECT id, body FROM note;
        CREATE TRIGGER note_search_insert AFTER INSERT ON note BEGIN
            INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
        END;
        CREATE TRIGGER note_search_update AFTER UPDATE OF body ON note BEGIN
            INSERT INTO note_search (note_search, rowid, body)
                VALUES ('delete', old.id, old.body);
            INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
        END;
        CREATE TRIGGER note_search_delete AFTER DELETE ON note BEGIN
            INSERT INTO note_search (note_search, rowid, body)
                VALUES ('delete', old.id, old.body);
        END;
        CREATE VIRTUAL TABLE field_search USING fts5(
            value, content='call_field', content_rowid='rowid',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        );
        INSERT INTO field_search (rowid, value) SELECT rowid, value FROM call_field;
        CREATE TRIGGER field_search_insert AFTER INSERT ON call_field BEGIN
            INSERT INTO field_search (rowid, value) VALUES (new.rowid, new.value);
        END;
        CREATE TRIGGER field_search_update AFTER UPDATE OF value ON call_field BEGIN
            INSERT INTO field_search (field_search, rowid, value)
                VALUES ('delete', old.rowid, old.value);
            INSERT INTO field_search (rowid, value) VALUES (new.rowid, new.value);
        END;
        CREATE TRIGGER field_search_delete AFTER DELETE ON call_field BEGIN
            INSERT INTO field_search (field_search, rowid, value)
                VALUES ('delete', old.rowid, old.value);
        END;
        CREATE INDEX ix_call_created ON call (created_at, id);
        """,
    )


def _v3_clock(db: sqlite3.Connection) -> None:
    """The legal limit kept beside the proposed (clinical) date of a follow-up.

    A call prepared ahead has no connected time (started_at) until the reviewer is on the
    line: that needs no change, the column was nullable from the first release.
    """
    _run(db, "ALTER TABLE followup ADD COLUMN legal_due VARCHAR(27);")


def _v4_guards(db: sqlite3.Connection) -> None:
    """Guards no statement gets past, whatever client sends it with SQLite's default settings.

    `REPLACE`, `INSERT OR REPLACE` and `UPDATE OR REPLACE` delete the row they collide with
    without firing DELETE triggers (unless a client turns recursive_triggers on, which the
    `sqlite3` shell does not): the v2 guards never saw those deletions. BEFORE INSERT triggers
    run before that deletion, so an insert whose key is already taken is refused there.
    `UPDATE OF id` triggers do not fire for `SET rowid = ...`, so the ids are guarded by
    triggers without a column list. `DROP TRIGGER`, `DROP TABLE` or any other change of the
    schema cannot be refused from inside SQLite: `store.integrity.schema_check` finds those, and
    the chain head recomputed by every export and `verify` finds what they were used for.
    """
    _run(db, GUARD_TRIGGERS)


_NEVER_REPLACED = "is never replaced (REPLACE would delete it without a trace)"
# How UTCDateTime stores every time. The guards compare times as text; that is sound only
# when every time has this one fixed-width form ('2026-11-30T13:00:00+01:00' sorts after
# '2026-11-30T12:30:00.000000Z' but is earlier).
_UTC_TEXT = (
    "'"
    + "-".join(["[0-9]" * 4, "[0-9]" * 2, "[0-9]" * 2])
    + "T"
    + ":".join(["[0-9]" * 2] * 3)
    + "."
    + "[0-9]" * 6
    + "Z'"
)
_TIME_FORM = "times are stored as UTC text YYYY-MM-DDTHH:MM:SS.ffffffZ"

GUARD_TRIGGERS = f"""
    CREATE TRIGGER record_note_no_replace BEFORE INSERT ON note
    WHEN EXISTS (SELECT 1 FROM note WHERE id = new.id) BEGIN
        {_refuse("a saved note " + _NEVER_REPLACED + "; " + _CORRECT_INSTEAD)};
    END;
    CREATE TRIGGER record_field_edit_no_replace BEFORE INSERT ON field_edit
    WHEN EXISTS (SELECT 1 FROM field_edit WHERE id = new.id) BEGIN
        {_refuse("the history of a field " + _NEVER_REPLACED)};
    END;
    CREATE TRIGGER record_field_no_replace BEFORE INSERT ON call_field
    WHEN EXISTS (SELECT 1 FROM call_field WHERE rowid = new.rowid) BEGIN
        {_refuse("the value of a field " + _NEVER_REPLACED)};
    END;
    CREATE TRIGGER record_field_keeps_rowid BEFORE UPDATE ON call_field
    WHEN new.rowid IS NOT old.rowid BEGIN
        {_refuse("the value of a field keeps its row number")};
    END;
    CREATE TRIGGER record_call_no_replace BEFORE INSERT ON call
    WHEN EXISTS (SELECT 1 FROM call WHERE id = new.id) BEGIN
        {_refuse("a call " + _NEVER_REPLACED)};
    END;
    CREATE TRIGGER record_call_starts_open BEFORE INSERT ON call
    WHEN new.finalized_at IS NOT NULL OR new.chain_head IS NOT NULL BEGIN
        {_refuse("a call is finalized after it ends, never created finalized")};
    END;
    CREATE TRIGGER record_call_keeps_id BEFORE UPDATE ON call
    WHEN new.id IS NOT old.id BEGIN
        {_refuse("a call keeps its number")};
    END;
    CREATE TRIGGER record_call_head_and_stamp BEFORE UPDATE OF finalized_at, chain_head ON call
    WHEN old.finalized_at IS NULL BEGIN
        {_refuse("the chain head is stamped with the finalize time, never alone")}
        WHERE (new.finalized_at IS NULL) != (new.chain_head IS NULL);
        {_refuse("a chain head is 64 lowercase hexadecimal digits")}
        WHERE new.chain_head GLOB '*[^0-9a-f]*';
        {_refuse("a finalize time is stored as UTC text YYYY-MM-DDTHH:MM:SS.ffffffZ")}
        WHERE NOT new.finalized_at GLOB {_UTC_TEXT};
        {_refuse("a call is finalized after its last note and field change; check the clock")}
        WHERE new.finalized_at IS NOT NULL AND (
            EXISTS (SELECT 1 FROM note WHERE call_id = new.id AND saved_at > new.finalized_at)
            OR EXISTS (
                SELECT 1 FROM call_field WHERE call_id = new.id AND updated_at > new.finalized_at
            )
            OR EXISTS (
                SELECT 1 FROM field_edit WHERE call_id = new.id AND edited_at > new.finalized_at
            )
        );
    END;
    CREATE TRIGGER record_note_time_form BEFORE INSERT ON note
    WHEN NOT (new.saved_at GLOB {_UTC_TEXT} AND new.started_at GLOB {_UTC_TEXT}) BEGIN
        {_refuse("a note's " + _TIME_FORM)};
    END;
    CREATE TRIGGER record_field_time_form BEFORE INSERT ON call_field
    WHEN NOT new.updated_at GLOB {_UTC_TEXT} BEGIN
        {_refuse("a field's " + _TIME_FORM)};
    END;
    CREATE TRIGGER record_field_time_form_update BEFORE UPDATE OF updated_at ON call_field
    WHEN NOT new.updated_at GLOB {_UTC_TEXT} BEGIN
        {_refuse("a field's " + _TIME_FORM)};
    END;
    CREATE TRIGGER record_field_edit_time_form BEFORE INSERT ON field_edit
    WHEN NOT new.edited_at GLOB {_UTC_TEXT} BEGIN
        {_refuse("a field's " + _TIME_FORM)};
    END;
    CREATE TRIGGER record_call_keeps_its_notes BEFORE DELETE ON call
    WHEN EXISTS (SELECT 1 FROM note WHERE call_id = old.id)
        OR EXISTS (SELECT 1 FROM field_edit WHERE call_id = old.id) BEGIN
        {_refuse("a call with saved notes or field history is never deleted")};
    END;
"""


def _v5_letters(db: sqlite3.Connection) -> None:
    """Letters: the user's edited text of each letter, and every letter file written.

    Outside the record and its hash chain: an edited letter is the user's text, never part
    of what was noted during the call, and a call's record never changes because of it.
    """
    _run(
        db,
        """
        CREATE TABLE letter_edit (
            call_id INTEGER NOT NULL REFERENCES call(id),
            kind VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            updated_at VARCHAR(27) NOT NULL,
            PRIMARY KEY (call_id, kind)
        );
        CREATE TABLE letter_file (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES call(id),
            kind VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            edited BOOLEAN NOT NULL DEFAULT 0,
            written_at VARCHAR(27) NOT NULL
        );
        CREATE INDEX ix_letter_file_call ON letter_file (call_id, id);
        """,
    )


def _v6_reviewers(db: sqlite3.Connection) -> None:
    """Reviewers as entities across calls, the link of a call to one, and follow-through.

    All of it is metadata outside the record and its hash chain: linking, unlinking or
    merging never changes a call's fields (the reviewer details as given on that call stay
    in section B's fields, finalized or not). name_key is the casefolded name the
    suggestions match on. A merged entry keeps its id and its links (merged_into points at
    the entry it was merged into), so a merge can be undone; reviewer_link_log keeps every
    link, unlink, merge and unmerge with its time. followup.received says whether a promised
    document or commitment came (received / not_received) and received_on the day.
    """
    _run(
        db,
        """
        CREATE TABLE reviewer (
            id INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL,
            name_key VARCHAR NOT NULL,
            credentials VARCHAR NOT NULL DEFAULT '',
            specialty VARCHAR NOT NULL DEFAULT '',
            board VARCHAR NOT NULL DEFAULT '',
            license_states VARCHAR NOT NULL DEFAULT '',
            npi VARCHAR NOT NULL DEFAULT '',
            vendor VARCHAR NOT NULL DEFAULT '',
            created_at VARCHAR(27) NOT NULL,
            merged_into INTEGER REFERENCES reviewer(id),
            merged_at VARCHAR(27)
        );
        CREATE INDEX ix_reviewer_name ON reviewer (name_key);
        CREATE INDEX ix_reviewer_merged ON reviewer (merged_into);
        CREATE TABLE call_reviewer (
            call_id INTEGER PRIMARY KEY REFERENCES call(id),
            reviewer_id INTEGER NOT NULL REFERENCES reviewer(id),
            linked_at VARCHAR(27) NOT NULL
        );
        CREATE INDEX ix_call_reviewer ON call_reviewer (reviewer_id, call_id);
        CREATE TABLE reviewer_link_log (
            id INTEGER PRIMARY KEY,
            action VARCHAR NOT NULL,
            call_id INTEGER REFERENCES call(id),
            reviewer_id INTEGER NOT NULL REFERENCES reviewer(id),
            other_id INTEGER REFERENCES reviewer(id),
            at VARCHAR(27) NOT NULL
        );
        ALTER TABLE followup ADD COLUMN received VARCHAR;
        ALTER TABLE followup ADD COLUMN received_on VARCHAR(10);
        """,
    )


def _v7_outbox(db: sqlite3.Connection) -> None:
    """Each note's idempotency key: a note sent again from the outbox is stored once.

    The app gives every note a key (uuid4 text) when Enter is pressed; a note sent again with
    a key already in the database is answered with the note stored then (its commit went
    through, its answer was lost). Notes saved before this version, and by callers without
    a key, have none (NULL: the unique index leaves them out). Not part of the record: the
    chain and every export leave the key out. The unique index would let `REPLACE` delete a
    note that holds the same key, so an insert whose key is taken is refused first.
    """
    _run(
        db,
        f"""
        ALTER TABLE note ADD COLUMN client_key VARCHAR;
        CREATE UNIQUE INDEX ix_note_client_key ON note (client_key)
            WHERE client_key IS NOT NULL;
        CREATE TRIGGER record_note_key_no_replace BEFORE INSERT ON note
        WHEN new.client_key IS NOT NULL
            AND EXISTS (SELECT 1 FROM note WHERE client_key = new.client_key) BEGIN
            {_refuse("a saved note " + _NEVER_REPLACED + "; its key is never used twice")};
        END;
        """,
    )


STEPS: tuple[Step, ...] = (
    _v1,
    _v2,
    _v3_clock,
    _v4_guards,
    _v5_letters,
    _v6_reviewers,
    _v7_outbox,
)


CURRENT_VERSION = len(STEPS)


class SchemaError(Exception):
    """The database cannot be brought to the current schema; it was left as it was."""


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


BACKUP_PREFIX = "p2pcall-before-v"
_TEMP_SUFFIX = ".p2pcall-tmp"


def backup(db: sqlite3.Connection, folder: Path, name: str) -> Path:
    """A consistent, checked, owner-only copy of `db`'s file as `folder/name`.

    Written under a temporary name (starting with a dot, ending in .p2pcall-tmp), checked
    with integrity_check, flushed to disk, and only then linked to `name`: a kill at any
    moment leaves no partial file named like a good backup. Copied through a second,
    read-only connection, so `db` may hold the write lock meanwhile. An existing `name`
    is never replaced: the copy gets -2, -3... instead.
    """
    from p2pcall.exportfile import fsync_path  # only here: readers never back up

    source_path = _file_of(db)
    temp = folder / f".{name}.{os.getpid()}{_TEMP_SUFFIX}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode is masked by the umask
        os.close(fd)
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(temp)
            try:
                source.backup(copy)
                ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
                same = version_of(copy) == version_of(db)
            finally:
                copy.close()
        finally:
            source.close()
        if ok != "ok" or not same:
            raise SchemaError(f"the backup copy in {folder} failed its check")
        fsync_path(temp)
        target = _link_unused(temp, folder, name)
        fsync_path(folder)
        return target
    finally:
        _remove_temp(temp)


def remove_stale_backups(folder: Path) -> None:
    """Temporary backup files of an upgrade that was killed half-way (never a good one).

    Only called while holding the write lock: an upgrade writes its copy under that lock,
    so no other process is writing one now.
    """
    for leftover in folder.glob(f".{BACKUP_PREFIX}*{_TEMP_SUFFIX}"):
        _remove_temp(leftover)


def _remove_temp(temp: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{temp}{suffix}").unlink()


def _file_of(db: sqlite3.Connection) -> Path:
    for _seq, schema_name, file in db.execute("PRAGMA database_list"):
        if schema_name == "main" and file:
            return Path(file)
    raise SchemaError("an in-memory database has no file to back up")


def _link_unused(temp: Path, folder: Path, name: str) -> Path:
    stem, dot, suffix = name.rpartition(".")
    for attempt in range(1, 100):
        target = folder / (name if attempt == 1 else f"{stem}-{attempt}{dot}{suffix}")
        try:
            os.link(temp, target)  # never replaces: an earlier backup of this second stays
        except FileExistsError:
            continue
        return target
    raise SchemaError(f"too many backups named {name} in {folder}")


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

    Everything happens under the write lock: a second p2pcall opening the same old
    database meanwhile waits at BEGIN IMMEDIATE, then finds it upgraded and does nothing
    (no second backup, no name clash). The backup of existing data is taken first (see
    `backup`); every pending step then runs in one transaction: a failure rolls all of
    them back, and the backup stays.
    """
    check_openable(db)
    found = version_of(db)
    if found == CURRENT_VERSION:
        return found
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another p2pcall may have created or upgraded it while this one waited for the lock.
        found = version_of(db)
        if found < CURRENT_VERSION:
            remove_stale_backups(backup_dir)
            if found > 0:
                backup(db, backup_dir, f"{BACKUP_PREFIX}{CURRENT_VERSION}-{stamp}.sqlite3")
            for step in STEPS[found:]:
                step(db)
            db.execute(f"PRAGMA user_version = {CURRENT_VERSION}")
        db.execute("COMMIT")
    except Exception as exc:
        db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise  # another p2pcall is still busy: the store says so in its own words
        what = "backing up" if isinstance(exc, (OSError, SchemaError)) else "upgrading"
        raise SchemaError(
            f"{what} the database from schema {found} failed ({type(exc).__name__}); "
            "it was left unchanged"
        ) from exc
    check_openable(db)  # the other one may have been a newer p2pcall
    return found
