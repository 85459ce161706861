"""The clinical clock in the app: prepared calls, the urgent wrap-up, dated words, far dates.

Driven through Pilot against a real database file, with the clock frozen (10:00 New York,
Mon 23 Nov 2026) and moved by hand where a test needs time to pass.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import FollowUpAction, NoteKind
from p2pcall.screens.call_info import CallInfoScreen
from p2pcall.screens.end_call import EndCallScreen
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.wrap_up import WrapUpScreen
from p2pcall.store.opening import open_store
from pilot_helpers import finish_wrap_up, load_latest, open_app, settle, type_text, wait_until
from test_snapshots import T0, TZ, at, frozen  # noqa: F401  (the fixture, used below)
from test_wrap_up import end_call_into_wrap_up

pytestmark = pytest.mark.usefixtures("frozen")

URGENT_CONCURRENT_ERISA = {
    "patient_ref": "RT-31",
    "insurer": "Acme Health",
    "plan_type": "erisa",
    "review_type": "concurrent",
    "urgency": "urgent",
    "denial_date": "2026-11-11",
    "denial_received": "2026-11-13",
    "coverage_status": "denied",
    "level_of_care": "residential",
}


def seed(data_dir: Path, values: dict[str, str], commitment: str = "") -> int:
    store = open_store(data_dir)
    try:
        call = store.start_call(TZ)
        for key, value in values.items():
            store.set_field(call.id, key, value)
        if commitment:
            store.add_note(call.id, Section.E, NoteKind.COMMITMENT, commitment, pendulum.now())
        return call.id
    finally:
        store.close()


async def test_a_prepared_call_started_later_keeps_both_times(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        await type_text(pilot, "AB-7")
        await settle(pilot)
        clock = app.screen.query_one("#clock")
        assert "PREPARING" in str(clock.render())
        prepared = app.live.call.created_at
        assert app.live.call.started_at is None
        at(25)  # the reviewer calls 25 minutes later
        await pilot.press("f9")
        await wait_until(pilot, lambda: app.live.call.started_at is not None)
        await settle(pilot)
        at(37)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        summary = str(app.screen.summary)
        assert summary.startswith("Call #1:") and "never marked connected" not in summary
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    call = record.call
    assert call.created_at == prepared == T0
    assert call.started_at == T0.add(minutes=25)
    assert call.ended_at == T0.add(minutes=37)
    assert call.value("patient_ref") == "AB-7"
    # The letter's "from ... to" is the connected time to the end, not the preparation.
    from p2pcall.domain.letters.facts import facts_from
    from p2pcall.domain.letters.parts import call_span

    assert call_span(facts_from(record)).startswith("from 10:25 to 10:37")


async def test_a_prepared_call_shows_on_home_as_upcoming(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        call = store.prepare_call(TZ)
        for key, value in {
            "patient_ref": "AB-7",
            "denial_received": "2026-11-19",
            "p2p_window": "5",
        }.items():
            store.set_field(call.id, key, value)
    finally:
        store.close()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        lines = app.screen.lines
        assert lines[0].upcoming
        # Thu 19 Nov + 5 business days = Thu 26 Nov.
        assert "ask for the P2P by Thu 26 Nov" in lines[0].text
        await pilot.press("r")  # resume does not pick a call that has not started
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_urgent_concurrent_denial_same_day_items_first_legal_limit_beside(
    data_dir: Path,
) -> None:
    seed(data_dir, URGENT_CONCURRENT_ERISA)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        items = screen.plan.suggestions
        dated = [s for s in items if s.computed_due is not None]
        first_undated = next(i for i, s in enumerate(items) if s.computed_due is None)
        assert items[: len(dated)] == dated and first_undated == len(dated)
        same_day = pendulum.datetime(2026, 11, 23, 23, 59, 59, tz=TZ)
        assert all(s.computed_due == same_day for s in dated)
        checklist = screen.query_one("#checklist")
        rows = [checklist.render_line(y).text for y in range(len(items))]
        letter_row = rows[[s.action for s in items].index(FollowUpAction.NECESSITY_LETTER)]
        # Same day, and the 180-day legal limit (13 Nov + 180 = 12 May 2027) beside it.
        assert "Mon 23 Nov" in letter_row and "law 12 May 2027" in letter_row
        order = [s.action for s in items if s.selected]
        assert order.index(FollowUpAction.EXPEDITED_REVIEW) < order.index(FollowUpAction.CHASE_PLAN)
        for _ in range([s.action for s in items].index(FollowUpAction.EXPEDITED_REVIEW)):
            await pilot.press("down")
        detail = str(screen.query_one("#wrap-detail").render())
        assert "Clinical: Mon 23 Nov 2026 23:59 -05:00" in detail
        assert "Legal limit: Wed 12 May 2027" in detail
        assert "29 CFR 2560.503-1(h)(3)(i)" in detail


async def test_dated_words_are_proposed_and_applied_only_when_confirmed(data_dir: Path) -> None:
    seed(data_dir, URGENT_CONCURRENT_ERISA, commitment="New information in writing within 2h")
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        keys = [s.action for s in screen.plan.suggestions]
        index = keys.index(FollowUpAction.REVIEWER_COMMITMENT)
        for _ in range(index):
            await pilot.press("down")
        detail = str(screen.query_one("#wrap-detail").render())
        assert "within 2h" in detail and "y takes it" in detail
        letter = next(
            s for s in screen.plan.suggestions if s.action is FollowUpAction.NECESSITY_LETTER
        )
        assert letter.clinical_due == pendulum.datetime(2026, 11, 23, 23, 59, 59, tz=TZ)
        await pilot.press("y")
        await pilot.pause()
        # The reviewer's window (12:00) closes before the end of the day: the letter moves up.
        letter = next(
            s for s in screen.plan.suggestions if s.action is FollowUpAction.NECESSITY_LETTER
        )
        assert letter.clinical_due == pendulum.datetime(2026, 11, 23, 12, 0, tz=TZ)
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    commitment = next(f for f in record.followups if f.action is FollowUpAction.REVIEWER_COMMITMENT)
    assert commitment.due_override == pendulum.datetime(2026, 11, 23, 12, 0, tz=TZ)
    assert "within 2h" in commitment.override_reason


async def test_a_date_far_from_the_call_is_questioned_and_kept_when_confirmed(
    data_dir: Path,
) -> None:
    values = dict(URGENT_CONCURRENT_ERISA, denial_date="2025-11-11")  # 2025 typed for 2026
    seed(data_dir, values)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        problems = screen.query_one("#wrap-problems")
        assert "Did you mean 2026-11-11?" in str(problems.render())
        await pilot.press("k")
        await settle(pilot)
        await wait_until(pilot, lambda: not problems.display)
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.call.value("denial_date") == "2025-11-11"  # kept as typed
    assert record.call.value("dates_confirmed") == "denial_date=2025-11-11"


async def test_call_info_questions_a_far_date_as_it_is_typed(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        screen = app.screen
        warning = screen.query_one("#far-dates")
        assert not warning.display
        screen.query_one("#f-denial_date").focus()
        await type_text(pilot, "2025-11-18")
        await pilot.press("tab")
        await settle(pilot)
        await wait_until(pilot, lambda: warning.display)
        assert "Did you mean 2026-11-18?" in str(warning.render())
        await settle(pilot)
    record = load_latest(data_dir, unfinished=True)
    assert record.call.value("denial_date") == "2025-11-18"  # kept as typed


async def test_prepare_connect_and_end_typed_as_one_burst(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("p", *"AB-9", "tab", *"Zeta", "f2", "f9", *"Dr Who", "enter", "ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        assert "never marked connected" not in app.screen.summary
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.call.value("patient_ref") == "AB-9"
    assert record.call.value("insurer") == "Zeta"
    assert record.call.started_at == T0  # stamped at the F9 key press
    assert [n.body for n in record.notes] == ["Dr Who"]


async def test_a_date_set_after_the_legal_limit_is_warned_about(data_dir: Path) -> None:
    from p2pcall.screens.wrap_up import DueDateScreen

    seed(data_dir, URGENT_CONCURRENT_ERISA)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        keys = [s.action for s in screen.plan.suggestions]
        for _ in range(keys.index(FollowUpAction.NECESSITY_LETTER)):
            await pilot.press("down")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, DueDateScreen))
        await type_text(pilot, "2027-06-01")
        await pilot.press("enter")
        await type_text(pilot, "clinic backlog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        detail = str(screen.query_one("#wrap-detail").render())
        # 13 Nov + 180 days = 12 May 2027: 1 June is past it.
        assert "after the legal limit" in detail
