"""Section B and the reviewer across calls, driven through Pilot: suggestions while typing
(key by key and in one burst), linking, recording a new reviewer, undo, the track record and
the earlier calls. A real database in a temporary data directory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.reviewers import ReviewerDetails
from p2pcall.domain.vocab import Outcome
from p2pcall.screens.reviewer_section import ReviewerSectionScreen
from p2pcall.store.opening import open_store
from p2pcall.widgets.reviewer_panel import ReviewerPanel
from pilot_helpers import open_app, quit_and_wait, settle, start_call, wait_until
from test_key_bursts import burst, letters

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def seed(data_dir: Path) -> dict[str, int]:
    """Two known reviewers; Ann Smith with two earlier calls (one denied, not same specialty)."""
    store = open_store(data_dir)
    try:
        ann = store.add_reviewer(ReviewerDetails("Ann Smith", "MD", "Psychiatry", vendor="Evicore"))
        sam = store.add_reviewer(ReviewerDetails("Sam Smithers", "DO", "Family medicine"))
        for outcome, same in ((Outcome.DENIED, "no"), (Outcome.APPROVED, "yes")):
            call = store.start_call("America/New_York")
            store.set_field(call.id, "reviewer_same_specialty", same)
            store.set_field(call.id, "criteria_set", "mcg")
            store.end_call(call.id, outcome)
            store.link_call(call.id, ann.id)
        return {"ann": ann.id, "sam": sam.id}
    finally:
        store.close()


def linked_reviewer(data_dir: Path, call_id: int) -> int | None:
    store = open_store(data_dir)
    try:
        found = store.reviewer_of_call(call_id)
        return None if found is None else found.id
    finally:
        store.close()


async def _section_b(pilot) -> ReviewerSectionScreen:
    app = pilot.app
    await open_app(pilot)
    await start_call(pilot)
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.screen, ReviewerSectionScreen))
    await settle(pilot)
    await pilot.press("ctrl+f")  # the first field: Name
    screen = app.screen
    assert isinstance(screen, ReviewerSectionScreen)
    return screen


def panel_text(screen: ReviewerSectionScreen) -> str:
    return "\n".join(screen.query_one(ReviewerPanel).lines)


async def test_suggestions_while_typing_then_link_and_track_record(data_dir: Path) -> None:
    ids = seed(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _section_b(pilot)
        await pilot.press(*"smi")
        await wait_until(pilot, lambda: screen.suggested_for == "smi")
        assert [r.id for r in screen.suggestions] == [ids["ann"], ids["sam"]]
        assert "Known 1/3: \u25b6 Ann Smith, MD" in panel_text(screen)
        assert "Alt+L links \u00b7 Alt+J next: Sam Smithers" in panel_text(screen)
        await pilot.press("alt+j")
        assert "\u25b6 Sam Smithers, DO" in panel_text(screen)
        await pilot.press("alt+j")
        assert "\u25b6 New reviewer: smi" in panel_text(screen)
        await pilot.press("alt+j")  # round again
        assert "\u25b6 Ann Smith" in panel_text(screen)
        await pilot.press("alt+l")
        await wait_until(pilot, lambda: screen.linked is not None)
        await settle(pilot)
        text = panel_text(screen)
        assert text.startswith("\u2713 Ann Smith, MD \u00b7 Psychiatry \u00b7 Evicore (Alt+H calls")
        assert "2 calls before: 1 approved, 1 denied \u00b7 not same specialty 1/2" in text
        assert "cited: MCG \u00d72" in text
        call_id = app.live.call.id
        assert app.live.call.value("reviewer_name") == "smi"  # the field keeps what was typed
        await pilot.press("alt+h")
        await wait_until(pilot, lambda: len(app.screen.query("#earlier-list Option")) or (
            app.screen.query("#earlier-list") and
            app.screen.query_one("#earlier-list").option_count == 2
        ))  # fmt: skip
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("alt+u")
        await wait_until(pilot, lambda: screen.linked is None and screen.suggested_for == "smi")
        await settle(pilot)
        await quit_and_wait(app)
    assert linked_reviewer(data_dir, call_id) is None


async def test_a_burst_of_keys_links_the_reviewer_the_whole_name_suggests(
    data_dir: Path,
) -> None:
    ids = seed(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _section_b(pilot)
        await pilot.press(*"Smi")  # Ann Smith is shown first (most calls)
        await wait_until(pilot, lambda: screen.suggested_for == "Smi")
        assert screen.suggestions[0].id == ids["ann"]
        # The rest of the name and the link key in one burst, while the database thread is
        # held: Alt+L must link what "Smithers" suggests, not the Ann Smith still shown.
        gate = threading.Event()
        app.db.submit(lambda store: gate.wait(10))
        burst(app, *letters("thers"), "alt+l")
        await wait_until(pilot, lambda: screen._typed() == "Smithers")
        await pilot.pause()
        gate.set()
        await wait_until(pilot, lambda: screen.linked is not None)
        await settle(pilot)
        assert screen.linked.id == ids["sam"]
        call_id = app.live.call.id
        assert app.live.call.value("reviewer_name") == "Smithers"
        await quit_and_wait(app)
    assert linked_reviewer(data_dir, call_id) == ids["sam"]


async def test_suggestions_shown_are_for_the_name_as_it_stands_after_a_burst(
    data_dir: Path,
) -> None:
    seed(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _section_b(pilot)
        # Every prefix up to "Sam Smith" has matches; the whole name has none. The database
        # thread is held while the keys arrive, so the first lookup ("S") answers only after
        # the whole name is typed: that answer must not be shown.
        gate = threading.Event()
        app.db.submit(lambda store: gate.wait(10))
        burst(app, "S")
        await wait_until(pilot, lambda: screen._asking)  # "S" asked, behind the held thread
        burst(app, *letters("am Smithx"))
        await wait_until(pilot, lambda: screen._typed() == "Sam Smithx")
        await pilot.pause()
        gate.set()
        await wait_until(pilot, lambda: screen.suggested_for == "Sam Smithx")
        await settle(pilot)
        assert screen.suggested_for == "Sam Smithx"
        assert panel_text(screen).startswith("No known reviewer by that name.")
        assert screen.suggestions == []


async def test_a_name_nobody_has_records_a_new_reviewer_from_the_fields(data_dir: Path) -> None:
    seed(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _section_b(pilot)
        burst(app, *letters("Lee Park"), "tab", *letters("MD"), "tab", *letters("Pediatrics"))
        await wait_until(pilot, lambda: app.live.call.value("reviewer_specialty") == "Pediatrics")
        await pilot.press("alt+l")
        await wait_until(pilot, lambda: screen.linked is not None)
        await settle(pilot)
        assert screen.linked.details == ReviewerDetails("Lee Park", "MD", "Pediatrics")
        assert "No earlier calls with this reviewer." in panel_text(screen)
        await quit_and_wait(app)


async def test_due_screen_marks_a_promised_document_received_or_not(data_dir: Path) -> None:
    from datetime import timedelta

    from p2pcall.domain.followups import PlannedFollowUp
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.domain.vocab import FollowUpAction
    from p2pcall.screens.due import DueScreen

    store = open_store(data_dir)
    try:
        call = store.start_call("America/New_York")
        store.end_call(call.id, Outcome.DENIED)
        soon = now_utc() + timedelta(days=1)
        chase, appeal = store.add_followups(
            call.id,
            [
                PlannedFollowUp(FollowUpAction.CHASE_DOCUMENTS, note="criteria", computed_due=soon),
                PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL, computed_due=soon + timedelta(1)),
            ],
        )
    finally:
        store.close()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        screen = app.screen
        assert screen._current().followup.id == chase.id
        await pilot.press("u")  # not received: noted, the chase stays on the list
        await settle(pilot)
        answers: list = []
        app.db.submit(lambda store: store.followup_received(chase.id), answers.append)
        await wait_until(pilot, lambda: answers)
        assert answers[0][0] == "not_received"
        assert str(chase.id) in screen.items
        await pilot.press("down")
        await wait_until(pilot, lambda: screen._current().followup.id == appeal.id)
        await pilot.press("r")  # an appeal is no promise: refused with a message
        await settle(pilot)
        await pilot.press("up")
        await wait_until(pilot, lambda: screen._current().followup.id == chase.id)
        await pilot.press("r")
        await wait_until(pilot, lambda: str(chase.id) not in screen.items)
        await settle(pilot)
        await quit_and_wait(app)
    import pendulum

    today = pendulum.now().date().isoformat()
    store = open_store(data_dir)
    try:
        assert store.followup_received(chase.id) == ("received", today)
        assert store.followup_received(appeal.id) == (None, None)
        assert [f.status.value for f in store.followups_for(call.id)] == ["done", "planned"]
    finally:
        store.close()
