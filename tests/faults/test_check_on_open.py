"""Open fast, check smart: the full page walk runs when it can find something, and on request.

A damaged file is still refused: at open after an unclean close (a `-wal` left behind), by
SQLite on the first damaged page read otherwise (the app stops using the file), and by
`p2pcall check` whenever asked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from p2pcall.store.opening import open_store
from p2pcall.store.store import DamagedError, DatabaseError
from test_store_faults import damaged_copy_of_a_real_database


def p2pcall(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_open_walks_every_page_only_after_an_unclean_close(data_dir: Path) -> None:
    db = damaged_copy_of_a_real_database(data_dir)
    # Closed cleanly: no page walk at open; the first read of a damaged page is refused.
    store = open_store(data_dir)
    try:
        with pytest.raises(DamagedError, match="damaged"):
            store.load_call(1)
    finally:
        store.close()
    # A -wal left behind (a crash, kill -9): the whole file is walked before it is used.
    Path(f"{db}-wal").touch()
    with pytest.raises(DatabaseError, match="damaged"):
        open_store(data_dir)


def test_check_command_reports_a_healthy_and_a_damaged_file(tmp_path: Path) -> None:
    healthy, damaged = tmp_path / "healthy", tmp_path / "damaged"
    store = open_store(healthy)
    store.start_call("UTC")
    store.close()
    proc = p2pcall(healthy, "check")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ")

    db = damaged_copy_of_a_real_database(damaged)
    before = db.read_bytes()
    proc = p2pcall(damaged, "check")
    assert proc.returncode == 1
    assert proc.stdout.startswith("DAMAGED: ") and "Traceback" not in proc.stderr
    # Reads only (SQLite's read-only connection may leave its -wal/-shm, as `list` does).
    assert db.read_bytes() == before
    assert set(os.listdir(damaged)) <= {db.name, f"{db.name}-wal", f"{db.name}-shm"}

    proc = p2pcall(tmp_path / "nothing-here", "check")
    assert proc.returncode == 0 and "nothing to check" in proc.stdout
    assert not (tmp_path / "nothing-here").exists()


def test_check_command_on_a_file_that_is_not_a_database(data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    (data_dir / "p2pcall.sqlite3").write_bytes(b"not a database at all " * 200)
    proc = p2pcall(data_dir, "check")
    assert proc.returncode == 1
    assert proc.stdout.startswith("DAMAGED: ") and "not a database" in proc.stdout


def test_check_command_fails_closed_when_it_cannot_read(data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    (data_dir / "p2pcall.sqlite3").mkdir()  # a folder where the file should be
    proc = p2pcall(data_dir, "check")
    assert proc.returncode == 1 and proc.stdout == ""
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("p2pcall check: NOT CHECKED: ")


def test_a_read_only_command_on_a_damaged_file_says_so_in_one_line(data_dir: Path) -> None:
    damaged_copy_of_a_real_database(data_dir)
    proc = p2pcall(data_dir, "show", "1")
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("p2pcall") and "damaged" in line
    assert "note " not in proc.stdout  # no part of a damaged record printed as if whole
