"""The commands that only read, as a user runs them against a busy, archived or odd database
(issue 10, items 6, 7 and 9): a subprocess on a real data folder.

Root ignores file modes, so a read-only folder or file does not stop it; what these tests
check there is that nothing is created, changed or waited for. A real read-only mount is
made when the test runs as root and mounting is allowed, and skipped with the reason
otherwise.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from export_db import make_database
from p2pcall.store.opening import open_store

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
DB = "p2pcall.sqlite3"
READ_COMMANDS = ("show", "export", "letter", "verify", "due", "list", "stats")


def p2pcall(data_dir: Path, *args: str, env: dict[str, str] | None = None):
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    full_env.pop("P2PCALL_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], code: int | None = None) -> str:
    assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr, proc.stderr
    assert proc.returncode != 0 if code is None else proc.returncode == code, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def arguments(command: str, call: int, export: Path) -> list[str]:
    if command == "verify":
        return ["verify", str(export)]
    if command in ("due", "list"):
        return [command]
    if command == "stats":  # by month: the grouping that once needed a temporary table
        return ["stats", "--by", "month", "--json"]
    return [command, str(call)]


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file in the folder with its mode, size and modification time."""
    return {
        p.name: (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.iterdir()
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, Path]:
    """Made once: a data folder with one call, checkpointed (no -wal), and a text export."""
    folder = tmp_path_factory.mktemp("template")
    data = folder / "data"
    call = make_database(data)
    export = folder / "record.txt"
    made = p2pcall(data, "export", str(call), "-o", str(export))
    assert made.returncode == 0, made.stderr
    # The export's read may leave an empty -wal and -shm (SQLite's readers do); the last
    # writing connection to close removes them: the folder then holds the database alone.
    last = sqlite3.connect(data / DB)
    last.execute("PRAGMA user_version").fetchone()
    last.close()
    assert sorted(p.name for p in data.iterdir()) == [DB]
    return data, call, export


@pytest.fixture
def record(template: tuple[Path, int, Path], tmp_path: Path) -> tuple[Path, int, Path]:
    """A fresh copy of the template for each test."""
    data, call, export = template
    shutil.copytree(data, tmp_path / "data")
    (tmp_path / "data").chmod(0o700)
    shutil.copy2(export, tmp_path / "record.txt")
    return tmp_path / "data", call, tmp_path / "record.txt"


# -- item 7: reads take no write lock and need no write access ----------------------------


def test_reads_go_on_while_another_program_holds_the_write_lock(record) -> None:
    """The app saving (BEGIN IMMEDIATE held) never makes a read wait or fail."""
    data, call, export = record
    writer = sqlite3.connect(data / DB, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO call (created_at, tz) VALUES ('2026-01-01T00:00:00Z', 'UTC')")
        for command in READ_COMMANDS:
            proc = p2pcall(data, *arguments(command, call, export))
            assert proc.returncode == 0, (command, proc.stderr)
            assert "busy" not in proc.stderr
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_reads_see_what_an_open_writer_committed(record) -> None:
    """A writer still connected keeps its commits in the -wal file: no `immutable` there."""
    data, _call, _export = record
    writer = sqlite3.connect(data / DB, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # the commit stays in the -wal
        writer.execute(
            "INSERT INTO call (id, created_at, tz) VALUES (77, '2026-01-01T00:00:00Z', 'UTC')"
        )
        proc = p2pcall(data, "list", "--json")
        assert proc.returncode == 0, proc.stderr
        assert '"id": 77' in proc.stdout
    finally:
        writer.close()


@pytest.mark.parametrize("locked", ["file 0400", "folder 0500", "both"])
def test_a_read_only_copy_is_read_and_left_exactly_as_it_was(record, locked: str) -> None:
    data, call, export = record
    database = data / DB
    if locked in ("file 0400", "both"):
        database.chmod(0o400)
    if locked in ("folder 0500", "both"):
        data.chmod(0o500)
    before = snapshot(data)
    try:
        for command in READ_COMMANDS:
            proc = p2pcall(data, *arguments(command, call, export))
            assert proc.returncode == 0, (command, proc.stderr)
            assert proc.stderr in ("", f"Wrote {export}\n"), proc.stderr
        assert snapshot(data) == before  # no -wal, -shm, backup, chmod or touch
        assert stat.S_IMODE(data.stat().st_mode) == (
            0o500 if "folder" in locked or locked == "both" else 0o700
        )
    finally:
        data.chmod(0o700)
        database.chmod(0o600)


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted read-only (root only); the test fills it through `fill` first."""
    if not IS_ROOT:
        pytest.skip("mounting a read-only file system needs root; the 0400/0500 cases run")
    point = tmp_path / "mnt"
    point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(point)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()})")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True)


def test_an_archived_copy_on_a_read_only_mount_is_read(record, read_only_mount: Path) -> None:
    data, call, export = record
    copy = read_only_mount / "data"
    shutil.copytree(data, copy)
    _remount_read_only(read_only_mount)
    for command in READ_COMMANDS:
        proc = p2pcall(copy, *arguments(command, call, export))
        assert proc.returncode == 0, (command, proc.stderr)
    assert sorted(p.name for p in copy.iterdir()) == [DB]


def test_a_copy_with_its_wal_on_a_read_only_mount_shows_the_wal_notes(
    record, read_only_mount: Path
) -> None:
    """Copied while the app ran: committed rows still in -wal must be read, not skipped."""
    data, _call, _export = record
    writer = sqlite3.connect(data / DB, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute(
            "INSERT INTO call (id, created_at, tz) VALUES (78, '2026-01-01T00:00:00Z', 'UTC')"
        )
        shutil.copytree(data, read_only_mount / "data")  # the database, -wal and -shm
    finally:
        writer.close()
    _remount_read_only(read_only_mount)
    proc = p2pcall(read_only_mount / "data", "list", "--json")
    if proc.returncode != 0:  # SQLite could not use the -shm: it must say so, not lie
        assert "copy the whole folder" in one_line_error(proc, 1)
    else:
        assert '"id": 78' in proc.stdout


def test_an_old_database_is_not_upgraded_by_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from export_db import make_v1_database

    data = tmp_path / "data"
    make_v1_database(data, monkeypatch)
    before = snapshot(data)
    for args in (["list"], ["show", "1"], ["due"]):
        line = one_line_error(p2pcall(data, *args), 1)
        assert "older p2pcall" in line and "open it once with the app" in line
    after = snapshot(data)
    assert after[DB] == before[DB]  # not upgraded, not touched
    # No backup; SQLite's reader may leave an empty -wal and its -shm (a writable folder).
    assert set(after) - set(before) <= {f"{DB}-wal", f"{DB}-shm"}
    assert after.get(f"{DB}-wal", (0, 0, 0))[1] == 0
    db = sqlite3.connect(f"{(data / DB).as_uri()}?mode=ro", uri=True)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()


def test_read_errors_never_speak_of_typing(tmp_path: Path) -> None:
    """'What you typed stays on screen' belongs to the app, never to a command's output."""
    data = tmp_path / "data"
    (data / DB).mkdir(parents=True)  # a folder where the database should be
    for command in ("list", "due", "show", "export", "letter"):
        args = [command] if command in ("list", "due") else [command, "1"]
        line = one_line_error(p2pcall(data, *args), 1)
        assert "is a folder, not a database file" in line, line
        assert "typed" not in line and "disk may be full" not in line


@pytest.mark.slow
def test_lock_messages_state_the_wait_they_made(record) -> None:
    """Another program holding an exclusive lock: each message names the real wait.

    The command (a read) and the app's opening (in this process) wait side by side.
    """
    data, call, _export = record
    holder = sqlite3.connect(data / DB, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO call (created_at, tz) VALUES ('2026-01-01T00:00:00Z', 'UTC')")
    holder.execute("COMMIT")  # the exclusive lock stays until the connection closes
    env = {**os.environ}
    env.pop("P2PCALL_DATA_DIR", None)
    try:
        started = time.monotonic()
        command = subprocess.Popen(
            [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "show", str(call)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        with pytest.raises(Exception) as refused:
            open_store(data)
        app_waited = time.monotonic() - started
        out, err = command.communicate(timeout=120)
        command_waited = time.monotonic() - started
    finally:
        holder.close()
    line = one_line_error(subprocess.CompletedProcess([], command.returncode, out, err), 1)
    assert "locked by another program for 10 seconds" in line
    assert "for more than 10 seconds" in str(refused.value)
    # At least what they say (lower bounds: a slow machine only adds).
    assert command_waited >= 10 and app_waited >= 10


# -- item 6: verify reads regular files only ----------------------------------------------


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/dev/null", "folder", "/dev/stdin"])
def test_verify_refuses_what_is_not_a_regular_file(record, tmp_path: Path, target: str) -> None:
    data, _call, _export = record
    path = Path(target)
    if target == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)  # nobody writes: reading it would wait for ever
    elif target == "folder":
        path = tmp_path
    proc = p2pcall(data, "verify", str(path))
    line = one_line_error(proc, 2)
    assert "not a regular file" in line
    assert "VERIFIED" not in proc.stdout.replace("NOT VERIFIED", "")  # a verdict, if any, says not


def test_verify_counts_the_size_while_reading(tmp_path: Path, monkeypatch) -> None:
    """/proc files report a size of 0: the limit must hold on what is read."""
    from p2pcall.cli import main
    from p2pcall.commands import verify

    monkeypatch.setattr(verify, "MAX_BYTES", 64)
    proc_file = Path("/proc/self/maps")
    if not proc_file.exists() or proc_file.stat().st_size != 0:
        pytest.skip("no /proc file reporting size 0 here")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--data-dir", str(tmp_path / "data"), "verify", str(proc_file)])
    assert code == 2
    assert "too large" in err.getvalue() and len(err.getvalue().splitlines()) == 1


# -- item 9: one line for odd command lines -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["export", "9223372036854775808"], 2, "is not a call number"),
        (["show", "9" * 40], 2, "is not a call number"),
        (["letter", "9" * 5000], 2, "is not a call number"),
        (["export", "-5"], 2, "is not a call number"),
        (["show", "--", "-9223372036854775809"], 2, "is not a call number"),
        (["export", "9223372036854775807"], 1, "There is no call number"),
        (["export", "1", "-o", "n" * 300], 1, "too long"),
        (["verify", "v" * 300], 2, "too long"),
        (["list", "--limit", "9" * 30], 0, None),
        (["list", "--until", "9999-12-31"], 0, None),
        (["list", "--since", "0001-01-01"], 0, None),
    ],
)
def test_odd_command_lines_get_one_line(record, args, code, message) -> None:
    data, _call, _export = record
    proc = p2pcall(data, *args, env={"TZ": "Asia/Tokyo"})  # east of UTC: year 1 underflows
    if code == 0:
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert "JD-0412" in proc.stdout  # every bound open: the call is listed
    else:
        assert message in one_line_error(proc, code)


def test_days_before_the_year_1000_still_compare_as_dates(record) -> None:
    data, _call, _export = record
    proc = p2pcall(data, "list", "--since", "0999-01-01")
    assert proc.returncode == 0 and "JD-0412" in proc.stdout


def test_an_export_naming_an_absurd_call_is_one_line(record, tmp_path: Path) -> None:
    data, call, export = record
    for absurd in ("99999999999999999999999", "9" * 5000):
        text = export.read_text(encoding="utf-8").replace(f"call={call} ", f"call={absurd} ")
        crafted = tmp_path / "crafted.txt"
        crafted.write_text(text, encoding="utf-8")
        proc = p2pcall(data, "verify", str(crafted))
        assert proc.returncode in (1, 2), proc.stderr
        assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr
        assert "VERIFIED" not in proc.stdout.replace("NOT VERIFIED", "")


@pytest.mark.parametrize("command", ["where", *READ_COMMANDS])
def test_a_data_dir_that_is_a_file_fails(tmp_path: Path, command: str) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder\n")
    args = {"where": [], "due": [], "list": [], "stats": [], "verify": [str(plain)]}.get(
        command, ["1"]
    )
    line = one_line_error(p2pcall(plain, command, *args), 1)
    assert "is a file, not a folder" in line
    assert plain.read_text() == "not a folder\n"


def test_control_characters_in_a_path_stay_on_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "two\nlines\x1b[2J"
    line = one_line_error(p2pcall(tmp_path / "data", "verify", str(odd)), 2)
    assert "\x1b" not in line


def test_an_export_never_replaces_the_records(record, tmp_path: Path) -> None:
    """`-o` naming the database (a slip of tab completion) with --force: refused, kept."""
    data, call, _export = record
    database = data / DB
    before = database.read_bytes()
    elsewhere = tmp_path / "same-file.db"
    os.link(database, elsewhere)  # the database under another name, outside the folder
    for target, reason in (
        (database, "folder that holds your records"),
        (data / "notes.txt", "folder that holds your records"),
        (elsewhere, "is your records' database"),
    ):
        for command in ("export", "letter"):
            line = one_line_error(
                p2pcall(data, command, str(call), "-o", str(target), "--force"), 1
            )
            assert reason in line
    assert database.read_bytes() == before
    assert not (data / "notes.txt").exists()  # (the reads may leave an empty -wal and -shm)
    assert {p.name for p in data.iterdir()} <= {DB, f"{DB}-wal", f"{DB}-shm"}
