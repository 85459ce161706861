"""SVG snapshots at 80x24 of what a user sees. Time is frozen so the pictures are stable.

Update after an intended change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.screens.end_call import EndCallScreen
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store.opening import open_store
from pilot_helpers import DENIED_URGENT, wait_until

TZ = "America/New_York"
T0 = pendulum.datetime(2026, 11, 23, 15, 0, 0, tz="UTC")  # 10:00 in New York


@pytest.fixture
def frozen() -> Iterator[None]:
    pendulum.set_local_timezone(pendulum.timezone(TZ))
    pendulum.travel_to(T0, freeze=True)
    try:
        yield
    finally:
        pendulum.travel_back()
        pendulum.set_local_timezone()


def at(minutes: float) -> None:
    pendulum.travel_to(T0.add(seconds=int(minutes * 60)), freeze=True)


def seed(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        at(-60 * 24)
        done = store.start_call(TZ)
        store.set_field(done.id, "patient_ref", "MK-1180")
        store.set_field(done.id, "insurer", "Northwind Health")
        store.add_note(done.id, Section.A, NoteKind.NOTE, "Teen, IOP step-down", pendulum.now())
        at(-60 * 24 + 14)
        store.end_call(done.id, Outcome.PARTIAL)

        at(0)
        call = store.start_call(TZ)
        for key, value in {
            "patient_ref": "JD-0412",
            "insurer": "Acme [bold]Health",
            "reviewer_name": "Dr. A. Ruiz",
            "reviewer_specialty": "Family medicine",
            "reviewer_same_specialty": "no",
        }.items():
            store.set_field(call.id, key, value)
        store.set_field(call.id, "reviewer_board", "", declined=True)
        at(2)
        store.add_note(call.id, Section.B, NoteKind.NOTE, "Not a psychiatrist", pendulum.now())
        at(3)
        store.add_note(
            call.id, Section.B, NoteKind.QUOTE, "I only look at the criteria", pendulum.now()
        )
        at(4)
        store.add_note(call.id, Section.D, NoteKind.NOTE, "MCG, 27th ed.", pendulum.now())
        at(5)
        store.add_note(
            call.id, Section.B, NoteKind.COMMITMENT, "Will send credentials by Fri", pendulum.now()
        )
        store.save_draft(call.id, Section.B, NoteKind.NOTE, "[red]asked about", pendulum.now())
        at(7)
    finally:
        store.close()


async def _home(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.store_ready and isinstance(app.screen, HomeScreen))
    await wait_until(pilot, lambda: getattr(app.screen, "lines", None) is not None)
    await pilot.pause()


async def _quiet(pilot) -> None:
    """Every key taken and every database answer painted (section B asks for the reviewer's
    track record in the database thread: on a loaded machine it came after the picture)."""
    app = pilot.app
    await wait_until(pilot, lambda: app.key_order.idle and not app.db.pending)
    await pilot.pause()


async def _section_b(pilot) -> None:
    await _home(pilot)
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SectionScreen))
    await _quiet(pilot)


async def _end_call(pilot) -> None:
    await _section_b(pilot)
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, EndCallScreen))
    await pilot.pause()


def test_home_screen(snap_compare, data_dir: Path, frozen: None) -> None:
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_home)


def test_section_screen(snap_compare, data_dir: Path, frozen: None) -> None:
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_section_b)


def test_end_call_screen(snap_compare, data_dir: Path, frozen: None) -> None:
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_end_call)


# -- after the call: wrap-up and the due list ------------------------------------------------


def seed_denied_urgent(data_dir: Path) -> None:
    seed(data_dir)
    store = open_store(data_dir)
    try:
        call = store.unfinished_calls()[0]
        call_details = {"patient_ref", "insurer"}
        for key, value in DENIED_URGENT.items():
            if key not in call_details:  # keep the seeded call's patient and insurer
                store.set_field(call.id, key, value)
    finally:
        store.close()


async def _wrap_up(pilot) -> None:
    from p2pcall.screens.wrap_up import WrapUpScreen

    await _end_call(pilot)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, WrapUpScreen))
    await pilot.press("down", "down", "down", "down")  # the internal appeal: its rule below
    await pilot.pause()


async def _due(pilot) -> None:
    from p2pcall.screens.due import DueScreen

    await _home(pilot)
    await pilot.press("d")
    await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, DueScreen) and pilot.app.screen.items
    )
    await pilot.pause()


def seed_due(data_dir: Path) -> None:
    from p2pcall.domain.followups import PlannedFollowUp
    from p2pcall.domain.vocab import FollowUpAction

    seed(data_dir)
    store = open_store(data_dir)
    try:
        past = store.recent_calls()[0].id
        store.add_followups(
            past,
            [
                PlannedFollowUp(
                    FollowUpAction.CONFIRMATION,
                    "act_same_day",
                    pendulum.datetime(2026, 11, 22, 23, 59, 59, tz=TZ),
                ),
                PlannedFollowUp(
                    FollowUpAction.INTERNAL_APPEAL,
                    "internal_appeal_filing",
                    pendulum.datetime(2027, 5, 19, 23, 59, 59, tz=TZ),
                    due_override=pendulum.datetime(2026, 11, 23, 23, 59, 59, tz=TZ),
                    override_reason="Plan letter [bold]asks for it today",
                ),
                PlannedFollowUp(
                    FollowUpAction.CHASE_DOCUMENTS,
                    due_override=pendulum.datetime(2026, 11, 27, 23, 59, 59, tz=TZ),
                    override_reason="Date the reviewer promised on the call (section G)",
                    note="Criteria copy (promised, by 2026-11-27)",
                ),
            ],
        )
    finally:
        store.close()


def test_wrap_up_screen(snap_compare, data_dir: Path, frozen: None) -> None:
    seed_denied_urgent(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_wrap_up)


def test_due_screen(snap_compare, data_dir: Path, frozen: None) -> None:
    seed_due(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_due)


# -- readable at 80x24 and still usable at 60x20 (issue 11) ---------------------------------


async def _field_in_full(pilot) -> None:
    await _section_b(pilot)
    await pilot.press("ctrl+f", "end", *" (Samantha) Patel-Whitmore, MD, FAAFP", "enter")
    await pilot.pause()


def test_section_field_in_full(snap_compare, data_dir: Path, frozen: None) -> None:
    """The name field left by Enter: its value cut with …, where Enter went, Degree marked."""
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_field_in_full)


async def _correct_emoji(pilot) -> None:
    from p2pcall.screens.record_modals import CorrectNoteScreen

    await _section_b(pilot)
    composer = pilot.app.screen.query_one("#composer")
    composer.field.clear()
    composer.field.insert(
        "Dr \U0001f469\u200d\u2695\ufe0f agreed \U0001f44d\U0001f3fd \u2764\ufe0f"
    )
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.db.pending == 0)
    await pilot.press("ctrl+e")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CorrectNoteScreen))
    await pilot.pause()


def test_correct_note_with_emoji(snap_compare, data_dir: Path, frozen: None) -> None:
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_correct_emoji)


async def _section_b_typing(pilot) -> None:
    await _section_b(pilot)
    await pilot.press("alt+m", *" by Friday")
    await _quiet(pilot)


def test_live_call_at_60x20(snap_compare, data_dir: Path, frozen: None) -> None:
    """Narrower than the design size: fields, notes, the note field and its kind still show."""
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(60, 20), run_before=_section_b_typing)


async def _call_info_typed(pilot) -> None:
    from p2pcall.screens.call_info import CallInfoScreen

    await _home(pilot)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CallInfoScreen))
    await pilot.press(*"QA-7", "enter", *"Northwind Health Plan of the Lower Hudson Valley, Inc.")
    await pilot.pause()


def test_call_info_enter_and_a_long_value(snap_compare, data_dir: Path, frozen: None) -> None:
    """Call info after Enter in the patient field: where it went, and the insurer in full."""
    seed(data_dir)
    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=_call_info_typed)
