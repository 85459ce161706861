"""The finalize guards against any statement from any SQLite client with default settings.

Every attack runs twice: from a separate Python `sqlite3` connection that sets no pragma at all
(foreign_keys off, recursive_triggers off, as the `sqlite3` shell has them), and through the
real `sqlite3` command-line shell when it is installed (skipped cleanly when it is not). Each
must be refused by the database itself, and leave the record byte for byte as it was.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store import Store, schema
from p2pcall.store.opening import open_store

SHELL = shutil.which("sqlite3")
FUTURE = "'2099-01-01T00:00:00.000000Z'"
NOTE_COLUMNS = "id, call_id, section, kind, body, started_at, saved_at, late, reason, corrects_id"

# {id}: the finalized call; {open}: a call still open, with its own note and field.
ATTACKS = {
    # REPLACE deletes the row it collides with without firing DELETE triggers.
    "replace a finalized note as an addendum": (
        f"REPLACE INTO note ({NOTE_COLUMNS}) SELECT id, call_id, section, kind, 'changed', "
        f"started_at, {FUTURE}, 1, 'x', NULL FROM note WHERE call_id = {{id}} LIMIT 1"
    ),
    "insert or replace a finalized note into an open call": (
        f"INSERT OR REPLACE INTO note ({NOTE_COLUMNS}) SELECT id, {{open}}, section, kind, "
        "'changed', started_at, saved_at, 0, '', NULL FROM note WHERE call_id = {id} LIMIT 1"
    ),
    "upsert a finalized note": (
        f"INSERT INTO note ({NOTE_COLUMNS}) SELECT id, {{open}}, section, kind, 'x', started_at,"
        " saved_at, 0, '', NULL FROM note WHERE call_id = {id} LIMIT 1"
        " ON CONFLICT(id) DO UPDATE SET body = 'changed'"
    ),
    "replace the finalized call un-finalized": (
        "REPLACE INTO call (id, created_at, tz, started_at, ended_at, outcome)"
        " SELECT id, created_at, tz, started_at, ended_at, 'approved' FROM call WHERE id = {id}"
    ),
    "upsert the finalized call un-finalized": (
        "INSERT INTO call (id, created_at, tz) VALUES ({id}, '2026-01-01T00:00:00.000000Z', 'UTC')"
        " ON CONFLICT(id) DO UPDATE SET finalized_at = NULL, chain_head = NULL"
    ),
    "update or replace an open call onto the finalized one": (
        "UPDATE OR REPLACE call SET id = {id} WHERE id = {open}"
    ),
    "update or replace through rowid": "UPDATE OR REPLACE call SET rowid = {id} WHERE id = {open}",
    "renumber the finalized call through rowid": "UPDATE call SET rowid = 999 WHERE id = {id}",
    "renumber the finalized call through _rowid_": "UPDATE call SET _rowid_ = 999 WHERE id = {id}",
    "replace a finalized field from an open call": (
        "REPLACE INTO call_field (rowid, call_id, key, value, declined, updated_at, late)"
        " SELECT rowid, {open}, key, 'changed', 0, updated_at, 0 FROM call_field"
        " WHERE call_id = {id} LIMIT 1"
    ),
    "replace a finalized field in place": (
        "REPLACE INTO call_field (call_id, key, value, declined, updated_at, late)"
        " SELECT call_id, key, 'changed', declined, updated_at, late FROM call_field"
        " WHERE call_id = {id} LIMIT 1"
    ),
    "upsert a finalized field": (
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES ({id}, 'patient_ref', 'x',"
        f" {FUTURE}) ON CONFLICT(call_id, key) DO UPDATE SET value = 'changed'"
    ),
    "update or replace an open field onto a finalized one": (
        "UPDATE OR REPLACE call_field SET rowid = (SELECT rowid FROM call_field"
        " WHERE call_id = {id} LIMIT 1) WHERE call_id = {open}"
    ),
    "replace a finalized field's history": (
        "REPLACE INTO field_edit (id, call_id, key, value, declined, edited_at, late)"
        " SELECT id, {open}, key, 'changed', declined, edited_at, late FROM field_edit"
        " WHERE call_id = {id} LIMIT 1"
    ),
    "update or replace field history": (
        "UPDATE OR REPLACE field_edit SET id = (SELECT min(id) FROM field_edit"
        " WHERE call_id = {id}) WHERE call_id = {open}"
    ),
    "update or replace a note onto a finalized one": (
        "UPDATE OR REPLACE note SET id = (SELECT min(id) FROM note WHERE call_id = {id})"
        " WHERE call_id = {open}"
    ),
    "change the finalize time": f"UPDATE call SET finalized_at = {FUTURE} WHERE id = {{id}}",
    "clear the finalize time and head": (
        "UPDATE call SET finalized_at = NULL, chain_head = NULL WHERE id = {id}"
    ),
    "change the chain head": (
        "UPDATE call SET chain_head = lower(hex(randomblob(32))) WHERE id = {id}"
    ),
    "delete the finalized call": "DELETE FROM call WHERE id = {id}",
    "delete a finalized note": "DELETE FROM note WHERE call_id = {id}",
    "delete a note a correction points to": (
        "DELETE FROM note WHERE id IN (SELECT corrects_id FROM note WHERE corrects_id IS NOT NULL)"
    ),
    "delete an open call that has notes": "DELETE FROM call WHERE id = {open}",
}

# Not changes of the finalized record, but ways to forge what looks like one, or to make an
# intact one look changed.
FORGERIES = {
    "an addendum timed in another form": (
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason)"
        " SELECT id, 'G', 'note', 'x', finalized_at, strftime('%Y-%m-%dT%H:%M:%S', finalized_at,"
        " '+1 hour') || '+01:00', 1, 'why' FROM call WHERE id = {id}"  # sorts after, is not
    ),
    "a field value timed in another form": (
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES ({open}, 'state', 'NY',"
        " '2026-01-01 10:00:00')"
    ),
    "create a call already finalized": (
        "INSERT INTO call (created_at, tz, ended_at, finalized_at, chain_head) VALUES"
        f" ('2020-01-01T00:00:00.000000Z', 'UTC', {FUTURE}, {FUTURE}, '{'a' * 64}')"
    ),
    "a chain head on a call not finalized": (
        f"UPDATE call SET chain_head = '{'a' * 64}' WHERE id = {{open}}"
    ),
    "a chain head that is not lowercase hex": (
        f"UPDATE call SET ended_at = {FUTURE}, finalized_at = {FUTURE}, chain_head = '{'A' * 64}'"
        " WHERE id = {open}"
    ),
    "finalized before its last note": (
        "UPDATE call SET ended_at = '2000-01-01T00:00:00.000000Z', finalized_at ="
        f" '2000-01-01T00:00:00.000000Z', chain_head = '{'a' * 64}' WHERE id = {{open}}"
    ),
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "records")
    try:
        yield opened
    finally:
        opened.close()


def make_calls(store: Store) -> dict[str, int]:
    """A finalized call (fields, field history, notes, a correction) and an open one."""
    call = store.start_call("America/New_York")
    store.set_field(call.id, "patient_ref", "JD-1", log=True)
    store.set_field(call.id, "insurer", "Acme", log=True)
    first = store.add_note(call.id, Section.A, NoteKind.NOTE, "pt 34 y/o", now_utc())
    store.add_note(call.id, Section.D, NoteKind.QUOTE, "LOCUS level 3 not met", now_utc())
    store.correct_note(first.id, "pt 43 y/o")
    store.end_call(call.id, Outcome.DENIED)
    store.finalize_call(call.id)
    other = store.start_call("UTC")
    store.set_field(other.id, "insurer", "Other", log=True)
    store.add_note(other.id, Section.B, NoteKind.NOTE, "open call note", now_utc())
    return {"id": call.id, "open": other.id}


def dump(path: Path, *, leave_out: tuple[str, ...] = ()) -> list[list[tuple]]:
    """Every row of the record's tables; `leave_out`: columns a later schema step added."""
    conn = sqlite3.connect(path)
    try:
        tables = []
        for table in ("call", "call_field", "field_edit", "note"):
            cursor = conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid")
            names = [column[0] for column in cursor.description]
            keep = [i for i, name in enumerate(names) if name not in leave_out]
            tables.append([tuple(row[i] for i in keep) for row in cursor.fetchall()])
        return tables
    finally:
        conn.close()


def run_in_python(path: Path, statement: str) -> str:
    """A separate connection with SQLite's defaults (no pragma set); the error it got."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)
        assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        conn.execute(statement)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return ""


def run_in_shell(path: Path, statement: str) -> str:
    assert SHELL is not None
    result = subprocess.run(
        [SHELL, "-init", "/dev/null", "-bail", str(path), statement + ";"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stderr if result.returncode != 0 else ""


RUNNERS = [
    pytest.param(run_in_python, id="python"),
    pytest.param(
        run_in_shell,
        id="shell",
        marks=pytest.mark.skipif(SHELL is None, reason="the sqlite3 shell is not installed"),
    ),
]


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_guards_refuse_every_way_of_changing_a_finalized_record(
    store: Store, runner, attack: str
) -> None:
    ids = make_calls(store)
    head = store.load_call(ids["id"]).call.chain_head
    before = dump(store.path)
    error = runner(store.path, ATTACKS[attack].format(**ids))
    assert schema.RECORD_GUARD in error, f"not refused: {attack}"
    assert dump(store.path) == before
    assert store.recompute_head(ids["id"]) == head


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_guards_refuse_forging_a_finalized_record(store: Store, runner, forgery: str) -> None:
    ids = make_calls(store)
    before = dump(store.path)
    error = runner(store.path, FORGERIES[forgery].format(**ids))
    assert schema.RECORD_GUARD in error, f"not refused: {forgery}"
    assert dump(store.path) == before


def test_guards_hold_with_foreign_keys_and_recursive_triggers_on_too(store: Store) -> None:
    ids = make_calls(store)
    before = dump(store.path)
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA recursive_triggers = ON")
    try:
        for attack in sorted(ATTACKS):
            with pytest.raises(sqlite3.DatabaseError):
                conn.execute(ATTACKS[attack].format(**ids))
    finally:
        conn.close()
    assert dump(store.path) == before


def test_the_app_still_works_under_the_guards(store: Store) -> None:
    """Upserted fields, notes, corrections, addenda, finalizing: none hits a new guard."""
    ids = make_calls(store)
    store.set_field(ids["open"], "insurer", "Changed", log=True)
    note = store.add_note(ids["open"], Section.C, NoteKind.NOTE, "second", now_utc())
    store.correct_note(note.id, "second, corrected")
    store.end_call(ids["open"], Outcome.PENDING)
    store.set_field(ids["open"], "insurer", "After the end", log=True)
    call = store.finalize_call(ids["open"])
    assert call.chain_head == store.recompute_head(ids["open"])
    store.add_note(ids["open"], Section.G, NoteKind.NOTE, "letter came", now_utc(), reason="mail")
    assert store.recompute_head(ids["open"]) == call.chain_head


def test_search_index_writes_never_reach_the_record(store: Store) -> None:
    """The FTS5 tables cannot carry triggers (SQLite refuses triggers on virtual tables, and
    one on a shadow table would block FTS5's own writes): any client can rewrite the index.
    What matters is that nothing written there changes the record or its head."""
    ids = make_calls(store)
    head = store.load_call(ids["id"]).call.chain_head
    before = dump(store.path)
    conn = sqlite3.connect(store.path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="virtual tables"):
        conn.execute("CREATE TRIGGER t BEFORE INSERT ON note_search BEGIN SELECT 1; END")
    for statement in (
        "INSERT INTO note_search (rowid, body) VALUES (1, 'forged words')",
        "INSERT INTO note_search (note_search, rowid, body) VALUES ('delete', 2, 'x')",
        "INSERT INTO note_search (note_search) VALUES ('delete-all')",
        "DELETE FROM field_search_data",
    ):
        conn.execute(statement)
    conn.close()
    assert dump(store.path) == before
    assert store.recompute_head(ids["id"]) == head


# -- the step that brings them to an existing v2 database ------------------------------------


def make_v2_database(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A database as the v2 release wrote it: a finalized call and an open one."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "STEPS", schema.STEPS[:2])
        patch.setattr(schema, "CURRENT_VERSION", 2)
        old = open_store(data_dir)
        try:
            return make_calls(old)
        finally:
            old.close()


def test_v2_database_is_upgraded_in_place_and_then_refuses_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "records"
    ids = make_v2_database(data_dir, monkeypatch)
    path = data_dir / "p2pcall.sqlite3"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (2,)
    conn.close()
    # The v2 guards let REPLACE through: the reason for the step (tried on a copy).
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(path, copy)
    replace_call = ATTACKS["replace the finalized call un-finalized"].format(**ids)
    assert run_in_python(copy, replace_call) == ""
    unfinalized = sqlite3.connect(copy).execute(
        "SELECT finalized_at FROM call WHERE id = ?", (ids["id"],)
    )
    assert unfinalized.fetchone() == (None,)

    before = dump(path)
    store = open_store(data_dir)
    try:
        head = store.load_call(ids["id"]).call.chain_head
        assert store.recompute_head(ids["id"]) == head
        from p2pcall.store.integrity import schema_differences

        assert schema_differences(store) == []
    finally:
        store.close()
    # The upgrade adds guards and the notes' key column (empty for notes saved before it):
    # it changes no row.
    assert dump(path, leave_out=("client_key",)) == before
    keys = sqlite3.connect(path).execute("SELECT DISTINCT client_key FROM note").fetchall()
    assert keys == [(None,)]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (schema.CURRENT_VERSION,)
    conn.close()
    backups = list(data_dir.glob("p2pcall-before-*"))  # the upgrade kept a copy first
    assert len(backups) == 1
    for attack in sorted(ATTACKS):
        assert schema.RECORD_GUARD in run_in_python(path, ATTACKS[attack].format(**ids)), attack
    assert dump(path, leave_out=("client_key",)) == before


# -- what the triggers cannot refuse is noticed: the schema compared with p2pcall's own --------


@pytest.mark.parametrize(
    ("ddl", "problem"),
    [
        ("DROP TRIGGER record_note_no_replace", "trigger record_note_no_replace is missing"),
        ("CREATE UNIQUE INDEX u ON note (body)", "index u was added"),
        (
            "DROP TRIGGER record_note_no_update; CREATE TRIGGER record_note_no_update BEFORE"
            " UPDATE ON note WHEN 0 BEGIN SELECT 1; END",
            "trigger record_note_no_update was changed",
        ),
        ("DROP INDEX ix_note_call", "index ix_note_call is missing"),
        ("CREATE TRIGGER sneaky AFTER INSERT ON note BEGIN SELECT 1; END", "trigger sneaky"),
    ],
)
def test_schema_changes_are_found(store: Store, ddl: str, problem: str) -> None:
    from p2pcall.store.integrity import schema_differences

    assert schema_differences(store) == []
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.executescript(ddl)
    conn.close()
    assert any(found.startswith(problem) for found in schema_differences(store))


def test_sqlite_rewriting_names_is_not_a_change(store: Store) -> None:
    """`ALTER TABLE ... RENAME` there and back quotes names in every statement that uses them:
    the same schema, not a change."""
    from p2pcall.store.integrity import schema_differences

    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("ALTER TABLE note RENAME TO note_old")
    conn.execute("ALTER TABLE note_old RENAME TO note")
    assert (
        '"note"' in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'note'").fetchone()[0]
    )
    conn.close()
    assert schema_differences(store) == []


def test_an_older_file_is_compared_with_its_own_versions_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only copy an older p2pcall wrote is not upgraded: it is compared with what that
    version built, and today's schema would call its missing guards missing."""
    from p2pcall.store import integrity

    data_dir = tmp_path / "records"
    make_v2_database(data_dir, monkeypatch)
    conn = sqlite3.connect(data_dir / "p2pcall.sqlite3")
    found = integrity._objects(conn.execute(integrity._MASTER).fetchall())
    conn.close()
    assert integrity.differences(found, integrity.expected_objects(2)) == []
    assert "trigger record_note_no_replace is missing" in integrity.differences(found)
