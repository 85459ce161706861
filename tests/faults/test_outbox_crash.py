"""kill -9 with notes in the outbox: the next start sends them first, in order, and says so."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.textual_compat import shown_messages
from pilot_helpers import open_app, quit_and_wait, wait_until

pytestmark = pytest.mark.slow

CHILD = Path(__file__).parents[1] / "support" / "outbox_crash_child.py"
KEPT = ["kept one", "kept two", "kept three"]


def run_and_kill(data_dir: Path, mode: str) -> None:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != "READY":
            child.kill()
            raise AssertionError(f"child did not get ready: {line!r} {child.stderr.read()}")  # type: ignore[union-attr]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL


def bodies(data_dir: Path) -> list[str]:
    db = sqlite3.connect(data_dir / "p2pcall.sqlite3")
    try:
        return [body for (body,) in db.execute("SELECT body FROM note ORDER BY id")]
    finally:
        db.close()


def check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("mode", ["readonly", "locked"])
async def test_notes_kept_in_the_outbox_are_sent_at_the_next_start(
    data_dir: Path, mode: str
) -> None:
    run_and_kill(data_dir, mode)
    assert bodies(data_dir) == ["saved before"]
    waiting = check(data_dir)
    assert waiting.returncode == 0, waiting.stderr
    lines = waiting.stdout.splitlines()
    assert lines[0].startswith("ok: ") and lines[1].startswith("outbox: 3 notes of call #1 wait ")

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)

        def said() -> list[str]:
            return [n.message for n in shown_messages(app) if "outbox" in n.message]

        await wait_until(pilot, said, timeout=20)
        assert said() == [
            "3 notes kept in the outbox while the database could not be written were "
            "saved to call #1."
        ]
        assert app.send_line.writer.wait_idle(10)
        await quit_and_wait(app)
    assert bodies(data_dir) == ["saved before", *KEPT]  # once each, in the order typed
    after = check(data_dir)
    assert after.returncode == 0, after.stderr
    assert not [line for line in after.stdout.splitlines() if line.startswith("outbox:")]
