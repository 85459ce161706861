"""Schema-upgrade backups with real processes (issue 10, item 8).

Two p2pcalls opening an old database at the same moment: one upgrades, the other waits
for it and finds nothing to do. A kill during the backup leaves no partial file named
like a good backup, and the next opening finishes the job.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from export_db import make_v1_database
from p2pcall.store import schema
from p2pcall.store.opening import open_store

# Seconds each (real processes, terminals, kill -9): left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

CHILD = Path(__file__).parents[1] / "support" / "upgrade_child.py"


def start_children(data_dir: Path, signals: Path, mode: str, count: int) -> list[subprocess.Popen]:
    signals.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir), str(signals), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]
    wait_for(lambda: len(list(signals.glob("ready-*"))) == count, children)
    (signals / "go").write_text("")
    return children


def wait_for(condition, children: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if any(child.poll() is not None for child in children) and not condition():
            outputs = [child.communicate() for child in children if child.poll() is not None]
            raise AssertionError(f"a child ended early: {outputs}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def good_looking_backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(schema.BACKUP_PREFIX))


def version(path: Path) -> int:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_openers_at_the_same_moment_wait_for_one_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    db = make_v1_database(data_dir, monkeypatch)
    children = start_children(data_dir, tmp_path / "signals", "slow", 3)
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, (out, err)
        assert out.strip() == "opened" and "Traceback" not in err
    assert version(db) == schema.CURRENT_VERSION
    [backup] = good_looking_backups(data_dir)  # one upgrade, one backup
    assert version(backup) == 1
    assert [p.name for p in data_dir.iterdir() if p.name.endswith(".p2pcall-tmp")] == []


def test_a_kill_during_the_backup_leaves_no_partial_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    db = make_v1_database(data_dir, monkeypatch)
    signals = tmp_path / "signals"
    [child] = start_children(data_dir, signals, "stuck", 1)
    try:
        wait_for(lambda: (signals / "in-backup").exists(), [child])
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    assert good_looking_backups(data_dir) == []  # only a temporary name, if anything
    assert version(db) == 1  # the upgrade never began

    open_store(data_dir).close()  # the next opening upgrades, and cleans up the leftover
    assert version(db) == schema.CURRENT_VERSION
    [backup] = good_looking_backups(data_dir)
    assert version(backup) == 1
    check = sqlite3.connect(backup)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("SELECT body FROM note").fetchall() == [("not medically necessary",)]
    check.close()
    assert [p.name for p in data_dir.iterdir() if "p2pcall-tmp" in p.name] == []


def test_an_existing_backup_of_the_same_second_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    make_v1_database(data_dir, monkeypatch)
    from p2pcall.domain import timefmt

    stamp = timefmt.now_utc().strftime("%Y%m%dT%H%M%SZ")
    earlier = data_dir / f"{schema.BACKUP_PREFIX}{schema.CURRENT_VERSION}-{stamp}.sqlite3"
    earlier.write_bytes(b"an earlier backup, kept as it is")
    db = sqlite3.connect(data_dir / "p2pcall.sqlite3", isolation_level=None)
    try:
        schema.upgrade(db, data_dir, stamp)
    finally:
        db.close()
    assert earlier.read_bytes() == b"an earlier backup, kept as it is"
    [new] = [p for p in good_looking_backups(data_dir) if p != earlier]
    assert new.name.endswith(f"{stamp}-2.sqlite3") and version(new) == 1
