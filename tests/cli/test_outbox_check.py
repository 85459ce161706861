"""`p2pcall check` and the outbox: notes waiting are reported; an unreadable outbox fails closed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.outbox import OUTBOX_NAME, Outbox, OutboxNote
from p2pcall.store import Store


def check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_notes_waiting_in_the_outbox_are_listed_by_call(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    outbox = Outbox.open(tmp_path)
    assert outbox is not None
    for call_id, body in ((4, "secret words one"), (2, "secret words two"), (4, "three")):
        at = now_utc()
        outbox.put(OutboxNote(str(uuid.uuid4()), call_id, Section.A, NoteKind.NOTE, body, at, at))
    outbox.note_error(outbox.pending()[-1].key, "The database is locked.")
    outbox.close()
    before = sorted(p.name for p in tmp_path.glob("outbox*"))
    done = check(tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok: ")
    assert lines[1].startswith("outbox: 1 note of call #2 waits in ")
    assert lines[2].startswith("outbox: 2 notes of call #4 wait in ")
    assert lines[2].endswith("; last try: The database is locked.")
    assert "secret" not in done.stdout + done.stderr  # never the notes' text
    assert sorted(p.name for p in tmp_path.glob("outbox*")) == before  # it only reads


def test_an_unreadable_outbox_is_not_checked(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    (tmp_path / OUTBOX_NAME).write_bytes(b"no database here\n" * 100)
    done = check(tmp_path)
    assert done.returncode == 1
    assert "NOT CHECKED" in done.stderr and "outbox" in done.stderr and "damaged" in done.stderr


def test_an_empty_outbox_says_nothing_more(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    Outbox.open(tmp_path).close()  # type: ignore[union-attr]
    done = check(tmp_path)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 1, done.stdout
