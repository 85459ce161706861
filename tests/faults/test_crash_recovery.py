"""A call abandoned by `kill -9` comes back with its notes and the half-typed draft."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import pg_cluster as pgc
from conftest import Database
from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.widgets.notes import NoteItem
from pilot_helpers import open_app, wait_until

# Seconds each (real processes, terminals, kill -9): left out by `pytest -m "not slow"`.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("database")]

CHILD = Path(__file__).parents[1] / "support" / "crash_child.py"


def run_and_kill(data_dir: Path, before_draft: Callable[[], None] | None = None) -> None:
    """The child takes notes and leaves text in a field, then is killed; `before_draft`
    runs (the server stopped) after the notes and before the text is typed."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), *(["offline"] if before_draft else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        if before_draft is not None:
            assert child.stdout.readline().strip() == "NOTES"  # type: ignore[union-attr]
            before_draft()
            child.stdin.write("GO\n")  # type: ignore[union-attr]
            child.stdin.flush()  # type: ignore[union-attr]
        line = child.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == "READY", f"child did not get ready: {line!r}"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL


async def test_killed_call_is_offered_back_with_notes_and_draft(data_dir: Path) -> None:
    run_and_kill(data_dir)
    await offered_back(data_dir)


@pytest.mark.server_only
async def test_killed_while_the_server_was_down_the_draft_is_still_offered_back(
    data_dir: Path, database: Database, pg_cluster: pgc.PgCluster
) -> None:
    """The text was typed while the practice server was down (its draft is kept on this
    computer), then p2pcall was killed; the server is back before p2pcall starts again."""
    try:
        run_and_kill(data_dir, pg_cluster.stop_immediately)
    finally:
        if not pg_cluster.running:
            pg_cluster.start_again()
    await offered_back(data_dir)


async def offered_back(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        [line] = home.lines
        assert line.unfinished and "AB-77" in line.text and "2 notes" in line.text
        await pilot.press("r")
        # The section with the unsent text opens first, text restored, not yet a note.
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        screen = app.screen
        assert screen.section is Section.D
        assert screen.composer.text == "criterion 4b not"
        assert screen.composer.kind is NoteKind.NOTE
        bodies = [item.body for item in screen.query(NoteItem)]
        assert bodies == ["Uses InterQual 2025"]
        assert [item.kind for item in screen.query(NoteItem)] == [NoteKind.QUOTE]
        assert app.note_counts == {"B": 1, "D": 1}
        await pilot.press("f2")
        assert [item.body for item in app.screen.query(NoteItem)] == [
            "Reviewer is a family physician"
        ]
