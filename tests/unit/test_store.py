"""The store against real SQLite files: permissions, PRAGMAs, schema upgrades, records.

No mocks of the store or the database: every test opens a real file under tmp_path. The only
patch is of schema.STEPS (the upgrade list) to simulate a failing upgrade step.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from export_db import make_v1_database
from p2pcall.domain.models import CallRecord
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store import DatabaseError, Store, StoreError, schema
from p2pcall.store import tables as _tables
from p2pcall.store.types import UTCDateTime

DB = "p2pcall.sqlite3"
STAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
V1_TABLES = {"call", "call_field", "field_edit", "note", "draft"}
MODEL_TABLES = V1_TABLES | {"followup", "letter_edit", "letter_file"}
MODEL_TABLES |= {"reviewer", "call_reviewer", "reviewer_link_log"}  # schema v6
SEARCH_TABLES = {"note_search", "field_search"}  # FTS5; their shadow tables are SQLite's


# -- helpers --------------------------------------------------------------------------------


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "records"


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    opened = Store.open(store_dir)
    try:
        yield opened
    finally:
        opened.close()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, outside the store, to look at what is really on disk."""
    return sqlite3.connect(path, isolation_level=None)


def raw_rows(path: Path, sql: str, *params: object) -> list[tuple]:
    conn = raw(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def user_version(path: Path) -> int:
    return raw_rows(path, "PRAGMA user_version")[0][0]


def schema_sql(path: Path) -> list[tuple]:
    return raw_rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")


def is_aware_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- files and permissions -----------------------------------------------------------------


def test_open_creates_private_dir_and_files_even_with_umask_zero(store_dir: Path) -> None:
    old = os.umask(0o000)
    try:
        opened = Store.open(store_dir)
        try:
            opened.start_call("UTC")  # a write, so the -wal and -shm files exist
            db = store_dir / DB
            assert mode_of(store_dir) == 0o700
            assert opened.path == db
            assert mode_of(db) == 0o600
            for suffix in ("-wal", "-shm"):
                side = Path(f"{db}{suffix}")
                assert side.exists(), f"{side.name} missing: is the database in WAL mode?"
                assert mode_of(side) == 0o600, side.name
        finally:
            opened.close()
    finally:
        os.umask(old)


def test_open_tightens_loose_existing_dir_and_file(store_dir: Path) -> None:
    store_dir.mkdir()
    store_dir.chmod(0o755)
    db = store_dir / DB
    db.touch()
    db.chmod(0o644)
    opened = Store.open(store_dir)
    opened.close()
    assert mode_of(store_dir) == 0o700
    assert mode_of(db) == 0o600


def test_open_on_a_regular_file_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="data directory"):
        Store.open(blocker)
    assert blocker.read_text() == "x"


# -- PRAGMAs and transactions --------------------------------------------------------------


def test_pragmas_on_engine_connections(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(StoreError):
        store.save_draft(4242, Section.A, NoteKind.NOTE, "orphan", utc_now())
    assert raw_rows(store.path, "SELECT count(*) FROM draft") == [(0,)]


def _begin_immediate_elsewhere(path: Path) -> str | None:
    """Try to take the write lock from another connection without waiting: the error or None."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return None
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


def test_engine_transactions_begin_immediate(store: Store) -> None:
    assert _begin_immediate_elsewhere(store.path) is None  # nobody holds the lock yet
    # No statement at all inside: a deferred BEGIN would take no lock.
    with store.engine.begin():
        assert _begin_immediate_elsewhere(store.path) == "database is locked"
    assert _begin_immediate_elsewhere(store.path) is None


def test_session_transactions_begin_immediate(store: Store) -> None:
    # A read only: with a deferred BEGIN a second writer could still start.
    with Session(store.engine) as session:
        session.execute(select(1)).all()
        assert _begin_immediate_elsewhere(store.path) == "database is locked"
    assert _begin_immediate_elsewhere(store.path) is None


# -- schema versions -------------------------------------------------------------------------


def test_schema_version_after_open_and_reopen_is_noop(store_dir: Path) -> None:
    first = Store.open(store_dir)
    call = first.start_call("UTC")
    first.close()
    db = store_dir / DB
    assert schema.CURRENT_VERSION == len(schema.STEPS) >= 5
    assert user_version(db) == schema.CURRENT_VERSION
    before = schema_sql(db)
    tables = {name for kind, name, _ in before if kind == "table"}
    assert tables - {t for t in tables if t.startswith(tuple(SEARCH_TABLES))} == MODEL_TABLES

    second = Store.open(store_dir)
    try:
        assert user_version(db) == schema.CURRENT_VERSION
        assert schema_sql(db) == before
        assert second.load_call(call.id).call.id == call.id
    finally:
        second.close()
    assert sorted(p.name for p in store_dir.glob("p2pcall-before-*")) == []


def _make_newer_database(db: Path, journal_mode: str) -> None:
    db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.execute("CREATE TABLE future (x)")
    conn.execute("INSERT INTO future VALUES ('keep me')")
    conn.commit()
    conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 5}")
    conn.commit()
    conn.close()


def test_newer_schema_is_refused_and_left_unchanged(store_dir: Path) -> None:
    # A newer p2pcall writes WAL databases, as this one does.
    db = store_dir / DB
    _make_newer_database(db, "wal")
    before = db.read_bytes()
    with pytest.raises(DatabaseError, match="newer p2pcall"):
        Store.open(store_dir)
    assert db.read_bytes() == before
    assert user_version(db) == schema.CURRENT_VERSION + 5
    assert raw_rows(db, "SELECT x FROM future") == [("keep me",)]


def test_newer_schema_in_rollback_journal_mode_is_left_byte_identical(store_dir: Path) -> None:
    db = store_dir / DB
    _make_newer_database(db, "delete")
    before = db.read_bytes()
    with pytest.raises(DatabaseError, match="newer p2pcall"):
        Store.open(store_dir)
    assert db.read_bytes() == before


def test_not_a_database_is_refused_and_left_unchanged(store_dir: Path) -> None:
    store_dir.mkdir(mode=0o700)
    db = store_dir / DB
    junk = b"hello, not a database" * 100
    db.write_bytes(junk)
    with pytest.raises(DatabaseError) as caught:
        Store.open(store_dir)
    message = str(caught.value)
    assert "damaged" in message or "not a p2pcall database" in message
    assert str(db) in message
    assert db.read_bytes() == junk
    assert sorted(p.name for p in store_dir.iterdir()) == [DB]


def test_failing_upgrade_step_leaves_database_as_it_was(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_v1_database(store_dir, monkeypatch)
    assert user_version(db) == 1
    tables_before = schema_sql(db)
    rows_before = raw_rows(db, "SELECT * FROM call_field")

    ran: list[str] = []

    def broken_v2(conn: sqlite3.Connection) -> None:
        ran.append("v2")
        conn.execute("CREATE TABLE half_done (x)")
        conn.execute("ALTER TABLE note ADD COLUMN extra VARCHAR")
        conn.execute("DELETE FROM call_field")
        raise RuntimeError("step failed half-way")

    monkeypatch.setattr(schema, "STEPS", (schema.STEPS[0], broken_v2))
    monkeypatch.setattr(schema, "CURRENT_VERSION", 2)

    with pytest.raises((schema.SchemaError, DatabaseError)) as caught:
        Store.open(store_dir)
    assert ran == ["v2"]
    assert "schema 1" in str(caught.value)
    assert user_version(db) == 1
    assert schema_sql(db) == tables_before
    assert raw_rows(db, "SELECT * FROM call_field") == rows_before

    backups = sorted(store_dir.glob("p2pcall-before-v2-*.sqlite3"))
    assert len(backups) == 1, sorted(p.name for p in store_dir.iterdir())
    backup = backups[0]
    assert mode_of(backup) == 0o600
    assert raw_rows(backup, "PRAGMA integrity_check") == [("ok",)]
    assert raw_rows(backup, "PRAGMA user_version") == [(1,)]
    assert raw_rows(backup, "SELECT * FROM call_field") == rows_before


def test_upgrade_from_first_schema_keeps_data_and_indexes_it(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_v1_database(store_dir, monkeypatch)
    notes_before = raw_rows(db, "SELECT id, call_id, section, kind, body FROM note")
    store = Store.open(store_dir)
    try:
        assert user_version(db) == schema.CURRENT_VERSION
        record = store.load_call(1)
        assert record.call.value("insurer") == "Aetna"
        assert [n.body for n in record.notes] == ["not medically necessary"]
        assert record.notes[0].reason == "" and record.notes[0].corrects is None
        assert not record.call.finalized
        assert raw_rows(db, "SELECT id, call_id, section, kind, body FROM note") == notes_before
        # rows that existed before the upgrade are searchable, and new ones too
        assert raw_rows(
            db, "SELECT rowid FROM note_search WHERE note_search MATCH 'medically'"
        ) == [(1,)]
        assert raw_rows(
            db, "SELECT count(*) FROM field_search WHERE field_search MATCH 'aetna'"
        ) == [(1,)]
        store.set_field(1, "insurer", "Cigna")
        assert raw_rows(
            db, "SELECT count(*) FROM field_search WHERE field_search MATCH 'aetna'"
        ) == [(0,)]
        assert raw_rows(
            db, "SELECT count(*) FROM field_search WHERE field_search MATCH 'cigna'"
        ) == [(1,)]
    finally:
        store.close()
    backups = sorted(store_dir.glob(f"p2pcall-before-v{schema.CURRENT_VERSION}-*.sqlite3"))
    assert len(backups) == 1
    assert mode_of(backups[0]) == 0o600
    assert raw_rows(backups[0], "PRAGMA user_version") == [(1,)]
    assert raw_rows(backups[0], "SELECT body FROM note") == [("not medically necessary",)]


def test_sqlmodel_tables_match_ddl(store: Store) -> None:
    db_tables = {
        name
        for (name,) in raw_rows(
            store.path,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
    }
    db_tables -= {t for t in db_tables if t.startswith(tuple(SEARCH_TABLES))}
    assert set(SQLModel.metadata.tables) == db_tables == MODEL_TABLES
    # The note table's model leaves out the v7 key; NOTE_WITH_KEY (the statements that use
    # the key) has every column.
    models = {**SQLModel.metadata.tables, "note": _tables.NOTE_WITH_KEY}
    note_columns = [c.name for c in SQLModel.metadata.tables["note"].columns]
    assert [*note_columns, "client_key"] == [c.name for c in _tables.NOTE_WITH_KEY.columns]
    for name, table in models.items():
        info = raw_rows(store.path, f"PRAGMA table_info({name})")
        assert [c.name for c in table.columns] == [row[1] for row in info], name
        assert {c.name for c in table.primary_key.columns} == {row[1] for row in info if row[5]}, (
            name
        )
        not_null_db = {row[1] for row in info if row[3] and not row[5]}
        not_null_model = {c.name for c in table.columns if not c.nullable and not c.primary_key}
        assert not_null_model == not_null_db, name


# -- calls and fields ------------------------------------------------------------------------


def test_start_call_stamps_aware_utc(store: Store) -> None:
    before = utc_now()
    call = store.start_call("America/New_York")
    after = utc_now()
    assert call.id >= 1
    assert call.tz == "America/New_York"
    assert is_aware_utc(call.created_at)
    assert is_aware_utc(call.started_at)
    assert before <= call.created_at <= after
    assert call.started_at == call.created_at
    assert call.ended_at is None
    assert call.outcome is None
    assert call.ended_at is None

    loaded = store.load_call(call.id).call
    assert loaded == call
    assert is_aware_utc(loaded.created_at)


def test_set_field_values_declined_and_unknown_keys(store: Store) -> None:
    call = store.start_call("UTC")
    stamp = store.set_field(call.id, "insurer", "Aetna")
    store.set_field(call.id, "patient_ref", "JD-17")
    store.set_field(call.id, "insurer", "Cigna")  # latest value wins
    store.set_field(call.id, "reviewer_name", "", declined=True)
    assert is_aware_utc(stamp)

    loaded = store.load_call(call.id).call
    assert loaded.values == {"insurer": "Cigna", "patient_ref": "JD-17"}
    assert loaded.declined == {"reviewer_name"}
    assert raw_rows(
        store.path, "SELECT key, value, declined, late FROM call_field ORDER BY key"
    ) == [
        ("insurer", "Cigna", 0, 0),
        ("patient_ref", "JD-17", 0, 0),
        ("reviewer_name", "", 1, 0),
    ]

    with pytest.raises(StoreError, match="not a field"):
        store.set_field(call.id, "no_such_field", "x")
    with pytest.raises(StoreError, match="no call number 999"):
        store.set_field(999, "insurer", "x")
    assert raw_rows(store.path, "SELECT count(*) FROM call_field") == [(3,)]


def test_field_history_logs_only_changes(store: Store) -> None:
    call = store.start_call("UTC")
    store.set_field(call.id, "insurer", "Aetna", log=True)
    store.set_field(call.id, "insurer", "Aetna", log=True)  # unchanged: no new entry
    store.set_field(call.id, "insurer", "Aetna typing", log=False)  # not logged
    store.set_field(call.id, "insurer", "Cigna", log=True)
    store.set_field(call.id, "insurer", "Cigna", declined=True, log=True)  # declined changed
    store.set_field(call.id, "plan_type", "erisa", log=True)

    history = store.field_history(call.id, "insurer")
    assert [(value, declined, late) for value, declined, _, late in history] == [
        ("Aetna", False, False),
        ("Cigna", False, False),
        ("Cigna", True, False),
    ]
    times = [edited_at for _, _, edited_at, _ in history]
    assert all(is_aware_utc(t) for t in times)
    assert times == sorted(times)
    assert [h[0] for h in store.field_history(call.id, "plan_type")] == ["erisa"]
    assert store.field_history(call.id, "state") == []


def test_end_call_then_late_fields_and_notes(store: Store) -> None:
    call = store.start_call("UTC")
    store.set_field(call.id, "insurer", "Aetna", log=True)
    early = store.add_note(call.id, Section.A, NoteKind.NOTE, "during", utc_now())
    assert early.late is False

    before = utc_now()
    ended = store.end_call(call.id, Outcome.DENIED)
    assert is_aware_utc(ended.ended_at)
    assert ended.started_at is not None and ended.ended_at is not None
    assert ended.started_at <= ended.ended_at
    assert before <= ended.ended_at <= utc_now()
    assert ended.outcome is Outcome.DENIED
    assert ended.ended_at is not None
    assert ended.values == {"insurer": "Aetna"}

    store.set_field(call.id, "insurer", "Aetna Better Health", log=True)
    late = store.add_note(call.id, Section.E, NoteKind.COMMITMENT, "after", utc_now())
    assert late.late is True

    assert raw_rows(store.path, "SELECT key, value, late FROM call_field") == [
        ("insurer", "Aetna Better Health", 1)
    ]
    assert [(h[0], h[3]) for h in store.field_history(call.id, "insurer")] == [
        ("Aetna", False),
        ("Aetna Better Health", True),
    ]
    record = store.load_call(call.id)
    assert [(n.body, n.late) for n in record.notes] == [("during", False), ("after", True)]
    assert record.call.outcome is Outcome.DENIED
    assert record.call.ended_at == ended.ended_at

    # Ending again changes the outcome but keeps the first end time.
    again = store.end_call(call.id, Outcome.APPROVED)
    assert again.ended_at == ended.ended_at
    assert again.outcome is Outcome.APPROVED
    with pytest.raises(StoreError):
        store.end_call(999, Outcome.APPROVED)


def test_unfinished_and_recent_calls_newest_first(store: Store) -> None:
    first = store.start_call("UTC")
    second = store.start_call("UTC")
    third = store.start_call("UTC")
    fourth = store.start_call("UTC")
    store.set_field(first.id, "patient_ref", "AB")
    store.set_field(first.id, "insurer", "Aetna")
    store.set_field(second.id, "patient_ref", "CD")
    store.set_field(second.id, "review_type", "appeal")
    store.set_field(third.id, "insurer", "Cigna")
    for body in ("one", "two"):
        store.add_note(first.id, Section.A, NoteKind.NOTE, body, utc_now())
    store.add_note(second.id, Section.B, NoteKind.QUOTE, "three", utc_now())
    store.end_call(second.id, Outcome.PARTIAL)
    store.end_call(fourth.id, Outcome.PENDING)

    unfinished = store.unfinished_calls()
    assert [(s.id, s.patient_ref, s.insurer, s.note_count) for s in unfinished] == [
        (third.id, "", "Cigna", 0),
        (first.id, "AB", "Aetna", 2),
    ]
    assert all(s.ended_at is None and s.outcome is None for s in unfinished)

    recent = store.recent_calls()
    assert [(s.id, s.patient_ref, s.review_type, s.note_count, s.outcome) for s in recent] == [
        (fourth.id, "", "", 0, Outcome.PENDING),
        (second.id, "CD", "appeal", 1, Outcome.PARTIAL),
    ]
    assert all(is_aware_utc(s.ended_at) and is_aware_utc(s.created_at) for s in recent)
    assert [s.id for s in store.recent_calls(limit=1)] == [fourth.id]


# -- notes -----------------------------------------------------------------------------------

AWKWARD_BODIES = [
    "plain note",
    "emoji \U0001f9d1\u200d\u2695\ufe0f and flags \U0001f1fa\U0001f1f8",
    "combining: e\u0301 n\u0303 a\u0308\u0304 Z\u0337\u0335",
    "[bold]x[/bold] [@click=app.quit]",
    "escape \x1b[31mred\x1b[0m and NUL-free controls \x07\x08",
    "  leading and trailing whitespace kept \n second line\r\n",
    "x" * 1_000_000,
]


def test_add_note_keeps_bodies_exactly(store: Store) -> None:
    call = store.start_call("UTC")
    sections = list(Section)
    kinds = list(NoteKind)
    saved = []
    for index, body in enumerate(AWKWARD_BODIES):
        started = utc_now()
        note = store.add_note(
            call.id, sections[index % len(sections)], kinds[index % len(kinds)], body, started
        )
        saved.append(note)
        assert note.body == body
        assert note.call_id == call.id
        assert is_aware_utc(note.saved_at)
        assert note.started_at <= note.saved_at

    loaded = store.load_call(call.id).notes
    assert [n.id for n in loaded] == [n.id for n in saved]
    assert loaded == saved
    for index, note in enumerate(loaded):
        assert note.body == AWKWARD_BODIES[index]
        assert note.section is sections[index % len(sections)]
        assert note.kind is kinds[index % len(kinds)]
        assert is_aware_utc(note.started_at) and is_aware_utc(note.saved_at)
        assert note.started_at <= note.saved_at
    saved_times = [n.saved_at for n in loaded]
    assert saved_times == sorted(saved_times)  # non-decreasing in insertion order

    # What is on disk, read without SQLAlchemy.
    on_disk = raw_rows(store.path, "SELECT section, kind, body FROM note ORDER BY id")
    assert on_disk == [
        (sections[i % len(sections)].value, kinds[i % len(kinds)].value, body)
        for i, body in enumerate(AWKWARD_BODIES)
    ]


def test_add_note_refuses_empty_and_unknown_call(store: Store) -> None:
    call = store.start_call("UTC")
    for body in ("", "   ", "\n\t \n"):
        with pytest.raises(StoreError, match="empty"):
            store.add_note(call.id, Section.A, NoteKind.NOTE, body, utc_now())
    with pytest.raises(StoreError, match="no call number 31337"):
        store.add_note(31337, Section.A, NoteKind.NOTE, "lost?", utc_now())
    assert raw_rows(store.path, "SELECT count(*) FROM note") == [(0,)]


def test_add_note_drops_only_its_sections_draft(store: Store) -> None:
    call = store.start_call("UTC")
    other = store.start_call("UTC")
    started = utc_now()
    store.save_draft(call.id, Section.B, NoteKind.QUOTE, "half a quote", started)
    store.save_draft(call.id, Section.C, NoteKind.NOTE, "C draft", started)
    store.save_draft(other.id, Section.B, NoteKind.NOTE, "other call's B", started)

    store.add_note(call.id, Section.B, NoteKind.QUOTE, "the full quote", started)

    record = store.load_call(call.id)
    assert [(d.section, d.body) for d in record.drafts] == [(Section.C, "C draft")]
    assert [n.body for n in record.notes_in(Section.B)] == ["the full quote"]
    assert [(d.section, d.body) for d in store.load_call(other.id).drafts] == [
        (Section.B, "other call's B")
    ]


# -- drafts ----------------------------------------------------------------------------------


def test_save_draft_upserts_and_empty_deletes(store: Store) -> None:
    call = store.start_call("UTC")
    first_start = utc_now()
    store.save_draft(call.id, Section.A, NoteKind.NOTE, "dr", first_start)
    store.save_draft(call.id, Section.A, NoteKind.QUOTE, "draft text", utc_now())
    store.save_draft(call.id, Section.D, NoteKind.NOTE, "criterion?", utc_now())

    drafts = {d.section: d for d in store.load_call(call.id).drafts}
    assert set(drafts) == {Section.A, Section.D}
    assert drafts[Section.A].body == "draft text"
    assert drafts[Section.A].kind is NoteKind.QUOTE
    assert drafts[Section.A].started_at == first_start  # the first keystroke is kept
    assert drafts[Section.A].started_at <= drafts[Section.A].updated_at
    assert is_aware_utc(drafts[Section.A].updated_at)
    assert raw_rows(
        store.path, "SELECT section, count(*) FROM draft GROUP BY section ORDER BY section"
    ) == [("A", 1), ("D", 1)]

    store.save_draft(call.id, Section.A, NoteKind.QUOTE, "", utc_now())
    assert [d.section for d in store.load_call(call.id).drafts] == [Section.D]
    assert raw_rows(store.path, "SELECT section, body FROM draft") == [("D", "criterion?")]


# -- UTCDateTime -----------------------------------------------------------------------------


def test_utcdatetime_refuses_naive_values(store: Store) -> None:
    kind = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        kind.process_bind_param(datetime(2026, 3, 1, 12, 0), None)

    call = store.start_call("UTC")
    naive = datetime(2026, 3, 1, 12, 0)
    for attempt in (
        lambda: store.add_note(call.id, Section.A, NoteKind.NOTE, "text", naive),
        lambda: store.save_draft(call.id, Section.A, NoteKind.NOTE, "text", naive),
    ):
        with pytest.raises(Exception) as caught:
            attempt()
        error = caught.value
        assert isinstance(error, ValueError) or isinstance(
            getattr(error, "orig", None) or error.__cause__, ValueError
        ), repr(error)
        assert "naive" in str(error)
    assert raw_rows(store.path, "SELECT count(*) FROM note") == [(0,)]
    assert raw_rows(store.path, "SELECT count(*) FROM draft") == [(0,)]


def test_utcdatetime_stores_fixed_width_utc_text(store: Store) -> None:
    kind = UTCDateTime()
    assert (
        kind.process_bind_param(datetime(2026, 3, 8, 1, 2, 3, tzinfo=UTC), None)
        == "2026-03-08T01:02:03.000000Z"
    )
    minus_five = timezone(timedelta(hours=-5))
    assert (
        kind.process_bind_param(datetime(2026, 12, 31, 21, 30, 0, 7, tzinfo=minus_five), None)
        == "2027-01-01T02:30:00.000007Z"
    )
    parsed = kind.process_result_value("2027-01-01T02:30:00.000007Z", None)
    assert parsed == datetime(2027, 1, 1, 2, 30, 0, 7, tzinfo=UTC)
    assert is_aware_utc(parsed)

    call = store.start_call("UTC")
    local_start = datetime(2026, 11, 23, 9, 15, 0, 500, tzinfo=minus_five)
    note = store.add_note(call.id, Section.A, NoteKind.NOTE, "n", local_start)
    store.end_call(call.id, Outcome.APPROVED)

    (created, started, ended), *_ = raw_rows(
        store.path, "SELECT created_at, started_at, ended_at FROM call"
    )
    (note_started, note_saved), *_ = raw_rows(store.path, "SELECT started_at, saved_at FROM note")
    for value in (created, started, ended, note_started, note_saved):
        assert isinstance(value, str) and len(value) == 27 and STAMP_RE.match(value), value
    assert note_started == "2026-11-23T14:15:00.000500Z"
    loaded = store.load_call(call.id).notes[0]
    assert loaded.started_at == local_start == note.started_at
    assert is_aware_utc(loaded.started_at)


# -- restart and integrity --------------------------------------------------------------------


def _snapshot(store: Store, call_ids: list[int]) -> tuple:
    records: list[CallRecord] = [store.load_call(i) for i in call_ids]
    histories = [store.field_history(i, "insurer") for i in call_ids]
    return records, histories, store.unfinished_calls(), store.recent_calls()


def test_reopen_returns_identical_records(store_dir: Path) -> None:
    first = Store.open(store_dir)
    a = first.start_call("America/Chicago")
    b = first.start_call("UTC")
    first.set_field(a.id, "insurer", "Aetna", log=True)
    first.set_field(a.id, "patient_ref", "AB")
    first.set_field(a.id, "reviewer_name", "", declined=True)
    first.add_note(a.id, Section.A, NoteKind.NOTE, "first \U0001f600", utc_now())
    first.add_note(a.id, Section.F, NoteKind.COMMITMENT, "will fax", utc_now())
    first.save_draft(a.id, Section.G, NoteKind.NOTE, "unsent", utc_now())
    first.add_note(b.id, Section.B, NoteKind.QUOTE, "quoted", utc_now())
    first.end_call(b.id, Outcome.EDUCATIONAL)
    first.set_field(b.id, "insurer", "Late Insurer", log=True)
    before = _snapshot(first, [a.id, b.id])
    first.close()

    second = Store.open(store_dir)
    try:
        after = _snapshot(second, [a.id, b.id])
    finally:
        second.close()
    assert after == before
    records = after[0]
    assert records[0].call.tz == "America/Chicago"
    assert [n.body for n in records[0].notes] == ["first \U0001f600", "will fax"]
    assert [d.body for d in records[0].drafts] == ["unsent"]
    assert records[1].call.outcome is Outcome.EDUCATIONAL


def test_integrity_check_ok(store: Store) -> None:
    call = store.start_call("UTC")
    store.add_note(call.id, Section.A, NoteKind.NOTE, "n", utc_now())
    assert store.integrity_check() == "ok"


def test_another_programs_sqlite_database_is_refused_untouched(data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    path = data_dir / "p2pcall.sqlite3"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE recipes (name TEXT)")
    other.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="another program"):
        Store.open(data_dir)
    assert path.read_bytes() == before


def test_draft_for_an_unknown_call_is_refused_clearly(data_dir: Path) -> None:
    store = Store.open(data_dir)
    try:
        with pytest.raises(StoreError, match="no call number 99"):
            store.save_draft(99, Section.A, NoteKind.NOTE, "x", now_utc())
    finally:
        store.close()
