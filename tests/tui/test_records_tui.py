"""Corrections, finalizing and addenda through the real app (Pilot) and a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.screens.call_info import CallInfoScreen
from p2pcall.screens.end_call import EndCallScreen
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.record_modals import AddendumReasonScreen, CorrectNoteScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.widgets.callbar import ChainHead
from p2pcall.widgets.composer import NoteField
from p2pcall.widgets.fields import FieldForm
from p2pcall.widgets.notes import NoteItem
from pilot_helpers import (
    finish_wrap_up,
    load_latest,
    note,
    open_app,
    settle,
    start_call,
    type_text,
    wait_until,
)

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def items(app: P2PCallApp) -> list[NoteItem]:
    return list(app.screen.query(NoteItem))


async def test_correct_finalize_then_addendum(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await note(pilot, "Patient is 34")
        await note(pilot, "Tried sertraline 8 wks")
        await settle(pilot)

        # Ctrl+E opens on the last note; Ctrl+E again steps to the one before.
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, CorrectNoteScreen))
        assert app.screen.query_one(NoteField).text == "Tried sertraline 8 wks"
        await pilot.press("ctrl+e")
        assert app.screen.query_one(NoteField).text == "Patient is 34"
        await pilot.press("backspace", "backspace")
        await type_text(pilot, "43")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await settle(pilot)

        shown = items(app)
        assert [(i.body, i.corrected, i.corrects is not None) for i in shown] == [
            ("Patient is 34", True, False),
            ("Patient is 43", False, True),  # under its original, not at the end
            ("Tried sertraline 8 wks", False, False),
        ]
        assert "CORRECTION" in str(shown[1].render())
        assert app.note_counts == {"A": 2}
        assert "corrected below" in str(shown[0].render())

        # End the call; finishing the wrap-up finalizes it (the same app method as below).
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.press("enter")
        await finish_wrap_up(pilot)
        await settle(pilot)
        call_id = load_latest(data_dir, unfinished=False).call.id
        finalized = []
        app.finalize_call(call_id, finalized.append)
        await wait_until(pilot, lambda: finalized)
        head = finalized[0].chain_head
        assert head and len(head) == 64

        # Open it again: fields locked, the chain head in the call bar, corrections refused.
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await pilot.pause()
        bar = app.screen.query_one(ChainHead)
        assert bar.display and "FINAL" in str(bar.render())
        assert head.startswith(str(bar.render()).split()[1])
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, SectionScreen)
        await pilot.press("f8")  # call info: the fields are shown but cannot be edited
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        assert app.screen.query_one(FieldForm).disabled
        await type_text(pilot, "XYZ")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))

        # A note now is an addendum: Esc gives the text back, no reason refuses, then saved.
        await note(pilot, "Denial letter arrived")
        await wait_until(pilot, lambda: isinstance(app.screen, AddendumReasonScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        assert app.screen.composer.text == "Denial letter arrived"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AddendumReasonScreen))
        await pilot.press("enter")  # empty reason: refused, dialog stays
        await pilot.pause()
        assert isinstance(app.screen, AddendumReasonScreen)
        await type_text(pilot, "mail came today")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await settle(pilot)
        assert "added after the call: mail came today" in str(items(app)[-1].render())
        await pilot.press("ctrl+g")  # a finalized call has nothing to end: it just closes
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)

    record = load_latest(data_dir, unfinished=False)
    assert [(n.body, n.corrects is not None, n.late, n.reason) for n in record.notes] == [
        ("Patient is 34", False, False, ""),
        ("Tried sertraline 8 wks", False, False, ""),
        ("Patient is 43", True, False, ""),
        ("Denial letter arrived", False, True, "mail came today"),
    ]
    assert record.notes[2].corrects == record.notes[0].id
    assert record.call.chain_head == head
    assert record.call.value("patient_ref") == ""  # nothing typed into the locked fields
    assert record.notes[3].saved_at > record.call.finalized_at


async def test_correcting_with_no_notes_says_so(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f2", "ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, SectionScreen) and app.screen.section is Section.B
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert not isinstance(app.screen, CorrectNoteScreen)
