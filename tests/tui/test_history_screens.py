"""History and call detail, driven through Pilot against a real database file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.screens.detail import DetailScreen
from p2pcall.screens.history import HistoryScreen, HistoryTable
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store.opening import open_store
from pilot_helpers import open_app, type_text, wait_until

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

TZ = "America/New_York"
T0 = pendulum.datetime(2026, 11, 2, 15, 0, 0, tz="UTC")


@pytest.fixture(autouse=True)
def practice_zone() -> Iterator[None]:
    """The computer's zone is the practice's: lists and date filters use it."""
    pendulum.set_local_timezone(pendulum.timezone(TZ))
    try:
        yield
    finally:
        pendulum.set_local_timezone()


@pytest.fixture
def calls(data_dir: Path) -> dict[str, int]:
    """Three ended calls on three days and one still open, with notes and fields."""
    store = open_store(data_dir)
    made: dict[str, int] = {}

    def call(name: str, day: int, insurer: str, notes: list[tuple[Section, NoteKind, str]],
             outcome: Outcome | None, **fields: str) -> None:  # fmt: skip
        when = T0.add(days=day)
        pendulum.travel_to(when, freeze=True)
        made[name] = cid = store.start_call(TZ).id
        store.set_field(cid, "insurer", insurer)
        for key, value in fields.items():
            store.set_field(cid, key, value)
        for index, (section, kind, body) in enumerate(notes):
            pendulum.travel_to(when.add(minutes=index + 1), freeze=True)
            store.add_note(cid, section, kind, body, pendulum.now("UTC"))
        if outcome is not None:
            pendulum.travel_to(when.add(minutes=20), freeze=True)
            store.end_call(cid, outcome)

    try:
        call("first", 0, "Aetna", [(Section.A, NoteKind.NOTE, "Teen, eating disorder")],
             Outcome.APPROVED, patient_ref="AA-1", review_type="pre_service")  # fmt: skip
        call(
            "second",
            1,
            "Cigna [bold]Health[/bold]",
            [
                (Section.B, NoteKind.QUOTE, "I am not a [red]psychiatrist[/red]"),
                (Section.D, NoteKind.COMMITMENT, "Will fax the LOCUS criteria"),
            ],
            Outcome.DENIED,
            patient_ref="BB-2",
            review_type="appeal",
            reviewer_name="Dr. Okafor",
        )
        store.set_field(made["second"], "reviewer_board", "", declined=True)
        pendulum.travel_to(T0.add(days=3), freeze=True)
        store.add_note(made["second"], Section.G, NoteKind.NOTE, "Fax arrived", pendulum.now("UTC"))
        call("third", 2, "Northwind", [(Section.C, NoteKind.NOTE, "IOP three times a week")],
             Outcome.PARTIAL, patient_ref="CC-3")  # fmt: skip
        call("open", 4, "Aetna Better Health", [], None, patient_ref="DD-4")
    finally:
        store.close()
        pendulum.travel_back()
    return made


async def open_history(pilot, key: str = "h") -> HistoryScreen:
    await open_app(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.rows and not screen.fetching)
    return screen


async def shown_ids(pilot, screen: HistoryScreen, expected: list[int]) -> list[int]:
    """Wait for the debounced query to land, then read the table's row keys."""
    table = screen.query_one(HistoryTable)

    def current() -> list[int]:
        return [int(table.get_option_at_index(i).id) for i in range(table.option_count)]

    await wait_until(pilot, lambda: current() == expected and not screen.fetching)
    return current()


def detail_text(screen: DetailScreen) -> str:
    return "\n".join(str(block.render()) for block in screen.query(".detail-block"))


async def test_history_lists_every_call_newest_first(data_dir: Path, calls) -> None:
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        order = [calls["open"], calls["third"], calls["second"], calls["first"]]
        assert await shown_ids(pilot, screen, order) == order
        first_row = screen.rows[0]
        assert first_row.cells[0] == "2026-11-06 10:00 -05"  # local time and offset
        assert first_row.unfinished
        second = screen.rows[2].cells
        assert second[1:] == ("BB-2", "Cigna [bold]H\u2026", "Appeal", "Denied", "0:20:00")
        assert "4 calls" in str(screen.query_one("#history-status").render())
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, HomeScreen)


async def test_filters_by_insurer_outcome_and_dates(data_dir: Path, calls) -> None:
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("ctrl+f")  # insurer box
        await type_text(pilot, "AETNA")
        await shown_ids(pilot, screen, [calls["open"], calls["first"]])

        await pilot.press("tab", "enter")  # the outcome list opens
        await pilot.pause()
        await pilot.press("down", "enter")  # first choice: Approved
        await shown_ids(pilot, screen, [calls["first"]])
        await pilot.pause()
        assert screen.focused is screen.query_one("#outcome")

        await pilot.press("ctrl+r")  # reset everything
        await shown_ids(
            pilot, screen, [calls["open"], calls["third"], calls["second"], calls["first"]]
        )

        screen.query_one("#since").focus()
        await type_text(pilot, "2026-11-03")
        await pilot.press("tab")
        await type_text(pilot, "2026-11-04")
        await shown_ids(pilot, screen, [calls["third"], calls["second"]])

        await type_text(pilot, "x")  # 2026-11-04x: not a date
        status = screen.query_one("#history-status")
        await wait_until(pilot, lambda: "YYYY-MM-DD" in str(status.render()))
        assert await shown_ids(pilot, screen, [calls["third"], calls["second"]])


async def test_search_by_a_note_word_and_by_insurer(data_dir: Path, calls) -> None:
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot, "/")  # straight into the search box
        assert screen.focused is screen.query_one("#search")
        await type_text(pilot, "locus")
        await shown_ids(pilot, screen, [calls["second"]])
        match = str(screen.query_one("#history-match").render())
        assert match == "\u21b3 note in D: Will fax the LOCUS criteria"

        await pilot.press(*["backspace"] * 5)
        await type_text(pilot, "northw")  # a prefix of the insurer
        await shown_ids(pilot, screen, [calls["third"]])
        assert "Insurer: Northwind" in str(screen.query_one("#history-match").render())

        await type_text(pilot, "*")  # a trailing symbol keeps the prefix search (the CLI's too)
        await shown_ids(pilot, screen, [calls["third"]])

        await pilot.press(*["backspace"] * 7)
        await type_text(pilot, '"( AND *')  # operators are just text: no error, no match
        await shown_ids(pilot, screen, [])
        assert "No calls match" in str(screen.query_one("#history-status").render())


async def test_enter_opens_the_detail_with_text_shown_literally(data_dir: Path, calls) -> None:
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("down", "down", "enter")  # the second call
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        detail = pilot.app.screen
        await wait_until(pilot, lambda: detail.detail is not None)
        await pilot.pause()
        assert str(detail.query_one("#detail-title").render()) == (
            "Call #2 \u00b7 BB-2 \u00b7 Cigna [bold]Health[/bold]"
        )
        text = detail_text(detail)
        assert "Started            2026-11-03 10:00:00 -05:00" in text
        assert "Ended              2026-11-03 10:20:00 -05:00  (0:20:00)" in text
        assert "Outcome            Denied / upheld" in text
        assert "Reviewer           Dr. Okafor" in text
        assert "Board cert.        \u2014 declined to give" in text
        assert "10:01:00 -05:00 QUOTE \u201cI am not a [red]psychiatrist[/red]\u201d" in text
        assert "10:02:00 -05:00 COMMITMENT Will fax the LOCUS criteria" in text
        # added two days later: full date, and marked
        assert "2026-11-05 10:00:00 -05:00 LATE ENTRY, added after the call Fax arrived" in text
        assert text.index("B. Reviewer background") < text.index("D. Basis")
        await pilot.press("r")  # nothing to resume: the call has ended
        assert isinstance(pilot.app.screen, DetailScreen)
        await pilot.press("escape")
        assert pilot.app.screen is screen
        assert screen.query_one(HistoryTable).highlighted == 2  # the place in the list is kept


async def test_an_unfinished_call_can_be_resumed_from_its_detail(data_dir: Path, calls) -> None:
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        await open_history(pilot)
        await pilot.press("enter")  # newest: the open call
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        detail = pilot.app.screen
        await wait_until(pilot, lambda: detail.detail is not None)
        assert "still open" in detail_text(detail)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SectionScreen))
        assert pilot.app.live.call.id == calls["open"]


async def test_more_rows_load_as_the_cursor_nears_the_end(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        for index in range(130):
            pendulum.travel_to(T0.add(hours=index), freeze=True)
            store.start_call(TZ)
    finally:
        store.close()
        pendulum.travel_back()
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        screen = await open_history(pilot)
        assert len(screen.rows) == 40 and screen.has_more
        for _ in range(12):  # the cursor goes down a page at a time
            await pilot.press("pagedown")
            await pilot.pause(0.05)
        await wait_until(pilot, lambda: len(screen.rows) == 130)
        assert [row.call_id for row in screen.rows] == list(range(130, 0, -1))
        assert not screen.has_more


def test_detail_lists_follow_ups_corrections_and_reasons() -> None:
    """The layout alone, from a record as the store would return it (follow-ups included)."""
    from p2pcall.domain.models import Call, CallRecord, FollowUp, Note
    from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus
    from p2pcall.screens.detail import build_view

    start = pendulum.datetime(2026, 11, 2, 15, 0, tz="UTC")
    call = Call(
        id=7,
        created_at=start,
        tz=TZ,
        started_at=start,
        ended_at=start.add(minutes=9),
        outcome=Outcome.DENIED,
        values={"patient_ref": "ZZ-9", "reviewer_name": "Dr. Osei"},
        declined={"reviewer_credentials"},
        finalized_at=start.add(minutes=12),
        chain_head="ab" * 32,
    )
    first = Note(1, 7, Section.E, NoteKind.NOTE, "Denied, appeal in 180 days", start, start)
    later = start.add(days=1)
    fixed = Note(2, 7, Section.E, NoteKind.NOTE, "180 days from the notice", later, later,
                 late=True, reason="misheard", corrects=1)  # fmt: skip
    due = FollowUp(1, 7, FollowUpAction.INTERNAL_APPEAL, FollowUpStatus.PLANNED, later,
                   computed_due=start.add(days=180))  # fmt: skip
    view = build_view(CallRecord(call, [first, fixed], followups=[due]), {"reviewer_name"})
    text = "\n".join("".join(piece for piece, _style in block) for block in view.blocks)
    assert view.title == "Call #7 \u00b7 ZZ-9" and not view.unfinished
    assert "Reviewer           Dr. Osei, degree declined to give" in text
    assert f"Finalized          2026-11-02 10:12:00 -05:00\nChain head         {'ab' * 32}" in text
    assert "Name               Dr. Osei  (set after the call)" in text
    assert "Degree             \u2014 declined to give" in text
    assert (
        "2026-11-03 10:00:00 -05:00 LATE ENTRY, added after the call CORRECTION of the note of "
        "10:00:00 -05:00 180 days from the notice  (reason: misheard)"
    ) in text
    assert "Denied, appeal in 180 days  (corrected later: see the correction)" in text
    assert "Follow-ups\n\u2022 Formal written internal appeal  due 2027-05-01  Planned" in text


async def test_history_and_detail_keys_are_in_the_command_palette(data_dir: Path, calls) -> None:
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        home_titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Find a past call (h)" in home_titles
        assert "Search past calls (slash)" in home_titles
        screen = await open_history(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        for expected in (
            "Open the highlighted call (enter)",
            "Back (list, then home) (escape)",
            "Go to the filters (insurer, outcome, dates) (ctrl+f)",
            "Clear the search and every filter (ctrl+r)",
        ):
            assert expected in titles
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Resume this unfinished call (r)" in titles
        assert "Back to the list (escape)" in titles


async def test_detail_opens_export_and_letter_for_its_call(data_dir: Path, calls) -> None:
    from p2pcall.screens.export import ExportScreen
    from p2pcall.screens.letters import LetterScreen

    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        await open_history(pilot)
        await pilot.press("down", "down", "enter")  # the second call
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        detail = pilot.app.screen
        for key, screen_type in (("e", ExportScreen), ("l", LetterScreen)):
            await pilot.press(key)
            await wait_until(pilot, lambda t=screen_type: isinstance(pilot.app.screen, t))
            assert pilot.app.screen.call_id == calls["second"]
            await pilot.press("escape")
            await wait_until(pilot, lambda: pilot.app.screen is detail)
