"""The app in a real pseudo-terminal: the window closed mid-call, an unexpected error,
escape sequences pasted into a note. Each runs `p2pcall` as its own process."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store.opening import open_store
from p2pcall.widgets.notes import NoteItem
from pilot_helpers import open_app, wait_until
from pty_terminal import Terminal, child_env, p2pcall_argv

# Seconds each (real processes, terminals, kill -9): left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

LEAVE_ALT_SCREEN = b"\x1b[?1049l"


def rows(data_dir: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{data_dir / 'p2pcall.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def start_call_with_note(term: Terminal, note: str) -> None:
    """Home -> new call -> section A -> one saved note."""
    term.wait_for("No calls yet")
    mark = term.mark()
    term.press("n")
    term.wait_for("Patient", mark)
    mark = term.mark()
    term.press("f1")
    term.wait_for("Note for A: Enter saves", mark)
    mark = term.mark()
    term.type(note)
    term.press("enter")
    term.wait_for("saved", mark)


@pytest.fixture
def terminal_for(data_dir: Path):
    opened: list[Terminal] = []

    def open_terminal(argv: list[str]) -> Terminal:
        term = Terminal(argv, child_env())
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


async def test_closing_the_terminal_mid_call_keeps_notes_and_draft(
    data_dir: Path, terminal_for
) -> None:
    term = terminal_for(p2pcall_argv(data_dir))
    start_call_with_note(term, "reviewerisfamilymed")
    mark = term.mark()
    term.type("halftypedcriterion")
    term.wait_for("halftypedcriterion", mark)
    # Closed well inside the one-second draft interval: only the SIGHUP handler saves it.
    term.hang_up()
    assert term.wait() == 128 + 1
    assert rows(data_dir, "SELECT body FROM note") == [("reviewerisfamilymed",)]
    assert rows(data_dir, "SELECT section, body FROM draft") == [("A", "halftypedcriterion")]
    assert rows(data_dir, "PRAGMA integrity_check") == [("ok",)]

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        [line] = app.screen.lines  # type: ignore[attr-defined]
        assert isinstance(app.screen, HomeScreen) and line.unfinished
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        assert app.screen.composer.text == "halftypedcriterion"  # type: ignore[attr-defined]
        assert [item.body for item in app.screen.query(NoteItem)] == ["reviewerisfamilymed"]


def test_unexpected_error_prints_no_phi_and_keeps_the_record(data_dir: Path, terminal_for) -> None:
    child = Path(__file__).parents[1] / "support" / "tui_child.py"
    term = terminal_for([sys.executable, str(child), str(data_dir)])
    term.wait_for("No calls yet")
    mark = term.mark()
    term.press("n")
    term.wait_for("Patient", mark)
    mark = term.mark()
    term.type("PHIPATIENT7731")  # the patient reference field has the focus
    term.wait_for("PHIPATIENT7731", mark)
    mark = term.mark()
    term.press("f1")
    term.wait_for("Note for A: Enter saves", mark)
    mark = term.mark()
    term.type("PHINOTE4242")
    term.press("enter")
    term.wait_for("saved", mark)
    mark = term.mark()
    term.type("PHIDRAFT9090")
    term.wait_for("PHIDRAFT9090", mark)
    term.press("f12")
    assert term.wait() == 1

    raw = bytes(term.output)
    assert LEAVE_ALT_SCREEN in raw
    after = term.text(raw.rindex(LEAVE_ALT_SCREEN))
    assert "unexpected error (ValueError at tui_child.py" in after
    assert "Your record is safe" in after
    assert f"Your records: {data_dir / 'p2pcall.sqlite3'}" in after, repr(after)
    for marker in ("PHIPATIENT7731", "PHINOTE4242", "PHIDRAFT9090", "Traceback", "locals"):
        assert marker not in after
    assert rows(data_dir, "SELECT body FROM note") == [("PHINOTE4242",)]
    assert rows(data_dir, "SELECT body FROM draft") == [("PHIDRAFT9090",)]
    assert rows(data_dir, "SELECT value FROM call_field WHERE key = 'patient_ref'") == [
        ("PHIPATIENT7731",)
    ]


# Sequences a terminal would act on: retitle the window, write the clipboard, clear the
# screen, blink, an 8-bit CSI. Each carries a marker to look for in the output.
STORED = (
    "t1\x1b]0;TITLEPWN\x07 t2\x1b]52;c;Q0xJUFBXTg==\x07 t3\x1b[2J\x1b[5mBLINKPWN"
    " t4\x9b31m [bold]b[/bold] \u202eRTLPWN\u202c \x00nul\x08"
)
# Pasted through the terminal as tmux 3.3 passes it: escape sequences included. Without
# p2pcall's paste guard, Textual would read them as key presses (BEL as Ctrl+G: End call).
PASTED = (
    " p1\x07BELL \x1b]0;PASTEPWN\x07 \x1b[2J p2\x9b31mC1PWN [@click=app.quit]q[/] \u202eRTL2PWN\x7f"
)
RAW_SEQUENCES = (b"\x1b]0;", b"\x1b]52;", b"\x1b[2J", b"\x1b[5m", b"\xc2\x9b", b"\x00", b"\x07")


def test_hostile_text_is_shown_literally_and_never_reaches_the_terminal(
    data_dir: Path, terminal_for
) -> None:
    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.domain.vocab import NoteKind

    store = open_store(data_dir)
    call = store.start_call("UTC")
    store.set_field(call.id, "patient_ref", STORED, log=True)
    store.add_note(call.id, Section.A, NoteKind.NOTE, STORED, now_utc())
    store.save_draft(call.id, Section.A, NoteKind.NOTE, STORED, now_utc())
    store.close()

    term = terminal_for(p2pcall_argv(data_dir))
    term.wait_for("Resume call")
    term.press("r")
    term.wait_for("Recovered text")
    term.wait_for("\u2400nul\u2408")  # the restored draft, drawn in the focused note field
    mark = term.mark()
    term.paste(PASTED)
    term.wait_for("2PWN\u2421", mark)  # the field shows the end of the line
    mark = term.mark()
    term.press("enter")
    term.wait_for("saved", mark)
    term.press("ctrl+q")
    assert term.wait() == 0

    # Textual's own pointer-shape sequence (OSC 22) ends in BEL; nothing else may.
    shown = re.sub(rb"\x1b\]22;[a-z-]*\x07", b"", bytes(term.output))
    for raw in RAW_SEQUENCES:
        assert raw not in shown, (raw, shown[max(0, shown.find(raw) - 80) : shown.find(raw) + 40])
    text = term.text()
    assert "\u241b]0;TITLEPWN\u2407" in text  # ESC and BEL as control pictures ␛ ␇
    assert "[bold]b[/bold]" in text and "[@click=app.quit]q[/]" in text
    notes = rows(data_dir, "SELECT body FROM note ORDER BY id")
    assert notes == [(STORED,), (STORED + PASTED,)]
    assert rows(data_dir, "SELECT value FROM call_field WHERE key = 'patient_ref'") == [(STORED,)]
