"""Finalize, corrections, addenda and the hash chain, against real SQLite files.

The triggers are checked through a plain sqlite3 connection, outside the store: the database
itself must refuse, whatever program writes to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import Database
from p2pcall.domain import chain
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store import Store, StoreError
from p2pcall.store.opening import open_store


@pytest.fixture
def store(tmp_path: Path, database: Database) -> Iterator[Store]:
    opened = open_store(tmp_path / "records")
    try:
        yield opened
    finally:
        opened.close()


def raw(store: Store) -> sqlite3.Connection:
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def ended_call(store: Store) -> int:
    """A call with fields, field history, notes and a correction, ended but not finalized."""
    call = store.start_call("America/New_York")
    store.set_field(call.id, "patient_ref", "JD-1", log=True)
    store.set_field(call.id, "reviewer_name", "", declined=True, log=True)
    first = store.add_note(call.id, Section.A, NoteKind.NOTE, "pt 34 y/o", now_utc())
    store.add_note(call.id, Section.D, NoteKind.QUOTE, "LOCUS level 3 not met", now_utc())
    store.correct_note(first.id, "pt 43 y/o")
    store.end_call(call.id, Outcome.DENIED)
    return call.id


def finalized_call(store: Store) -> int:
    call_id = ended_call(store)
    store.finalize_call(call_id)
    return call_id


# -- finalize ----------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_finalize_stamps_time_and_head_in_the_database(store: Store) -> None:
    call_id = ended_call(store)
    before = now_utc()
    call = store.finalize_call(call_id)
    assert call.finalized and call.finalized_at is not None
    assert before <= call.finalized_at <= now_utc()
    assert call.chain_head is not None and len(call.chain_head) == 64
    int(call.chain_head, 16)
    conn = raw(store)
    assert conn.execute("SELECT chain_head FROM call WHERE id = ?", (call_id,)).fetchone() == (
        call.chain_head,
    )
    reloaded = store.load_call(call_id).call
    assert (reloaded.finalized_at, reloaded.chain_head) == (call.finalized_at, call.chain_head)


def test_finalize_twice_is_a_no_op(store: Store) -> None:
    call_id = ended_call(store)
    first = store.finalize_call(call_id)
    again = store.finalize_call(call_id)
    assert (again.finalized_at, again.chain_head) == (first.finalized_at, first.chain_head)


@pytest.mark.sqlite_only
def test_finalize_refuses_a_call_still_in_progress(store: Store) -> None:
    call = store.start_call("UTC")
    with pytest.raises(StoreError, match="End the call"):
        store.finalize_call(call.id)
    assert store.load_call(call.id).call.finalized_at is None
    conn = raw(store)
    with pytest.raises(sqlite3.IntegrityError, match="only an ended call"):
        conn.execute(
            "UPDATE call SET finalized_at = '2026-01-01T00:00:00.000000Z', chain_head = ?"
            " WHERE id = ?",
            ("0" * 64, call.id),
        )


def test_finalize_refuses_an_unknown_call(store: Store) -> None:
    with pytest.raises(StoreError, match="no call number 99"):
        store.finalize_call(99)


@pytest.mark.sqlite_only
def test_database_refuses_finalizing_without_a_head(store: Store) -> None:
    call = store.start_call("UTC")
    store.end_call(call.id, Outcome.APPROVED)
    with pytest.raises(sqlite3.IntegrityError, match="chain head"):
        raw(store).execute(
            "UPDATE call SET finalized_at = '2030-01-01T00:00:00.000000Z' WHERE id = ?",
            (call.id,),
        )


# -- the database refuses changes ---------------------------------------------------------------

AFTER_FINALIZE = [
    "UPDATE call SET outcome = 'approved' WHERE id = :id",
    "UPDATE call SET started_at = '2020-01-01T00:00:00.000000Z' WHERE id = :id",
    "UPDATE call SET ended_at = NULL WHERE id = :id",
    "UPDATE call SET finalized_at = NULL WHERE id = :id",
    "UPDATE call SET chain_head = NULL WHERE id = :id",
    "UPDATE call SET tz = 'UTC' WHERE id = :id",
    "DELETE FROM call WHERE id = :id",
    "UPDATE call_field SET value = 'XX-9' WHERE call_id = :id",
    "UPDATE call_field SET declined = 0 WHERE call_id = :id",
    "DELETE FROM call_field WHERE call_id = :id",
    "INSERT INTO call_field (call_id, key, value, declined, updated_at, late)"
    " VALUES (:id, 'insurer', 'Acme', 0, '2099-01-01T00:00:00.000000Z', 1)",
    "INSERT INTO field_edit (call_id, key, value, declined, edited_at, late)"
    " VALUES (:id, 'insurer', 'Acme', 0, '2099-01-01T00:00:00.000000Z', 1)",
    "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late)"
    " VALUES (:id, 'A', 'note', 'no reason', '2099-01-01T00:00:00.000000Z',"
    " '2099-01-01T00:00:00.000000Z', 1)",
    "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason)"
    " VALUES (:id, 'A', 'note', 'blank reason', '2099-01-01T00:00:00.000000Z',"
    " '2099-01-01T00:00:00.000000Z', 1, ' \n\t ')",
    "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason)"
    " VALUES (:id, 'A', 'note', 'not late', '2099-01-01T00:00:00.000000Z',"
    " '2099-01-01T00:00:00.000000Z', 0, 'why')",
    "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason)"
    " VALUES (:id, 'A', 'note', 'backdated', '2000-01-01T00:00:00.000000Z',"
    " '2000-01-01T00:00:00.000000Z', 1, 'why')",
    "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason,"
    " corrects_id) SELECT call_id, section, kind, 'fix', '2099-01-01T00:00:00.000000Z',"
    " '2099-01-01T00:00:00.000000Z', 1, 'why', id FROM note WHERE call_id = :id LIMIT 1",
]
ALWAYS = [
    "UPDATE note SET body = 'changed' WHERE call_id = :id",
    "UPDATE note SET late = 0 WHERE call_id = :id",
    "DELETE FROM note WHERE call_id = :id",
    "UPDATE field_edit SET value = 'changed' WHERE call_id = :id",
    "DELETE FROM field_edit WHERE call_id = :id",
]


def _dump(conn: sqlite3.Connection, call_id: int) -> list[list[tuple]]:
    return [
        conn.execute(f"SELECT * FROM {table} WHERE {key} = ? ORDER BY 1, 2", (call_id,)).fetchall()
        for table, key in (
            ("call", "id"),
            ("call_field", "call_id"),
            ("field_edit", "call_id"),
            ("note", "call_id"),
        )
    ]


@pytest.mark.parametrize("statement", AFTER_FINALIZE + ALWAYS)
@pytest.mark.sqlite_only
def test_database_refuses_changes_after_finalize(store: Store, statement: str) -> None:
    call_id = finalized_call(store)
    conn = raw(store)
    before = _dump(conn, call_id)
    with pytest.raises(sqlite3.IntegrityError, match="p2pcall record: "):
        conn.execute(statement, {"id": call_id})
    assert _dump(conn, call_id) == before
    assert store.recompute_head(call_id) == store.load_call(call_id).call.chain_head


@pytest.mark.parametrize("statement", ALWAYS)
@pytest.mark.sqlite_only
def test_notes_and_field_history_are_append_only_before_finalize(
    store: Store, statement: str
) -> None:
    call_id = ended_call(store)
    conn = raw(store)
    before = _dump(conn, call_id)
    with pytest.raises(sqlite3.IntegrityError, match="never"):
        conn.execute(statement, {"id": call_id})
    assert _dump(conn, call_id) == before


def test_before_finalize_fields_and_call_can_still_change(store: Store) -> None:
    call_id = ended_call(store)
    store.set_field(call_id, "patient_ref", "JD-2", log=True)
    store.end_call(call_id, Outcome.PARTIAL)
    call = store.load_call(call_id).call
    assert call.value("patient_ref") == "JD-2"
    assert call.outcome is Outcome.PARTIAL


def test_store_refuses_field_changes_after_finalize_with_a_clear_message(store: Store) -> None:
    call_id = finalized_call(store)
    with pytest.raises(StoreError, match="finalized: its fields cannot be changed"):
        store.set_field(call_id, "patient_ref", "XX", log=True)
    with pytest.raises(StoreError, match="finalized and cannot be changed"):
        store.end_call(call_id, Outcome.APPROVED)
    assert store.load_call(call_id).call.value("patient_ref") == "JD-1"


# -- corrections ---------------------------------------------------------------------------------


def test_correction_is_a_new_note_and_keeps_the_original(store: Store) -> None:
    call = store.start_call("UTC")
    original = store.add_note(call.id, Section.C, NoteKind.QUOTE, "IOP 3x/wk", now_utc())
    fixed = store.correct_note(original.id, "IOP 5x/wk")
    assert fixed.id != original.id
    assert (fixed.corrects, fixed.section, fixed.kind) == (original.id, Section.C, NoteKind.QUOTE)
    notes = store.load_call(call.id).notes
    assert [(n.body, n.corrects) for n in notes] == [
        ("IOP 3x/wk", None),
        ("IOP 5x/wk", original.id),
    ]
    assert not fixed.late


def test_correction_after_the_call_ended_is_late(store: Store) -> None:
    call = store.start_call("UTC")
    original = store.add_note(call.id, Section.C, NoteKind.NOTE, "tpyo", now_utc())
    store.end_call(call.id, Outcome.PENDING)
    fixed = store.correct_note(original.id, "typo")
    assert fixed.late and fixed.corrects == original.id


def test_correction_refusals(store: Store) -> None:
    call = store.start_call("UTC")
    note = store.add_note(call.id, Section.A, NoteKind.NOTE, "same", now_utc())
    with pytest.raises(StoreError, match="same as the note"):
        store.correct_note(note.id, "same")
    with pytest.raises(StoreError, match="empty correction"):
        store.correct_note(note.id, "  ")
    with pytest.raises(StoreError, match="no note number"):
        store.correct_note(999, "x")
    other = store.start_call("UTC")
    with pytest.raises(StoreError, match="same call"):
        store.add_note(other.id, Section.A, NoteKind.NOTE, "x", now_utc(), corrects=note.id)


def test_correction_after_finalize_is_refused_suggesting_an_addendum(store: Store) -> None:
    call_id = finalized_call(store)
    note = store.load_call(call_id).notes[0]
    with pytest.raises(StoreError, match="Add an addendum"):
        store.correct_note(note.id, "too late")
    with pytest.raises(StoreError, match="corrections are refused; add an addendum"):
        store.add_note(
            call_id, Section.A, NoteKind.NOTE, "x", now_utc(), reason="why", corrects=note.id
        )


# -- addenda -------------------------------------------------------------------------------------


def test_addendum_needs_a_reason(store: Store) -> None:
    call_id = finalized_call(store)
    count = len(store.load_call(call_id).notes)
    for reason in ("", "   ", "\n\t"):
        with pytest.raises(StoreError, match="addendum and needs a reason"):
            store.add_note(
                call_id, Section.G, NoteKind.NOTE, "letter came", now_utc(), reason=reason
            )
    assert len(store.load_call(call_id).notes) == count


def test_addendum_with_reason_is_late_and_outside_the_finalized_head(store: Store) -> None:
    call_id = finalized_call(store)
    head = store.load_call(call_id).call.chain_head
    note = store.add_note(
        call_id,
        Section.G,
        NoteKind.COMMITMENT,
        "denial letter received",
        now_utc(),
        reason=" mail arrived today ",
    )
    assert note.late and note.reason == "mail arrived today"
    record = store.load_call(call_id)
    assert record.notes[-1] == note
    assert store.recompute_head(call_id) == head
    finalized_at = record.call.finalized_at
    assert finalized_at is not None
    assert chain.addenda(record.notes, finalized_at) == [note]
    assert chain.extend(head or "", [note]) != head


# -- the chain -----------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_head_is_stable_across_reopen(tmp_path: Path) -> None:
    first = open_store(tmp_path / "records")
    call_id = finalized_call(first)
    head = first.load_call(call_id).call.chain_head
    first.close()
    second = open_store(tmp_path / "records")
    try:
        assert second.recompute_head(call_id) == head
        assert second.chain_inputs(call_id).head() == head
    finally:
        second.close()


@pytest.mark.sqlite_only
def test_head_is_none_before_finalize(store: Store) -> None:
    assert store.recompute_head(ended_call(store)) is None


def _tamper(store: Store, sql: str, *params: object) -> None:
    """What someone editing the file would do: drop the guard, change, put the guard back."""
    conn = raw(store)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'record_%'"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql, params)
    for _, create in triggers:
        conn.execute(create)
    conn.execute("COMMIT")
    conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE note SET body = 'pt 43 y/o ' WHERE body = 'pt 43 y/o'",
        "UPDATE note SET body = 'pt 34 y/o.' WHERE body = 'pt 34 y/o'",
        "UPDATE note SET kind = 'note' WHERE kind = 'quote'",
        "UPDATE note SET section = 'E' WHERE section = 'D'",
        "UPDATE note SET saved_at = replace(saved_at, 'Z', 'Z') || '' WHERE 0",  # control: no-op
        "UPDATE note SET late = 1 WHERE corrects_id IS NOT NULL",
        "UPDATE note SET reason = 'x' WHERE corrects_id IS NOT NULL",
        "UPDATE note SET corrects_id = NULL WHERE corrects_id IS NOT NULL",
        "UPDATE note SET started_at = '2000-01-01T00:00:00.000000Z' WHERE id = 1",
        "DELETE FROM note WHERE kind = 'quote'",
        "UPDATE call_field SET value = 'JD-9' WHERE key = 'patient_ref'",
        "UPDATE call_field SET declined = 0 WHERE key = 'reviewer_name'",
        "UPDATE field_edit SET value = 'JD-9' WHERE key = 'patient_ref'",
        "UPDATE call SET outcome = 'approved'",
        "UPDATE call SET tz = 'UTC'",
    ],
)
@pytest.mark.sqlite_only
def test_head_changes_when_the_record_is_rewritten(store: Store, sql: str) -> None:
    call_id = finalized_call(store)
    head = store.load_call(call_id).call.chain_head
    _tamper(store, sql)
    recomputed = store.recompute_head(call_id)
    if "WHERE 0" in sql:
        assert recomputed == head
    else:
        assert recomputed != head


def test_any_single_character_of_any_note_changes_the_head(store: Store) -> None:
    call_id = finalized_call(store)
    inputs = store.chain_inputs(call_id)
    head = inputs.head()
    for index, note in enumerate(inputs.notes):
        for position in range(len(note.body)):
            body = (
                note.body[:position] + chr(ord(note.body[position]) ^ 1) + note.body[position + 1 :]
            )
            notes = list(inputs.notes)
            notes[index] = replace(note, body=body)
            changed = chain.chain_head(inputs.call, inputs.fields, inputs.history, notes)
            assert changed != head, (index, position)
