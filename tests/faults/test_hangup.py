"""Closing the terminal at any moment ends p2pcall, and keeps what was typed (issue 18).

Each round starts p2pcall in its own pseudo-terminal and data directory, takes it to a
random point (starting up, idle at home, typing a draft mid-call, in the End call dialog,
quitting) and ends it there: the terminal closed (SIGHUP and SIGCONT from the kernel,
then EOF/EIO), SIGTERM (mid-call, and in a quarter of the start-up rounds), or the
terminal closed under a process it is not the controlling terminal of (no signal at all,
only EOF/EIO). Every round must leave no process behind,
lose no draft text the app had shown, and leave a database that passes integrity_check.

The moments are random; a failure prints the seed, and P2PCALL_HANGUP_SEED=<seed> replays
the same moments. Rounds run a few at a time to keep the whole test short.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from pty_terminal import Terminal, child_env, p2pcall_argv

# Seconds each (real processes, terminals, kill -9): left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

# The promise: gone within 5 s of the hang-up (usually well under 1 s).
GONE_WITHIN = 5.0
AT_ONCE = 3  # rounds in flight together: 2 CPUs, each round is one app process
KEPT = "keepme"  # typed and shown before the terminal goes: must be in the saved draft
NOTE = "savednote"


@dataclass
class Round:
    number: int
    scenario: str
    rng: random.Random
    data_dir: Path
    echoed: str = ""  # draft text the app had drawn before the end
    typed: str = ""  # every draft character sent to the terminal

    def __str__(self) -> str:
        return f"round {self.number} ({self.scenario})"


def in_call_with_draft(term: Terminal, rnd: Round) -> None:
    """Home -> new call -> section A -> one saved note -> a draft the app has drawn."""
    term.wait_for("No calls yet")
    mark = term.mark()
    term.press("n")
    term.wait_for("Patient", mark)
    mark = term.mark()
    term.press("f1")
    term.wait_for("Note for A: Enter saves", mark)
    mark = term.mark()
    term.type(NOTE)
    term.press("enter")
    term.wait_for("saved", mark)
    mark = term.mark()
    rnd.typed = rnd.echoed = f"{KEPT}{rnd.number}"
    term.type(rnd.typed)
    term.wait_for(rnd.typed, mark)


def end_after(term: Terminal, rnd: Round, seconds: float) -> None:
    time.sleep(seconds)
    term.hang_up()


def startup(term: Terminal, rnd: Round) -> None:
    # p2pcall paints in ~0.2 s and opens the store by ~0.5 s: this spans both and after.
    time.sleep(rnd.rng.uniform(0.0, 2.0))
    if rnd.rng.random() < 0.25:
        term.process.send_signal(signal.SIGTERM)  # logout or shutdown while starting
    else:
        term.hang_up()


def home(term: Terminal, rnd: Round) -> None:
    term.wait_for("No calls yet")
    end_after(term, rnd, rnd.rng.uniform(0.0, 0.3))


def typing(term: Terminal, rnd: Round) -> None:
    """Still typing when the terminal closes: every key redraws the note field."""
    in_call_with_draft(term, rnd)
    stop = time.monotonic() + rnd.rng.uniform(0.0, 0.6)
    while time.monotonic() < stop:
        # Now and then a burst, as keys arrive after a stall or over a slow link.
        count = 60 if rnd.rng.random() < 0.2 else 1
        keys = "".join(rnd.rng.choice("abcdefgh") for _ in range(count))
        term.write(keys.encode())
        rnd.typed += keys
        time.sleep(rnd.rng.uniform(0.0, 0.03))
    term.hang_up()


def dialog(term: Terminal, rnd: Round) -> None:
    in_call_with_draft(term, rnd)
    term.press("ctrl+g")  # End call: a modal dialog
    end_after(term, rnd, rnd.rng.uniform(0.0, 0.3))


def quitting(term: Terminal, rnd: Round) -> None:
    in_call_with_draft(term, rnd)
    term.press("ctrl+q")
    end_after(term, rnd, rnd.rng.uniform(0.0, 0.15))


def sigterm(term: Terminal, rnd: Round) -> None:
    """Logout or shutdown: SIGTERM while the terminal is still there."""
    in_call_with_draft(term, rnd)
    time.sleep(rnd.rng.uniform(0.0, 0.2))
    term.process.send_signal(signal.SIGTERM)


def no_signal(term: Terminal, rnd: Round) -> None:
    """The terminal goes without a SIGHUP: reads return EOF and writes fail."""
    in_call_with_draft(term, rnd)
    end_after(term, rnd, rnd.rng.uniform(0.0, 0.3))


SCENARIOS: dict[str, tuple[Callable[[Terminal, Round], None], int]] = {
    "startup": (startup, 16),
    "home": (home, 8),
    "typing": (typing, 12),
    "dialog": (dialog, 6),
    "quitting": (quitting, 6),
    "sigterm": (sigterm, 4),
    "no_signal": (no_signal, 4),
}


def rows(database: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def play(rnd: Round) -> list[str]:
    """One round; what went wrong, if anything."""
    act, _ = SCENARIOS[rnd.scenario]
    term = Terminal(
        p2pcall_argv(rnd.data_dir), child_env(), controlling=rnd.scenario != "no_signal"
    )
    problems: list[str] = []
    try:
        try:
            act(term, rnd)
        except AssertionError as exc:  # the app ended early, or never drew what was typed
            problems.append(f"{rnd}: {exc}")
        try:
            term.process.wait(timeout=GONE_WITHIN)
        except subprocess.TimeoutExpired:
            problems.append(f"{rnd}: still running {GONE_WITHIN:.0f} s after the end")
        else:
            try:
                os.killpg(term.process.pid, 0)
            except ProcessLookupError:
                pass
            else:
                problems.append(f"{rnd}: a process of its group is still running")
    finally:
        term.close()  # kills whatever is left
    problems += check_records(rnd)
    return problems


def check_records(rnd: Round) -> list[str]:
    database = rnd.data_dir / "p2pcall.sqlite3"
    if not database.exists():
        return [f"{rnd}: no database"] if rnd.echoed else []
    problems = []
    if rows(database, "PRAGMA integrity_check") != [("ok",)]:
        problems.append(f"{rnd}: integrity_check failed")
    if rnd.echoed:
        notes = [body for (body,) in rows(database, "SELECT body FROM note")]
        drafts = [body for (body,) in rows(database, "SELECT body FROM draft WHERE section='A'")]
        if notes != [NOTE]:
            problems.append(f"{rnd}: notes {notes!r}")
        # At least what the app had drawn, and nothing that was not typed.
        if not any(d.startswith(rnd.echoed) and rnd.typed.startswith(d) for d in drafts):
            problems.append(f"{rnd}: draft {drafts!r}, shown {rnd.echoed!r}, typed {rnd.typed!r}")
    return problems


def test_closing_the_terminal_at_any_moment_ends_p2pcall_and_keeps_drafts(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("P2PCALL_HANGUP_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    rounds = [
        Round(0, name, random.Random(rng.random()), tmp_path / "unset")
        for name, (_, count) in SCENARIOS.items()
        for _ in range(count)
    ]
    rng.shuffle(rounds)  # mixed, so slow and fast rounds share the CPUs
    for number, rnd in enumerate(rounds):
        rnd.number = number
        rnd.data_dir = tmp_path / f"round{number}"
    assert len(rounds) >= 50
    with ThreadPoolExecutor(AT_ONCE) as pool:
        problems = [p for found in pool.map(play, rounds) for p in found]
    assert not problems, f"seed {seed}: {len(problems)} problem(s):\n" + "\n".join(problems)
