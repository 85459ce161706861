"""The pieces behind "closing the terminal always ends p2pcall" (issue 18).

- What `p2pcall.terminal_guard` relies on inside Textual is checked in
  tests/unit/test_textual_compat.py: it fails if an upgrade changes it, before the hang-up test
  starts failing one round in ten.
- The output file that drops what it cannot write.
- The exit watchdog, in child processes (it ends its process).
- A real app whose event loop is stuck: only the watchdog can end it, drafts kept.
"""

from __future__ import annotations

import errno
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.terminal_guard import DroppingOutput, GuardedLinuxDriver
from p2pcall.textual_compat import driver_output
from pty_terminal import Terminal, child_env
from test_hangup import Round, check_records, in_call_with_draft


@pytest.fixture
def restore_job_control_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


async def test_the_guard_takes_the_drivers_signals_and_output(restore_job_control_signals) -> None:
    # What it relies on inside Textual's driver: tests/unit/test_textual_compat.py.
    app = P2PCallApp(Path("unused"))
    guarded = GuardedLinuxDriver(app)
    assert signal.getsignal(signal.SIGTSTP) == guarded._on_sigtstp
    assert signal.getsignal(signal.SIGCONT) == guarded._on_sigcont
    assert isinstance(driver_output(guarded), DroppingOutput)
    assert app.get_driver_class() is GuardedLinuxDriver


async def test_a_sigcont_without_our_suspend_does_not_restart_the_terminal(
    restore_job_control_signals, monkeypatch
) -> None:
    driver = GuardedLinuxDriver(P2PCallApp(Path("unused")))
    restarts: list[str] = []
    monkeypatch.setattr(driver, "start_application_mode", lambda: restarts.append("start"))
    monkeypatch.setattr(driver, "terminal_gone", lambda: restarts.append("gone"))
    driver._on_sigcont(signal.SIGCONT, None)  # what a hang-up sends along with SIGHUP
    assert restarts == []


class BrokenTerminal:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise OSError(errno.EIO, "Input/output error")

    def flush(self) -> None:
        raise OSError(errno.EIO, "Input/output error")


def test_output_is_dropped_after_the_terminal_fails() -> None:
    lost: list[bool] = []
    terminal = BrokenTerminal()
    output = DroppingOutput(terminal, lambda: lost.append(True))  # type: ignore[arg-type]
    assert output.write("frame one") == len("frame one")
    output.flush()
    output.write("frame two")
    assert output.failed and lost == [True] and terminal.writes == 1


def test_textual_output_thread_keeps_draining_a_terminal_that_fails() -> None:
    """With the terminal's file itself, the thread dies on the first EIO, and the 31st
    write (past its queue's 30) waits forever: issue 18's stuck shutdown."""
    from textual.drivers._writer_thread import WriterThread

    writer = WriterThread(DroppingOutput(BrokenTerminal(), lambda: None))  # type: ignore[arg-type]
    writer.start()

    def shutdown_writes() -> None:
        for n in range(100):
            writer.write(f"frame {n}")
        writer.stop()

    shutdown = threading.Thread(target=shutdown_writes, daemon=True)
    shutdown.start()
    shutdown.join(timeout=20)
    assert not shutdown.is_alive(), "writes to a failed terminal blocked"


WATCHDOG_CHILD = """
import sys, threading
from p2pcall.exit_watchdog import ExitWatchdog

answers, closes, then, words = sys.argv[1] == "answers", sys.argv[2] == "closes", *sys.argv[3:]
closed = threading.Event()
if closes:
    closed.set()
def stop():
    print("database stopped", flush=True)
    closed.set()
def last_words():
    print("last words", flush=True)
    if words == "hang":
        threading.Event().wait()  # a write to a terminal that takes no more output
watchdog = ExitWatchdog(
    lambda timeout: answers, closed.wait, stop, (0.2, 0.5, 0.5, 0.3), last_words
)
watchdog.start()
watchdog.arm(143)
if then == "block":
    threading.Event().wait()  # a shutdown that never ends
"""


def run_watchdog_child(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WATCHDOG_CHILD), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_watchdog_ends_a_stuck_exit_once_the_database_is_closed() -> None:
    done = run_watchdog_child("answers", "closes", "block", "speak")
    assert done.returncode == 143 and done.stdout == "last words\n"


def test_watchdog_stops_the_database_itself_when_the_loop_is_stuck() -> None:
    done = run_watchdog_child("stuck", "open", "block", "speak")
    assert done.returncode == 143 and done.stdout == "database stopped\nlast words\n"


def test_watchdog_ends_the_process_even_if_its_last_words_hang() -> None:
    done = run_watchdog_child("answers", "closes", "block", "hang")
    assert done.returncode == 143 and done.stdout == "last words\n"


def test_watchdog_does_not_hold_up_a_clean_exit() -> None:
    done = run_watchdog_child("answers", "open", "return", "speak")
    assert done.returncode == 0 and done.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["hang_up", "sigterm"])
def test_an_app_stuck_while_leaving_still_ends_and_keeps_the_drafts(
    tmp_path: Path, ending: str
) -> None:
    rnd = Round(0, f"stuck-{ending}", random.Random(0), tmp_path / "data")
    child = Path(__file__).parents[1] / "support" / "stuck_child.py"
    term = Terminal([sys.executable, str(child), str(rnd.data_dir)], child_env())
    try:
        in_call_with_draft(term, rnd)
        database = rnd.data_dir / "p2pcall.sqlite3"
        deadline = time.monotonic() + 20
        while not drafts_saved(database, rnd.echoed):  # the periodic draft save
            assert time.monotonic() < deadline, "the draft was never saved"
            time.sleep(0.05)
        mark = term.mark()
        term.press("f11")  # from here the event loop runs nothing
        if ending == "hang_up":
            term.hang_up()
        else:
            term.process.send_signal(signal.SIGTERM)
        try:
            code = term.process.wait(timeout=8)  # watchdog: ~1 s + ~2 s; a stuck loop
        except subprocess.TimeoutExpired:
            pytest.fail("a stuck app was never ended")
        assert code == 128 + (signal.SIGHUP if ending == "hang_up" else signal.SIGTERM)
        if ending == "sigterm":  # the terminal is still there: given back as it was
            term.read_to_end()
            tail = bytes(term.output[mark:])
            assert b"\x1b[?1049l" in tail and b"\x1b[?25h" in tail, tail[-200:]
    finally:
        term.close()
    assert check_records(rnd) == []  # the note, the draft, integrity_check


def drafts_saved(database: Path, text: str) -> bool:
    if not database.exists():
        return False
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return db.execute("SELECT 1 FROM draft WHERE body = ?", (text,)).fetchone() is not None
    finally:
        db.close()


async def test_waiting_for_the_database_after_it_was_told_to_stop(data_dir: Path) -> None:
    """Ctrl+Q stops the database thread; a hang-up right after saves again and waits for
    it: the jobs queued before the stop are what there is to wait for, not a barrier
    queued behind the stop that is never reached (the UI thread stalled 5 s)."""
    from pilot_helpers import open_app

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        app.db.stop()
        assert app.db.wait_idle(5.0) is True
