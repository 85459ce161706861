"""Wrap-up and the due list, driven through Pilot against a real database file.

Time is frozen (10:00 in New York on Mon 23 Nov 2026) so the computed dates are fixed; the
expected dates are worked out by hand in tests/unit/test_followups.py.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus, NoteKind, Outcome
from p2pcall.screens.due import DueScreen
from p2pcall.screens.end_call import EndCallScreen
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.screens.wrap_up import DueDateScreen, WrapUpScreen
from p2pcall.store.opening import open_store
from pilot_helpers import (
    DENIED_URGENT,
    finish_wrap_up,
    load_latest,
    open_app,
    settle,
    type_text,
    wait_until,
)
from test_snapshots import T0, TZ, frozen  # noqa: F401  (the fixture, used below)

pytestmark = pytest.mark.usefixtures("frozen", "database")


def seed_live_call(data_dir: Path, values: dict[str, str]) -> int:
    store = open_store(data_dir)
    try:
        call = store.start_call(TZ)
        for key, value in values.items():
            store.set_field(call.id, key, value)
        store.add_note(
            call.id, Section.G, NoteKind.COMMITMENT, "Criteria copy by Friday", pendulum.now()
        )
        return call.id
    finally:
        store.close()


async def end_call_into_wrap_up(pilot) -> WrapUpScreen:
    app = pilot.app
    await open_app(pilot)
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
    await pilot.pause()
    await pilot.press("enter")  # the default is the coverage status typed in E: Denied
    await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
    await pilot.pause()
    return app.screen  # type: ignore[return-value]


def dues(record) -> dict[tuple[FollowUpAction, str], tuple[str | None, str | None]]:
    return {
        (f.action, f.note): (
            f.computed_due.in_timezone(TZ).isoformat() if f.computed_due else None,
            f.rule_id,
        )
        for f in record.followups
    }


async def test_denied_urgent_call_wrap_up_stores_suggested_followups(data_dir: Path) -> None:
    seed_live_call(data_dir, DENIED_URGENT)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        text = str(screen.query_one("#commitment-list").render())
        assert "Criteria copy by Friday" in text
        detail = str(screen.query_one("#wrap-detail").render())
        assert "rule act_same_day" in detail and "Check the date on the notice" in detail
        await finish_wrap_up(pilot)
        await settle(pilot)

    record = load_latest(data_dir, unfinished=False)
    assert record.call.outcome is Outcome.DENIED
    same_day = "2026-11-23T23:59:59-05:00"
    assert dues(record) == {
        (FollowUpAction.CONFIRMATION, ""): (same_day, "act_same_day"),
        # Urgent: the clinical clock first (same day); the legal rule kept beside it.
        (FollowUpAction.EXPEDITED_REVIEW, ""): (same_day, "internal_appeal_filing"),
        (FollowUpAction.NECESSITY_LETTER, ""): (same_day, "internal_appeal_filing"),
        (FollowUpAction.EXTERNAL_REVIEW, ""): (same_day, None),
        (FollowUpAction.INFORM_PATIENT, ""): (same_day, None),
        # "by Friday" in a commitment: proposed in the wrap-up, not applied without a y.
        (FollowUpAction.REVIEWER_COMMITMENT, "#1 Criteria copy by Friday"): (None, None),
        (FollowUpAction.CHASE_DOCUMENTS, "Criteria copy (promised, by 2026-11-27)"): (None, None),
        # The plans' decision clocks: dated when the appeal / external review is marked sent.
        (FollowUpAction.CHASE_PLAN, "appeal decision"): (None, "internal_appeal_decision_urgent"),
        (FollowUpAction.CHASE_PLAN, "external review decision"): (
            None, "external_review_decision_expedited"),
    }  # fmt: skip
    letter = next(f for f in record.followups if f.action is FollowUpAction.NECESSITY_LETTER)
    assert letter.legal_due == pendulum.datetime(2027, 5, 19, 23, 59, 59, tz=TZ)
    chase = next(f for f in record.followups if f.action is FollowUpAction.CHASE_DOCUMENTS)
    assert chase.due == pendulum.datetime(2026, 11, 27, 23, 59, 59, tz=TZ)
    assert "promised" in chase.override_reason
    assert all(f.status is FollowUpStatus.PLANNED for f in record.followups)
    # Finishing the wrap-up finalized the record.
    assert record.call.finalized_at == T0
    assert record.call.chain_head and len(record.call.chain_head) == 64


async def test_ticked_and_unticked_boxes_differ_without_colour(data_dir: Path) -> None:
    seed_live_call(data_dir, DENIED_URGENT)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        checklist = screen.query_one("#checklist")

        def boxes() -> list[str]:
            count = len(screen.plan.suggestions)
            return [checklist.render_line(y).text[:3] for y in range(count)]

        ticked = [s.key in checklist.selected for s in screen.plan.suggestions]
        assert any(ticked) and not all(ticked)
        assert boxes() == ["\u2590X\u258c" if on else "\u2590 \u258c" for on in ticked]
        await pilot.press("space")  # untick the first line: its box empties
        await pilot.pause()
        assert boxes()[0] == "\u2590 \u258c"


async def test_untick_and_override_with_a_reason(data_dir: Path) -> None:
    seed_live_call(data_dir, DENIED_URGENT)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        keys = [s.action for s in screen.plan.suggestions]
        # Untick the written confirmation (first line).
        await pilot.press("space")
        # Move to the internal appeal and give it the date printed on the notice.
        for _ in range(keys.index(FollowUpAction.INTERNAL_APPEAL)):
            await pilot.press("down")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, DueDateScreen))
        await type_text(pilot, "2027-02-30")
        await pilot.press("enter")
        assert "does not exist" in str(app.screen.query_one("#due-error").render())
        await pilot.press(*["backspace"] * 10)
        await type_text(pilot, "2027-05-01")
        await pilot.press("enter")  # to the reason
        await pilot.press("enter")  # no reason: refused over a computed date
        assert isinstance(app.screen, DueDateScreen)
        assert "Say why" in str(app.screen.query_one("#due-error").render())
        await type_text(pilot, "Notice gives 1 May")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await finish_wrap_up(pilot)
        await settle(pilot)

    record = load_latest(data_dir, unfinished=False)
    by_action = {f.action: f for f in record.followups}
    assert FollowUpAction.CONFIRMATION not in by_action
    appeal = by_action[FollowUpAction.INTERNAL_APPEAL]  # unticked (urgent), ticked by o
    assert appeal.computed_due == pendulum.datetime(2026, 11, 23, 23, 59, 59, tz=TZ)
    assert appeal.legal_due == pendulum.datetime(2027, 5, 19, 23, 59, 59, tz=TZ)
    assert appeal.due_override == pendulum.datetime(2027, 5, 1, 23, 59, 59, tz=TZ)
    assert appeal.override_reason == "Notice gives 1 May"


async def test_missing_plan_type_is_explained_and_the_rest_still_saves(data_dir: Path) -> None:
    values = {k: v for k, v in DENIED_URGENT.items() if k != "plan_type"}
    values["denial_received"] = "2026-02-30"
    seed_live_call(data_dir, values)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        problems = str(screen.query_one("#wrap-problems").render())
        assert "No plan type" in problems
        assert "2026-02-30 does not exist" in problems
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    by_action = {f.action: f for f in record.followups}
    assert by_action[FollowUpAction.CONFIRMATION].computed_due is not None
    expedited = by_action[FollowUpAction.EXPEDITED_REVIEW]
    assert expedited.rule_id is None and expedited.legal_due is None  # no plan type, no rule


async def test_plan_type_set_at_wrap_up_dates_the_appeal(data_dir: Path) -> None:
    values = {k: v for k, v in DENIED_URGENT.items() if k != "plan_type"}
    seed_live_call(data_dir, values)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen is not screen)
        await pilot.press("enter")  # open the plan type choices
        await pilot.press("down", "enter")  # the first choice: employer plan (ERISA)
        await pilot.press("escape")
        await settle(pilot)
        await wait_until(pilot, lambda: app.screen is screen)
        assert "No plan type" not in str(screen.query_one("#wrap-problems").render())
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.call.values["plan_type"] == "erisa"
    by_action = {f.action: f for f in record.followups}
    assert by_action[FollowUpAction.EXPEDITED_REVIEW].rule_id == "internal_appeal_filing"


async def test_escape_twice_leaves_without_saving(data_dir: Path) -> None:
    seed_live_call(data_dir, DENIED_URGENT)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await end_call_into_wrap_up(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, WrapUpScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.followups == []
    assert record.call.ended_at is not None
    assert record.call.finalized_at is None  # only finishing the wrap-up finalizes


async def test_a_failed_finalize_keeps_the_wrap_up_and_a_retry_stores_nothing_twice(
    data_dir: Path,
) -> None:
    seed_live_call(data_dir, DENIED_URGENT)
    store = open_store(data_dir)
    try:
        # A note stamped 10 minutes ahead of the clock: finalizing is refused until it catches up.
        pendulum.travel_to(T0.add(minutes=10), freeze=True)
        store.add_note(1, Section.E, NoteKind.NOTE, "Decision expected Friday", pendulum.now())
        pendulum.travel_to(T0, freeze=True)
    finally:
        store.close()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await end_call_into_wrap_up(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen._saving)
        assert app.screen is screen  # still there, with the reason shown as a notice
        pendulum.travel_to(T0.add(minutes=11), freeze=True)
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.call.finalized_at == T0.add(minutes=11)
    lines = [(f.action, f.note) for f in record.followups]
    assert len(lines) == len(set(lines)) == 9


def seed_due(data_dir: Path) -> tuple[int, int]:
    store = open_store(data_dir)
    try:
        call = store.start_call(TZ)
        store.set_field(call.id, "patient_ref", "JD-0412")
        store.set_field(call.id, "insurer", "Acme Health")
        store.end_call(call.id, Outcome.DENIED)
        late, soon = store.add_followups(
            call.id,
            [
                PlannedFollowUp(
                    FollowUpAction.CONFIRMATION,
                    "act_same_day",
                    pendulum.datetime(2026, 11, 20, 23, 59, 59, tz=TZ),
                ),
                PlannedFollowUp(
                    FollowUpAction.CHASE_DOCUMENTS,
                    due_override=pendulum.datetime(2026, 11, 27, 23, 59, 59, tz=TZ),
                    override_reason="Date the reviewer promised on the call (section G)",
                    note="Criteria copy (promised, by 2026-11-27)",
                ),
            ],
        )
        store.finalize_call(call.id)  # follow-ups stay workable on a finalized record
        return late.id, soon.id
    finally:
        store.close()


async def test_due_screen_marks_done_and_opens_the_call(data_dir: Path) -> None:
    late_id, soon_id = seed_due(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        panel = app.screen.query_one("#due-panel")
        await wait_until(pilot, lambda: "overdue" in str(panel.render()))
        assert "1 overdue" in str(panel.render())
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        due = app.screen
        assert set(due.items) == {str(late_id), str(soon_id)}
        detail = str(due.query_one("#due-detail").render())
        assert "rule act_same_day" in detail and "Check the date on the notice" in detail
        await pilot.press("x")  # the overdue confirmation is highlighted first
        await wait_until(pilot, lambda: set(due.items) == {str(soon_id)})
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        assert app.live.call.id == 1

    store = open_store(data_dir)
    try:
        done, planned = store.followups_for(1)
    finally:
        store.close()
    assert done.status is FollowUpStatus.DONE and done.done_at == T0
    assert planned.status is FollowUpStatus.PLANNED and planned.done_at is None


async def test_a_skipped_wrap_up_can_be_finished_later(data_dir: Path) -> None:
    seed_live_call(data_dir, DENIED_URGENT)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await end_call_into_wrap_up(pilot)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        await pilot.press("enter")  # open the ended call from the list
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))
        await finish_wrap_up(pilot)
        await settle(pilot)
    record = load_latest(data_dir, unfinished=False)
    assert record.call.finalized_at is not None
    assert len(record.followups) == 9


async def test_due_screen_marks_not_needed(data_dir: Path) -> None:
    late_id, soon_id = seed_due(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        due = app.screen
        await pilot.press("n")
        await wait_until(pilot, lambda: set(due.items) == {str(soon_id)})
        await settle(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    store = open_store(data_dir)
    try:
        statuses = {f.id: (f.status, f.done_at) for f in store.followups_for(1)}
    finally:
        store.close()
    assert statuses == {
        late_id: (FollowUpStatus.NOT_NEEDED, None),
        soon_id: (FollowUpStatus.PLANNED, None),
    }
