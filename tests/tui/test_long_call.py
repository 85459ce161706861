"""A long call through the real app: only a window of notes is mounted, the rest stay reachable.

The window is made small here (10 notes, 5 more at a time) so a few dozen notes show what a
few thousand would; the behaviour does not depend on the sizes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.screens.record_modals import CorrectNoteScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store import Store
from p2pcall.store.opening import open_store
from p2pcall.widgets.callbar import CallClock, SaveState
from p2pcall.widgets.composer import NoteField
from p2pcall.widgets.notes import NoteItem, NotesList
from pilot_helpers import open_app, settle, start_call, wait_until

WINDOW, STEP = 10, 5


@pytest.fixture(autouse=True)
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NotesList, "WINDOW", WINDOW)
    monkeypatch.setattr(NotesList, "STEP", STEP)


FILLER = ": the reviewer asked for the dates of each trial of therapy and the imaging"


def body(i: int) -> str:
    """Note i: long enough to wrap, so a window of notes is taller than the list."""
    return f"note {i:03d}{FILLER}"


def seed(data_dir: Path, count: int) -> None:
    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        for i in range(count):
            store.add_note(call.id, Section.A, NoteKind.NOTE, body(i), now_utc())
    finally:
        store.close()


def shown(app: P2PCallApp) -> list[NoteItem]:
    return list(app.screen.query(NoteItem))


async def resume(pilot) -> NotesList:
    app = await open_app(pilot)
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen) and shown(app))
    await settle(pilot)
    return app.screen.query_one(NotesList)


async def scroll_to_first(pilot, notes: NotesList) -> None:
    """Page Up on the notes list until the first note is mounted and in view."""
    notes.focus()
    for _ in range(80):
        await pilot.press("pageup")
        await pilot.pause()
        if notes._first == 0 and notes.scroll_y == 0:
            return
    raise AssertionError("never reached the first note")


def bodies_in_view(app: P2PCallApp, notes: NotesList) -> list[str]:
    return [item.body for item in shown(app) if notes.region.overlaps(item.region)]


@pytest.mark.slow
async def test_resumed_long_call_mounts_a_window_and_scrolls_back_to_the_first(
    data_dir: Path,
) -> None:
    seed(data_dir, 40)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = await resume(pilot)
        bodies = [item.body for item in shown(app)]
        # The newest notes, enough to fill the list, not the whole call.
        assert WINDOW <= len(bodies) < 40
        assert bodies == [body(i) for i in range(40 - len(bodies), 40)]
        assert all(item.state == "saved" for item in shown(app))

        await scroll_to_first(pilot, notes)
        bodies = [item.body for item in shown(app)]
        # In order, none twice, and never the whole call at once.
        assert bodies == [body(i) for i in range(len(bodies))]
        assert len(bodies) <= WINDOW + STEP
        first = shown(app)[0]
        assert notes.region.contains_region(first.region)  # painted in view
        assert "\u2713" in str(first.render())

        # Back down note by note past the window's end: every note comes by once, in order.
        seen: list[str] = []
        for _ in range(200):
            for text in bodies_in_view(app, notes):
                if text not in seen:
                    seen.append(text)
            if body(39) in seen:
                break
            await pilot.press("down")
            await pilot.pause()
        assert seen == [body(i) for i in range(40)]
        assert notes.mounted_count <= WINDOW + STEP

        # Home and End jump to the first and the newest note.
        await pilot.press("end")
        await wait_until(pilot, lambda: body(39) in bodies_in_view(app, notes))
        await pilot.press("home")
        await wait_until(pilot, lambda: body(0) in bodies_in_view(app, notes))
        assert notes.mounted_count <= WINDOW + STEP
        # A note typed while reading back lands at the end, and the end is shown.
        await pilot.press("escape")
        await pilot.press(*"late one")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "late one" in bodies_in_view(app, notes))
        await settle(pilot)
        assert [i.body for i in shown(app)][-2:] == [body(39), "late one"]


@pytest.mark.slow
async def test_a_burst_of_scroll_keys_then_typing_keeps_every_key(data_dir: Path) -> None:
    """Page Down forty times in one burst from the first note, then a note: the window
    follows the keys and comes to rest, and the note typed after them is saved and shown."""
    seed(data_dir, 40)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = await resume(pilot)
        notes.focus()
        await pilot.press("home")
        await wait_until(pilot, lambda: body(0) in bodies_in_view(app, notes))
        await pilot.press(*["pagedown"] * 40, "escape", *"after the burst", "enter")
        await wait_until(pilot, lambda: "after the burst" in bodies_in_view(app, notes))
        await settle(pilot)
        assert shown(app)[-1].state == "saved"
        assert [i.body for i in shown(app)][-2:] == [body(39), "after the burst"]
        assert notes.mounted_count <= WINDOW + STEP + 1
        await pilot.press(*["pageup"] * 60)
        await pilot.press("escape", *"and once more", "enter")
        await wait_until(pilot, lambda: "and once more" in bodies_in_view(app, notes))


@pytest.mark.slow
async def test_typing_past_the_window_keeps_it_bounded_and_every_note_saved(
    data_dir: Path,
) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        field = app.screen.query_one("#note-field", NoteField)
        notes = app.screen.query_one(NotesList)
        for i in range(32):
            await pilot.press("t")
            field.insert(f"yped {i:03d}{FILLER}")
            await pilot.press("enter")
            assert notes.mounted_count <= WINDOW + STEP + 1
        await settle(pilot)
        await wait_until(pilot, lambda: all(item.state == "saved" for item in shown(app)))
        assert notes.row_count == 32
        assert shown(app)[-1].body == f"typed 031{FILLER}"

        await scroll_to_first(pilot, notes)
        shown_now = [item.body for item in shown(app)]
        assert shown_now == [f"typed {i:03d}{FILLER}" for i in range(len(shown_now))]
        assert all(item.state == "saved" and item.note_id for item in shown(app))

    store = open_store(data_dir)
    try:
        [call] = store.unfinished_calls()
        stored = [n.body for n in store.load_call(call.id).notes]
    finally:
        store.close()
    assert stored == [f"typed {i:03d}{FILLER}" for i in range(32)]


async def test_correcting_a_note_outside_the_window_shows_it_under_its_original(
    data_dir: Path,
) -> None:
    seed(data_dir, 30)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await resume(pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, CorrectNoteScreen))
        await pilot.press(*["ctrl+e"] * 29)  # back to the first note of the section
        field = app.screen.query_one(NoteField)
        assert field.text == body(0)
        field.clear()
        field.insert("note zero, corrected")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await settle(pilot)
        items = shown(app)
        assert [(i.body, i.corrected) for i in items[:3]] == [
            (body(0), True),
            ("note zero, corrected", False),
            (body(1), False),
        ]
        assert items[1].state == "saved" and items[1].corrects == items[0].note_id
        assert len(items) < 31  # the whole call was not mounted to show it


async def test_the_clock_and_save_mark_repaint_without_a_layout(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await settle(pilot)
        clock = app.screen.query_one(CallClock)
        save = app.screen.query_one(SaveState)
        layouts: list[bool] = []
        for widget in (clock, save):
            plain = widget.refresh

            def spy(*args, layout: bool = False, _plain=plain, **kwargs):
                layouts.append(layout)
                return _plain(*args, layout=layout, **kwargs)

            widget.refresh = spy  # type: ignore[method-assign]
        clock.tick()
        clock.tick()
        save.show(app.save_state)
        assert layouts == [False, False, False]
        save.show(("busy", "\u2026 saving a much longer message than before"))
        assert layouts[-1] is True  # its width changed: the bar is laid out again


async def test_ctrl_e_right_after_enter_waits_for_the_note_being_saved(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter then Ctrl+E in one burst, on a slow disk: Ctrl+E offers the note just typed
    (it waits for the save), and the keys after it go to the correction dialog."""
    import time

    add_note = Store.add_note

    def slow_add_note(self, *args, **kwargs):
        time.sleep(0.3)  # in the database thread: a slow commit
        return add_note(self, *args, **kwargs)

    monkeypatch.setattr(Store, "add_note", slow_add_note)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        for key in [*"Patient is 34", "enter", "ctrl+e", "backspace", "backspace", *"43"]:
            app.key_order.take(events.Key(key, key if len(key) == 1 else None))
        await wait_until(pilot, lambda: isinstance(app.screen, CorrectNoteScreen))
        await wait_until(pilot, lambda: app.key_order.idle)
        assert app.screen.query_one(NoteField).text == "Patient is 43"


async def test_the_newest_note_stays_in_view_when_the_list_gets_shorter(data_dir: Path) -> None:
    """A smaller terminal (or a message line, the reviewer panel) shortens the notes list:
    the newest note stays in view instead of the list staying where it was scrolled."""
    seed(data_dir, 12)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 30)) as pilot:
        notes = await resume(pilot)
        await wait_until(pilot, lambda: notes.max_scroll_y > 0 and notes._at_bottom())
        await pilot.resize_terminal(80, 20)
        await settle(pilot)
        await wait_until(pilot, lambda: notes._at_bottom())
        assert body(11) in bodies_in_view(app, notes)
