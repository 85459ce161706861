"""Faults at the store and at start-up: damaged files, read-only places, a full disk,
two p2pcalls creating one database, folders that are not ours, files under `umask 000`.

Tests may run as root, for whom file modes stop nothing: read-only cases then run in a
child process switched to the unprivileged `nobody` user, and the full disk is a real
write failure made with RLIMIT_FSIZE in a child process.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.paths import DataDirError, ensure_private_dir
from p2pcall.screens.problem import ProblemScreen
from p2pcall.store import StoreError, schema
from p2pcall.store.opening import open_store
from p2pcall.store.store import _describe
from p2pcall.textual_compat import shown_messages
from p2pcall.widgets.notes import NoteItem
from pilot_helpers import wait_until

DB = "p2pcall.sqlite3"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def problem_text(app: P2PCallApp) -> str:
    screen = app.screen
    assert isinstance(screen, ProblemScreen), type(screen)
    return f"{screen.reason}\n{screen.data_dir}"


def damaged_copy_of_a_real_database(data_dir: Path) -> Path:
    """A real p2pcall database whose table pages were overwritten in the middle."""
    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.domain.vocab import NoteKind

    store = open_store(data_dir)
    call = store.start_call("UTC")
    for n in range(300):
        store.add_note(call.id, Section.A, NoteKind.NOTE, f"note {n} " + "x" * 200, now_utc())
    store.close()
    db = data_dir / DB
    with db.open("r+b") as f:  # pages 5-8: past the header and schema, inside the notes
        f.seek(4 * 4096)
        f.write(b"\xa5" * 4 * 4096)
    return db


@pytest.mark.parametrize("kind", ["not-sqlite", "damaged-pages"])
async def test_a_damaged_database_is_reported_and_left_byte_identical(
    data_dir: Path, kind: str
) -> None:
    if kind == "not-sqlite":
        ensure_private_dir(data_dir)
        db = data_dir / DB
        db.write_bytes(b"%PDF-1.7 this is not a database\n" * 64)
        db.chmod(0o644)
    else:
        db = damaged_copy_of_a_real_database(data_dir)
    before = (db.read_bytes(), mode_of(db), sorted(os.listdir(data_dir)))

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemScreen))
        text = problem_text(app)
        assert str(db) in text
        assert "damaged" in text and "Move it aside" in text and "--data-dir" in text
        assert not app.store_ready
        await pilot.press("q")
    assert (db.read_bytes(), mode_of(db), sorted(os.listdir(data_dir))) == before


def test_a_database_being_created_by_another_p2pcall_is_not_created_twice(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two p2pcalls started at once on a new folder: the second waits and then uses it."""
    ensure_private_dir(data_dir)
    path = data_dir / DB
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("PRAGMA journal_mode = WAL")
    first.execute("BEGIN IMMEDIATE")
    for step in schema.STEPS:
        step(first)
    first.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION}")
    # What the second one runs, statement by statement (SQLite calls the trace as each starts).
    statements: list[str] = []
    at_the_lock = threading.Event()
    connect = sqlite3.connect

    def traced(*args, **kwargs) -> sqlite3.Connection:
        db = connect(*args, **kwargs)

        def trace(sql: str) -> None:
            statements.append(sql)
            if sql == "BEGIN IMMEDIATE":
                at_the_lock.set()

        db.set_trace_callback(trace)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    result: list[object] = []
    # The second one sees schema 0, then waits at BEGIN IMMEDIATE for the first's commit.
    second = threading.Thread(target=lambda: result.append(_open_or_error(data_dir)))
    second.start()
    assert at_the_lock.wait(timeout=20), statements
    first.execute("COMMIT")
    first.close()
    second.join(timeout=20)
    assert result == ["opened"]
    # Past the lock it read the version again and found the schema made: no step ran twice.
    after = statements[statements.index("BEGIN IMMEDIATE") + 1 :]
    assert after[:2] == ["PRAGMA user_version", "COMMIT"], after


def _open_or_error(data_dir: Path) -> str:
    try:
        open_store(data_dir).close()
        return "opened"
    except StoreError as exc:
        return str(exc)


def test_a_data_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    if IS_ROOT:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
    else:
        foreign = Path("/")  # owned by root
    with pytest.raises(DataDirError, match="belongs to another user"):
        ensure_private_dir(foreign)
    if IS_ROOT:
        assert mode_of(foreign) == 0o700 and foreign.stat().st_uid == 65534
        assert list(foreign.iterdir()) == []


def test_real_sqlite_errors_become_clear_messages(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE t (x)")
    db.execute("PRAGMA max_page_count = 2")  # the file may not grow: SQLITE_FULL
    with pytest.raises(sqlite3.OperationalError) as full:
        db.execute("INSERT INTO t VALUES (?)", ("y" * 100_000,))
    db.close()
    assert full.value.sqlite_errorname == "SQLITE_FULL"
    assert "is full" in _describe(full.value, path) and "stays on screen" in _describe(
        full.value, path
    )
    read_only = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as refused:
        read_only.execute("INSERT INTO t VALUES (1)")
    read_only.close()
    assert refused.value.sqlite_errorname == "SQLITE_READONLY"
    assert "read-only" in _describe(refused.value, path)


# -- read-only folder and database ---------------------------------------------------------


def test_a_read_only_data_folder_gets_a_clear_message(tmp_path: Path) -> None:
    if IS_ROOT:
        pytest.skip(
            "running as root: file modes do not stop root and no read-only filesystem is "
            "available; the read-only message is covered by SQLite's own read-only error "
            "(test_a_database_turning_read_only_mid_call_keeps_the_note)"
        )
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    data.chmod(0o500)  # r-x: the database file cannot be created
    try:
        with pytest.raises(StoreError) as refused:
            open_store(data)
    finally:
        data.chmod(0o700)
    message = str(refused.value)
    assert "cannot be written" in message and "read-only" in message
    assert str(data / DB) in message
    assert list(data.iterdir()) == []


async def test_a_database_turning_read_only_mid_call_keeps_the_note(data_dir: Path) -> None:
    """SQLite's read-only error (query_only on every connection), through the real app."""
    from sqlalchemy import event

    from pilot_helpers import open_app, settle, start_call

    def read_only(connection: sqlite3.Connection, _record: object) -> None:
        connection.execute("PRAGMA query_only = 1")

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        engine = []
        app.db.submit(lambda store: engine.append(store.engine))
        await settle(pilot)
        event.listen(engine[0], "connect", read_only)
        engine[0].dispose()  # new connections from here on are read-only
        app.screen.composer.field.insert("reviewer cites criterion 4b")
        await pilot.press("enter")
        [item] = app.screen.query(NoteItem)
        await wait_until(pilot, lambda: item.state == "failed")
        messages = [n.message for n in shown_messages(app)]
        assert any("read-only" in m and "stays on screen" in m for m in messages), messages
        assert "NOT SAVED" in app.save_state[1]

        event.remove(engine[0], "connect", read_only)
        engine[0].dispose()
        await wait_until(pilot, lambda: item.state == "saved", timeout=15)  # retried
    from pilot_helpers import load_latest

    record = load_latest(data_dir, unfinished=True)
    assert [note.body for note in record.notes] == ["reviewer cites criterion 4b"]


# -- full disk mid-call --------------------------------------------------------------------

DISK_FULL_CHILD = Path(__file__).parents[1] / "support" / "disk_full_child.py"


def test_a_full_disk_mid_call_keeps_the_note_on_screen_and_saves_it_later(
    data_dir: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, str(DISK_FULL_CHILD), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "STATE failed" in lines, lines
    assert any(line.startswith("NOTICE Note not saved: Writing to") for line in lines), lines
    assert "STATE saved" in lines[-2:], lines
    db = sqlite3.connect(data_dir / DB)
    bodies = [body for (body,) in db.execute("SELECT body FROM note ORDER BY id")]
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()
    assert bodies == ["before the disk filled", "BIG " + "z" * 90_000]


# -- files under umask 000 -----------------------------------------------------------------


def test_every_file_and_folder_is_private_under_umask_zero(tmp_path: Path, monkeypatch) -> None:
    """The whole app, from a v1 database (so a backup is written), run with umask 000."""
    from export_db import make_v1_database

    data_dir = tmp_path / "new" / "nested" / "data"
    make_v1_database(data_dir, monkeypatch)
    # make_v1_database ran under the test's umask; loosen everything to see it tightened.
    for path in [data_dir, *data_dir.iterdir()]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    child = Path(__file__).parents[1] / "support" / "writer_child.py"
    proc = subprocess.run(
        [sys.executable, str(child), str(data_dir), str(tmp_path / "report"), "u", "3"],
        input="go\n",
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.name for p in data_dir.iterdir())
    assert any(name.startswith("p2pcall-before-v") for name in names), names
    for folder in (tmp_path / "new", tmp_path / "new" / "nested", data_dir):
        assert mode_of(folder) == 0o700, folder
    for path in data_dir.rglob("*"):
        assert mode_of(path) == (0o700 if path.is_dir() else 0o600), path


def test_the_app_turns_core_dumps_off() -> None:
    code = (
        "import resource, sys\n"
        "from p2pcall.cli import main\n"
        "main(['where'])\n"
        "print(resource.getrlimit(resource.RLIMIT_CORE))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.splitlines()[-1] == "(0, 0)"
