"""The outbox file (p2pcall.outbox) and the store's idempotency key, on real files.

The outbox keeps every note from Enter until the database has it; the key makes a note
sent twice (its first commit's answer lost) a single row. No mocks: real SQLite files.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import Database
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.outbox import OUTBOX_NAME, Outbox, OutboxError, OutboxNote
from p2pcall.store import Store, StoreError
from p2pcall.store.opening import open_store
from p2pcall.store.store import ADDENDUM_NEEDS_REASON, FINALIZED_BEFORE_SENT

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def a_note(call_id: int, body: str, *, key: str | None = None, minutes_ago: int = 0) -> OutboxNote:
    at = now_utc() - timedelta(minutes=minutes_ago)
    return OutboxNote(
        key or str(uuid.uuid4()), call_id, Section.C, NoteKind.QUOTE, body, at, at, ""
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    opened = Outbox.open(tmp_path)
    assert opened is not None
    try:
        yield opened
    finally:
        opened.close()


# -- the outbox file ----------------------------------------------------------------------


def test_notes_come_back_in_typing_order_with_their_times(outbox: Outbox) -> None:
    typed = [a_note(7, "first"), a_note(3, "second, another call"), a_note(7, "third")]
    for note in typed:
        outbox.put(note)
    back = outbox.pending()
    assert [n.body for n in back] == ["first", "second, another call", "third"]
    assert [n.key for n in back] == [n.key for n in typed]
    assert [(n.started_at, n.entered_at) for n in back] == [
        (n.started_at, n.entered_at) for n in typed
    ]
    assert all(n.entered_at.utcoffset() == timedelta(0) for n in back)  # aware UTC
    assert back[0].seq < back[1].seq < back[2].seq
    assert (back[1].section, back[1].kind, back[1].call_id) == (Section.C, NoteKind.QUOTE, 3)
    assert outbox.count() == 3


def test_the_same_key_put_twice_is_kept_once_and_removed_once(outbox: Outbox) -> None:
    note = a_note(1, "said twice")
    outbox.put(note)
    outbox.put(note)
    assert outbox.count() == 1
    outbox.note_error(note.key, "The database is locked.")
    assert outbox.pending()[0].last_error == "The database is locked."
    outbox.remove(note.key)
    outbox.remove(note.key)  # a second remove of a sent note changes nothing
    assert outbox.pending() == []


def test_what_was_put_is_on_disk_for_a_second_reader(tmp_path: Path, outbox: Outbox) -> None:
    outbox.put(a_note(1, "on disk"))
    other = Outbox.open(tmp_path, create=False)
    assert other is not None
    try:
        assert [n.body for n in other.pending()] == ["on disk"]
    finally:
        other.close()
    db = sqlite3.connect(tmp_path / OUTBOX_NAME)
    try:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
    finally:
        db.close()


def test_the_outbox_file_is_owner_only_even_under_umask_zero(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        opened = Outbox.open(tmp_path)
    finally:
        os.umask(old)
    assert opened is not None
    opened.put(a_note(1, "private"))
    opened.close()
    path = tmp_path / OUTBOX_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # loosened by someone: tightened on the next open
    Outbox.open(tmp_path).close()  # type: ignore[union-attr]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reading_only_creates_nothing(tmp_path: Path) -> None:
    assert Outbox.open(tmp_path, create=False) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "dangling-symlink"])
def test_a_special_file_at_the_outbox_path_is_refused_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / OUTBOX_NAME
    target = tmp_path / "elsewhere.sqlite3"
    if kind == "symlink":
        Outbox.open(tmp_path).close()  # type: ignore[union-attr]
        path.rename(target)
        path.symlink_to(target)
    elif kind == "dangling-symlink":
        path.symlink_to(target)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    for create in (True, False):
        with pytest.raises(OutboxError) as raised:
            Outbox.open(tmp_path, create=create)
        message = str(raised.value)
        assert str(path) in message and "move it aside" in message.lower(), message
    assert os.path.lexists(path)
    if kind == "dangling-symlink":
        assert not target.exists()  # never created through the link


def test_a_device_at_the_outbox_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / OUTBOX_NAME
    if IS_ROOT:  # a real character device (the null device's numbers)
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected = "not a regular file"
    else:  # only root may make a device node: a link to one is refused before it is followed
        path.symlink_to("/dev/null")
        expected = "symbolic link"
    with pytest.raises(OutboxError, match=expected):
        Outbox.open(tmp_path)


@pytest.mark.parametrize("damage", ["not-sqlite", "torn-pages", "foreign-table", "bad-row"])
def test_a_damaged_outbox_is_a_clear_error_never_an_empty_one(tmp_path: Path, damage: str) -> None:
    path = tmp_path / OUTBOX_NAME
    if damage == "not-sqlite":
        path.write_bytes(b"this is no database\n" * 300)
    elif damage == "foreign-table":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE something (x)")
        db.commit()
        db.close()
    else:
        opened = Outbox.open(tmp_path)
        assert opened is not None
        for n in range(200):
            opened.put(a_note(1, f"kept {n} " + "x" * 300))
        opened.close()
        if damage == "torn-pages":
            with path.open("r+b") as f:
                f.seek(2 * 4096)
                f.write(b"\xa5" * 8 * 4096)
        else:
            db = sqlite3.connect(path)
            db.execute("UPDATE outbox_note SET section = 'Z' WHERE seq = 5")
            db.commit()
            db.close()
    before = path.read_bytes()
    with pytest.raises(OutboxError) as raised:
        opened = Outbox.open(tmp_path)
        assert opened is not None
        opened.pending()
    message = str(raised.value)
    assert str(path) in message
    assert "note" not in message.split(str(path))[0]  # no note text, only the file
    assert "kept" not in message and "xxx" not in message
    assert path.read_bytes() == before  # nothing sent, nothing removed


# -- the store's idempotency key and Enter time ----------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "records")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def either(tmp_path: Path, database: Database) -> Iterator[Store]:
    """The store on each database: the server's add_note is a statement of its own."""
    opened = open_store(tmp_path / "records")
    try:
        yield opened
    finally:
        opened.close()


def _rows(store: Store) -> list[tuple[object, ...]]:
    """The note rows as the database holds them (plain SQL, not the store's reads)."""
    with store.reading() as db:
        rows = db.execute("SELECT id, body, client_key, saved_at FROM note ORDER BY id")
        return [tuple(row) for row in rows.fetchall()]


def test_a_note_sent_twice_with_its_key_is_stored_once(either: Store) -> None:
    call = either.start_call("UTC")
    note = a_note(call.id, "reviewer agrees to peer review", minutes_ago=2)
    args = (note.call_id, note.section, note.kind, note.body, note.started_at)
    first = either.add_note(*args, key=note.key, entered_at=note.entered_at)
    again = either.add_note(*args, key=note.key, entered_at=note.entered_at)
    assert again == first
    assert [(body, key) for _id, body, key, _at in _rows(either)] == [(note.body, note.key)]
    assert first.saved_at == note.entered_at  # the moment Enter was pressed
    either.add_note(*args)  # without a key: a second note, as before
    assert [key for _i, _b, key, _a in _rows(either)] == [note.key, None]


def test_a_note_typed_during_the_call_and_sent_after_it_is_not_late(either: Store) -> None:
    call = either.start_call("UTC")
    during = a_note(call.id, "typed during the call", minutes_ago=1)
    either.end_call(call.id, Outcome.APPROVED)
    sent = either.add_note(
        call.id, during.section, during.kind, during.body, during.started_at,
        key=during.key, entered_at=during.entered_at,
    )  # fmt: skip
    after = either.add_note(
        call.id, Section.G, NoteKind.NOTE, "typed after", now_utc(),
        key=str(uuid.uuid4()), entered_at=now_utc(),
    )  # fmt: skip
    plain = either.add_note(call.id, Section.G, NoteKind.NOTE, "no key", now_utc())
    assert (sent.late, after.late, plain.late) == (False, True, True)


def test_a_note_typed_before_finalizing_is_refused_and_said_so(either: Store) -> None:
    call = either.start_call("UTC")
    kept = a_note(call.id, "typed before the record was finalized", minutes_ago=1)
    either.end_call(call.id, Outcome.APPROVED)
    either.finalize_call(call.id)
    with pytest.raises(StoreError) as raised:
        either.add_note(
            call.id, kept.section, kept.kind, kept.body, kept.started_at,
            key=kept.key, entered_at=kept.entered_at, reason="late",
        )  # fmt: skip
    assert str(raised.value) == FINALIZED_BEFORE_SENT
    assert _rows(either) == []


def test_a_committed_note_is_answered_even_after_its_call_was_finalized(either: Store) -> None:
    """Its commit went through before finalizing; only the answer was lost."""
    call = either.start_call("UTC")
    note = a_note(call.id, "committed, answer lost")
    args = (note.call_id, note.section, note.kind, note.body, note.started_at)
    first = either.add_note(*args, key=note.key, entered_at=note.entered_at)
    either.end_call(call.id, Outcome.APPROVED)
    either.finalize_call(call.id)
    assert either.add_note(*args, key=note.key, entered_at=note.entered_at) == first


def test_a_key_of_another_call_is_refused(either: Store) -> None:
    one, two = either.start_call("UTC"), either.start_call("UTC")
    key = str(uuid.uuid4())
    either.add_note(one.id, Section.A, NoteKind.NOTE, "first", now_utc(), key=key)
    with pytest.raises(StoreError, match="another call"):
        either.add_note(two.id, Section.A, NoteKind.NOTE, "second", now_utc(), key=key)


def test_a_naive_enter_time_is_refused(either: Store) -> None:
    call = either.start_call("UTC")
    with pytest.raises(StoreError, match="time zone"):
        either.add_note(
            call.id, Section.A, NoteKind.NOTE, "x", now_utc(),
            key=str(uuid.uuid4()), entered_at=now_utc().replace(tzinfo=None),
        )  # fmt: skip


def test_the_draft_of_the_note_itself_goes_even_if_written_after_enter(either: Store) -> None:
    """A draft job queued before Enter may run after it: begun before Enter, it is this
    note's own text, and leaving it would bring it back as a recovered draft."""
    call = either.start_call("UTC")
    note = a_note(call.id, "the note's own text", minutes_ago=1)
    either.save_draft(call.id, note.section, note.kind, note.body, note.started_at)
    either.add_note(
        call.id, note.section, note.kind, note.body, note.started_at,
        key=note.key, entered_at=note.entered_at,
    )  # fmt: skip
    assert either.load_call(call.id).drafts == []


def test_a_draft_typed_after_enter_is_kept_when_the_note_arrives_late(either: Store) -> None:
    call = either.start_call("UTC")
    note = a_note(call.id, "sent from the outbox", minutes_ago=1)
    either.save_draft(call.id, note.section, NoteKind.NOTE, "typed since", now_utc())
    either.add_note(
        call.id, note.section, note.kind, note.body, note.started_at,
        key=note.key, entered_at=note.entered_at,
    )  # fmt: skip
    assert [d.body for d in either.load_call(call.id).drafts] == ["typed since"]
    either.add_note(call.id, note.section, NoteKind.NOTE, "typed since", now_utc())
    assert either.load_call(call.id).drafts == []  # a note saved at Enter drops it, as before


def test_an_addendum_typed_after_finalizing_is_late_and_needs_its_reason(either: Store) -> None:
    call = either.start_call("UTC")
    either.end_call(call.id, Outcome.APPROVED)
    either.finalize_call(call.id)
    typed = a_note(call.id, "the reviewer called back")
    args = (call.id, typed.section, typed.kind, typed.body, typed.started_at)
    with pytest.raises(StoreError) as raised:
        either.add_note(*args, key=typed.key, entered_at=now_utc(), reason="  ")
    assert str(raised.value) == ADDENDUM_NEEDS_REASON
    added = either.add_note(*args, key=typed.key, entered_at=now_utc(), reason=" call back ")
    assert (added.late, added.reason) == (True, "call back")
    assert either.add_note(*args, key=typed.key, entered_at=now_utc(), reason="x") == added
    assert [(body, key) for _i, body, key, _a in _rows(either)] == [(typed.body, typed.key)]


def test_a_note_for_a_call_that_is_not_there_is_refused(either: Store) -> None:
    with pytest.raises(StoreError, match="no call number 404"):
        either.add_note(404, Section.A, NoteKind.NOTE, "x", now_utc(), key=str(uuid.uuid4()))
    assert _rows(either) == []


def test_the_key_cannot_be_used_to_replace_or_change_a_note(store: Store) -> None:
    """The unique key must not open a way around the append-only guards (REPLACE deletes
    the row it collides with without firing DELETE triggers)."""
    call = store.start_call("UTC")
    key = str(uuid.uuid4())
    store.add_note(call.id, Section.A, NoteKind.NOTE, "the original", now_utc(), key=key)
    db = sqlite3.connect(store.path)
    try:
        for sql in (
            "INSERT OR REPLACE INTO note (call_id, section, kind, body, started_at, saved_at, "
            "client_key) SELECT call_id, section, kind, 'forged', started_at, saved_at, "
            "client_key FROM note",
            "REPLACE INTO note (call_id, section, kind, body, started_at, saved_at, client_key) "
            "SELECT call_id, section, kind, 'forged', started_at, saved_at, client_key FROM note",
            "UPDATE note SET client_key = NULL",
            "UPDATE OR REPLACE note SET body = 'forged'",
            "DELETE FROM note",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="p2pcall record"):
                db.execute(sql)
    finally:
        db.close()
    assert [(body, k) for _i, body, k, _a in _rows(store)] == [("the original", key)]


# -- schema step v7 on a real v6 file ------------------------------------------------------


def _check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_v6_database_is_upgraded_to_keys_with_its_record_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from p2pcall.store import schema

    data = tmp_path / "records"
    with monkeypatch.context() as patch:  # the schema as version 6 shipped it
        patch.setattr(schema, "STEPS", schema.STEPS[:6])
        patch.setattr(schema, "CURRENT_VERSION", 6)
        old = Store.open(data)
        done = old.start_call("America/Chicago")
        old.add_note(done.id, Section.B, NoteKind.QUOTE, "not medically necessary", now_utc())
        old.end_call(done.id, Outcome.DENIED)
        head = old.finalize_call(done.id).chain_head
        live = old.start_call("America/Chicago")
        old.add_note(live.id, Section.A, NoteKind.NOTE, "before the upgrade", now_utc())
        old.close()
        assert _check(data).returncode == 0  # a v6 file is checked against v6's schema
    path = data / "p2pcall.sqlite3"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (6,)
    assert "client_key" not in [row[1] for row in db.execute("PRAGMA table_info(note)")]
    db.close()

    store = Store.open(data)  # the upgrade
    try:
        assert store.chain_inputs(done.id).head() == head
        note = a_note(live.id, "after the upgrade")
        args = (live.id, note.section, note.kind, note.body, note.started_at)
        first = store.add_note(*args, key=note.key, entered_at=note.entered_at)
        assert store.add_note(*args, key=note.key, entered_at=note.entered_at) == first
        assert store.chain_inputs(done.id).head() == head
    finally:
        store.close()
    assert [(body, key) for _i, body, key, _a in _rows(store)] == [
        ("not medically necessary", None),
        ("before the upgrade", None),
        ("after the upgrade", note.key),
    ]
    [backup] = data.glob(f"{schema.BACKUP_PREFIX}7-*.sqlite3")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA user_version").fetchone() == (6,)
    upgraded = _check(data)
    assert upgraded.returncode == 0 and upgraded.stdout.startswith("ok: "), upgraded.stdout
    fresh = tmp_path / "fresh"
    Store.open(fresh).close()
    assert _check(fresh).returncode == 0
    new_schema = sqlite3.connect(fresh / "p2pcall.sqlite3")
    old_schema = sqlite3.connect(path)
    try:
        query = (
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 2"
        )
        assert old_schema.execute(query).fetchall() == new_schema.execute(query).fetchall()
    finally:
        new_schema.close()
        old_schema.close()
