"""Real processes against one real database: kill -9 at random moments, two writers at once."""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Seconds each (real processes, terminals, kill -9): left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

CHILD = Path(__file__).parents[1] / "support" / "writer_child.py"
ROUNDS = 20


def reported(report: Path) -> list[str]:
    return report.read_text().split() if report.exists() else []


def bodies_in(data_dir: Path) -> list[str]:
    path = data_dir / "p2pcall.sqlite3"
    if not path.exists():  # killed before it was created
        return []
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return [body for (body,) in db.execute("SELECT body FROM note ORDER BY id")]
    finally:
        db.close()


def spawn(data_dir: Path, report: Path, tag: str, count: int | None = None) -> subprocess.Popen:
    """A writer that has imported everything and waits for `go` before touching anything."""
    argv = [sys.executable, str(CHILD), str(data_dir), str(report), tag]
    if count is not None:
        argv.append(str(count))
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def read_line(child: subprocess.Popen, expected: str) -> None:
    ready, _, _ = select.select([child.stdout], [], [], 30)
    assert ready, f"the child did not print {expected} within 30 s"
    line = child.stdout.readline()  # type: ignore[union-attr]
    assert line.strip() == expected, f"child printed {line!r}, not {expected}"


def go(child: subprocess.Popen) -> None:
    read_line(child, "LOADED")
    child.stdin.write("go\n")  # type: ignore[union-attr]
    child.stdin.flush()  # type: ignore[union-attr]


def test_every_note_shown_saved_survives_kill_9_at_random_moments(data_dir: Path) -> None:
    """Killed anywhere: opening, upgrading, recovering the WAL, mid-commit, mid-draft."""
    seed = int(os.environ.get("P2PCALL_KILL_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    report = data_dir.parent / "saved-notes.txt"
    shown_saved = 0
    upcoming = spawn(data_dir, report, "r0")
    for round_number in range(ROUNDS):
        child = upcoming
        go(child)
        # Loading the next one now; it touches nothing before its `go`.
        upcoming = spawn(data_dir, report, f"r{round_number + 1}")
        if round_number % 4 == 3:
            # During start-up: opening, creating or recovering the database.
            time.sleep(rng.uniform(0.0, 1.5))
        else:
            read_line(child, "READY")
            # At least one note shown saved in this round (on a loaded machine a random kill
            # could otherwise come before any), then a random moment: mid-note, mid-commit
            # or mid-draft.
            before = len(reported(report))
            deadline = time.monotonic() + 20
            while len(reported(report)) == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.7))
        child.send_signal(signal.SIGKILL)
        _, stderr = child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL, f"seed {seed}: child ended early:\n{stderr}"
        saved = reported(report)
        in_db = set(bodies_in(data_dir))
        missing = [body for body in saved if body not in in_db]
        assert not missing, f"seed {seed}, round {round_number}: shown saved but lost {missing}"
        shown_saved = len(saved)
    upcoming.kill()
    upcoming.communicate()
    # The test must have exercised saving, not only start-up: a note in every round after READY.
    enough = ROUNDS - ROUNDS // 4
    assert shown_saved >= enough, f"seed {seed}: only {shown_saved} notes were shown saved"


def test_two_processes_on_one_database_lose_nothing_and_show_no_lock_errors(
    data_dir: Path,
) -> None:
    count = 40
    reports = {tag: data_dir.parent / f"{tag}.txt" for tag in ("a", "b")}
    # Both start on a database that does not exist yet: they race to create it too.
    children = {tag: spawn(data_dir, path, tag, count) for tag, path in reports.items()}
    for child in children.values():
        read_line(child, "LOADED")
    for child in children.values():
        child.stdin.write("go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
    for tag, child in children.items():
        stdout, stderr = child.communicate(timeout=120)
        assert "ERROR" not in stdout, stdout
        assert child.returncode == 0, f"{tag}: {stdout}\n{stderr}"
        assert reported(reports[tag]) == [f"{tag}-{n}" for n in range(count)]
    in_db = bodies_in(data_dir)
    assert sorted(in_db) == sorted(f"{tag}-{n}" for tag in reports for n in range(count))
    # Each process kept its own call, and its notes in the order it took them.
    db = sqlite3.connect(data_dir / "p2pcall.sqlite3")
    calls = db.execute("SELECT call_id, group_concat(body, ' ') FROM note GROUP BY call_id")
    by_call = sorted(bodies.split() for _, bodies in calls)
    db.close()
    assert by_call == [[f"{tag}-{n}" for n in range(count)] for tag in ("a", "b")]
