"""The whole live call, driven through Pilot against a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.screens.end_call import EndCallScreen
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store.opening import open_store
from pilot_helpers import (
    finish_wrap_up,
    load_latest,
    note,
    open_app,
    settle,
    skip_wrap_up,
    start_call,
    type_text,
    wait_until,
)

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def screen_section(app: P2PCallApp) -> Section | None:
    return app.screen.section if isinstance(app.screen, SectionScreen) else None


async def test_a_whole_call_is_recorded_exactly_as_typed(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        # Call info: patient reference, then the insurer on the next field.
        await type_text(pilot, "JD-0412")
        await pilot.press("tab")
        await type_text(pilot, "Acme [bold]Health")
        await pilot.press("tab")

        # Jump around the agenda the way a conversation does: D, then A, then B, then D.
        await pilot.press("f4")
        assert screen_section(app) is Section.D
        await note(pilot, "They applied MCG 27th edition")
        await pilot.press("f1")
        assert screen_section(app) is Section.A
        await note(pilot, "Patient is 34")
        await note(pilot, "Overdose attempt last Tuesday", kind_presses=3)  # new info
        await pilot.press("ctrl+f")
        await type_text(pilot, "34")
        await pilot.press("alt+b")
        assert screen_section(app) is Section.B
        await pilot.press("ctrl+f")
        await type_text(pilot, "Dr. Ruiz")
        await pilot.press("tab")
        await pilot.press("ctrl+r")  # degree: declined to give
        await pilot.press("escape")
        await note(pilot, "I'm not a psychiatrist", kind_presses=1)  # quote
        await pilot.press("ctrl+b", "ctrl+n", "ctrl+n")  # B -> A -> B -> C
        assert screen_section(app) is Section.C
        await pilot.press("ctrl+n")
        await note(pilot, "Will send the criteria by Friday", kind_presses=2)  # commitment
        await settle(pilot)

        agenda = app.note_counts
        assert agenda == {"A": 2, "B": 1, "D": 2}

        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.press("down", "down", "enter")  # Approved -> Partial -> Denied
        await finish_wrap_up(pilot)
        await settle(pilot)

    store = open_store(data_dir)
    try:
        [summary] = store.recent_calls()
        record = store.load_call(summary.id)
    finally:
        store.close()
    call = record.call
    assert call.outcome is Outcome.DENIED
    assert call.started_at <= call.ended_at
    assert call.values["patient_ref"] == "JD-0412"
    assert call.values["insurer"] == "Acme [bold]Health"
    assert call.values["patient_age"] == "34"
    assert call.values["reviewer_name"] == "Dr. Ruiz"
    assert call.declined == {"reviewer_credentials"}
    got = [(n.section, n.kind, n.body) for n in record.notes]
    assert got == [
        (Section.D, NoteKind.NOTE, "They applied MCG 27th edition"),
        (Section.A, NoteKind.NOTE, "Patient is 34"),
        (Section.A, NoteKind.NEW_INFO, "Overdose attempt last Tuesday"),
        (Section.B, NoteKind.QUOTE, "I'm not a psychiatrist"),
        (Section.D, NoteKind.COMMITMENT, "Will send the criteria by Friday"),
    ]
    times = [n.saved_at for n in record.notes]
    assert times == sorted(times)
    for item in record.notes:
        assert item.saved_at.utcoffset().total_seconds() == 0
        assert call.started_at <= item.started_at <= item.saved_at <= call.ended_at
        assert not item.late
    assert record.drafts == []


async def test_unsent_text_is_kept_as_a_draft_and_offered_back(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f5")
        await note(pilot, "Status: pending more records")
        await type_text(pilot, "They said a decision by")
        await wait_until(pilot, lambda: app.db.pending == 0 and not _draft_waiting(app))
        await settle(pilot)
        # Quit without sending: the call stays unfinished.
        await pilot.press("ctrl+q")

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert [line.unfinished for line in home.lines] == [True]
        await pilot.press("r")
        await wait_until(pilot, lambda: screen_section(app) is Section.E)
        screen = app.screen
        assert screen.composer.text == "They said a decision by"
        assert "Recovered text" in str(screen.query_one("#draft-notice").render())
        await type_text(pilot, " Monday")
        await pilot.press("enter")
        await settle(pilot)
        assert app.note_counts == {"E": 2}

    record = load_latest(data_dir, unfinished=True)
    assert [n.body for n in record.notes] == [
        "Status: pending more records",
        "They said a decision by Monday",
    ]
    assert record.drafts == []


def _draft_waiting(app: P2PCallApp) -> bool:
    return any(screen._draft.pending for screen in app._call_screens() if screen.is_mounted)


async def test_multiline_note_and_late_entry_after_the_call(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f3", "ctrl+l")
        await type_text(pilot, "IOP 3x/week")
        await pilot.press("enter")
        await type_text(pilot, "for 6 weeks")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.press("enter")  # Approved
        await skip_wrap_up(pilot)  # ended, not finalized: a late note needs no reason
        await settle(pilot)
        # Open the ended call again and add to it: that is a late entry.
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_section(app) is Section.A)
        await note(pilot, "Forgot: reviewer cited LOCUS level 3")
        await settle(pilot)

    record = load_latest(data_dir, unfinished=False)
    assert [(n.body, n.late) for n in record.notes] == [
        ("IOP 3x/week\nfor 6 weeks", False),
        ("Forgot: reviewer cited LOCUS level 3", True),
    ]
    assert record.notes[1].saved_at > record.call.ended_at


async def test_markup_and_escape_sequences_are_shown_literally(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        hostile = "[@click=app.quit]x[/] \x1b]0;pwned\x07 done"
        app.screen.composer.field.insert(hostile)
        await pilot.press("enter")
        await settle(pilot)
        item = app.screen.query_one(".note")
        shown = str(item.render())
        assert "[@click=app.quit]x[/]" in shown
        assert "\x1b" not in shown and "\u241b" in shown
        assert app.is_running


async def test_a_key_queued_behind_enter_starts_the_next_note(data_dir: Path) -> None:
    from textual.events import Key

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        field = app.screen.composer.field
        field.insert("first note")
        # Both keys queued at once, as after a stall or over a laggy link.
        field.post_message(Key("enter", "\r"))
        field.post_message(Key("z", "z"))
        await settle(pilot)
        await wait_until(pilot, lambda: app.screen.composer.text == "z")
        await settle(pilot)
    record = load_latest(data_dir, unfinished=True)
    assert [n.body for n in record.notes] == ["first note"]


async def test_arrow_keys_queued_before_enter_pick_the_outcome(data_dir: Path) -> None:
    from textual.events import Key

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        # Typed as one burst: the keys reach the app before the list has moved.
        for key in ("down", "down", "enter"):
            app.post_message(Key(key, "\r" if key == "enter" else None))
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.call.outcome is Outcome.DENIED


async def test_ending_an_ended_call_again_keeps_its_outcome_and_end(data_dir: Path) -> None:
    from p2pcall.screens.wrap_up import WrapUpScreen

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.press("down", "down", "enter")  # Denied
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await pilot.press("escape", "escape")  # wrap-up later
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        assert "wrap-up pending" in app.screen.lines[0].text  # not finalized: home says so
        ended_at = load_latest(data_dir, unfinished=False).call.ended_at
        await pilot.press("enter")  # reopen it
        await wait_until(pilot, lambda: screen_section(app) is not None)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        assert "It ended at" in str(app.screen.summary)
        await pilot.press("enter")  # straight through: the recorded outcome is offered
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await settle(pilot)
    call = load_latest(data_dir, unfinished=False).call
    assert (call.outcome, call.ended_at) == (Outcome.DENIED, ended_at)


async def test_a_long_field_value_shows_its_start_once_left(data_dir: Path) -> None:
    """Seen in tmux at 80x24: after Tab, the reviewer's name read "lan Okafor"."""
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: getattr(app.screen, "section", None) is Section.B)
        await pilot.press("ctrl+f", *"Dr. Alan Okafor", "tab")
        await pilot.pause()
        name = app.screen.query_one("#f-reviewer_name")
        assert not name.has_focus
        assert name.render_line(0).text.startswith("Dr. Alan")
        await pilot.press("shift+tab", *" MD")  # back in: the cursor is at the end
        await pilot.pause()
        assert name.value == "Dr. Alan Okafor MD"
        await settle(pilot)
