"""On a practice server the unsent text of note fields stays on this computer (drafts.sqlite3):
kept while the server is down, offered back with the call, dropped when the note is saved."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import pg_cluster as pgc
from conftest import Database
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.store import StoreError
from p2pcall.store.opening import open_store

pytestmark = pytest.mark.server_only


def test_a_draft_is_kept_on_this_computer_and_dropped_with_its_note(
    database: Database, data_dir: Path
) -> None:
    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        store.save_draft(call.id, Section.B, NoteKind.NOTE, "half a sentence", now_utc())
        path = data_dir / "drafts.sqlite3"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        drafts = store.load_call(call.id).drafts
        assert [(d.section, d.body) for d in drafts] == [(Section.B, "half a sentence")]
        store.add_note(call.id, Section.B, NoteKind.NOTE, "half a sentence, whole", now_utc())
        assert store.load_call(call.id).drafts == []
    finally:
        store.close()


def test_drafts_are_kept_while_the_server_is_down(
    database: Database, data_dir: Path, pg_cluster: pgc.PgCluster
) -> None:
    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        pg_cluster.stop_immediately()
        try:
            store.save_draft(call.id, Section.C, NoteKind.QUOTE, "typed offline", now_utc())
        finally:
            pg_cluster.start_again()
        assert [d.body for d in store.load_call(call.id).drafts] == ["typed offline"]
    finally:
        store.close()


@pytest.mark.parametrize("what", ["symlink", "fifo", "folder"])
def test_a_drafts_path_that_is_not_a_file_is_refused(
    database: Database, data_dir: Path, tmp_path: Path, what: str
) -> None:
    data_dir.mkdir(mode=0o700)
    path = data_dir / "drafts.sqlite3"
    if what == "symlink":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_text("")
        path.symlink_to(elsewhere)
    elif what == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        with pytest.raises(StoreError, match="cannot be kept in"):
            store.save_draft(call.id, Section.A, NoteKind.NOTE, "text", now_utc())
    finally:
        store.close()
    if what == "symlink":
        assert (tmp_path / "elsewhere").read_text() == ""


def test_a_note_sent_late_from_the_outbox_leaves_the_text_typed_since(
    database: Database, data_dir: Path
) -> None:
    """A note typed at 10:00 and sent from the outbox at 10:05 must not take the draft begun
    at 10:02 in the same field: only a draft begun by the note's Enter goes with it."""
    from datetime import timedelta

    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        entered = now_utc()
        store.save_draft(
            call.id, Section.D, NoteKind.NOTE, "typed since", entered + timedelta(seconds=120)
        )
        store.add_note(
            call.id, Section.D, NoteKind.NOTE, "the earlier note", entered, entered_at=entered
        )
        assert [d.body for d in store.load_call(call.id).drafts] == ["typed since"]
    finally:
        store.close()
