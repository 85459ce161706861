"""Readable and quick at 80x24 (issue 11, item 4), driven through Pilot on a real database.

Each test is one thing a user found at 80x24: field values cut to 11 characters, a focused
field one shade of grey apart, Enter moving on silently, three Ctrl+T presses for a kind,
messages covering what they had to read, a highlighted outcome told by colour alone, an emoji
pushing a dialog's border over, and start + length not adding up to the end.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pendulum
from rich.cells import cell_len
from rich.console import Console

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.timefmt import clock_time
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.screens.end_call import EndCallScreen
from p2pcall.screens.record_modals import AddendumReasonScreen, CorrectNoteScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store.opening import open_store
from p2pcall.widgets.composer import Composer
from p2pcall.widgets.fields import FieldForm, FieldRow
from p2pcall.widgets.keybar import KeyBar
from pilot_helpers import load_latest, open_app, settle, start_call, type_text, wait_until

LONG_NAME = "Dr. Samantha Patel-Whitmore, MD"


def screen_lines(app: P2PCallApp) -> list[str]:
    """The screen as text, one string per row, as Textual composed it."""
    console = Console(width=app.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False).splitlines()


def row(app: P2PCallApp, key: str) -> FieldRow:
    return next(r for r in app.screen.query(FieldRow) if r.spec.key == key)


def label_text(r: FieldRow) -> str:
    return str(r.query_one(".field-label").render())


async def to_section_b(pilot) -> P2PCallApp:
    app = await open_app(pilot)
    await start_call(pilot)
    await pilot.press("f2")
    await wait_until(pilot, lambda: getattr(app.screen, "section", None) is Section.B)
    await pilot.pause()
    return app


# -- fields --------------------------------------------------------------------------------


async def test_a_long_field_value_can_be_read_whole_and_focus_is_marked(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        await pilot.press("ctrl+f")
        await type_text(pilot, LONG_NAME)
        await pilot.pause()
        name = row(app, "reviewer_name")
        # The focused field is marked by a shape, the others are not.
        assert label_text(name).startswith("\u25b6")
        assert not label_text(row(app, "reviewer_credentials")).startswith("\u25b6")
        # Too long for its box: the whole value is shown under the form.
        full = app.screen.query_one(FieldForm).query_one(".field-full")
        assert full.display
        assert LONG_NAME in " ".join(str(full.render()).split())
        # The box itself shows at least 19 characters at 80 columns (11 before).
        assert name.editor.scrollable_content_region.width >= 19
        # Left alone, the cut value ends in … so it never reads as whole.
        await pilot.press("tab", "tab")
        await pilot.pause()
        assert not label_text(name).startswith("\u25b6")
        shown = next(line for line in screen_lines(app) if "Name" in line)
        assert "Dr. Samantha Pat" in shown and "\u2026" in shown


async def test_enter_in_a_field_says_where_the_cursor_went(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        await pilot.press("ctrl+f")
        await type_text(pilot, "Dr. Ruiz")
        await pilot.press("enter")
        await pilot.pause()
        full = app.screen.query_one(FieldForm).query_one(".field-full")
        assert full.display
        said = str(full.render())
        assert "\u2713 Name kept" in said and "now in Degree" in said
        assert label_text(row(app, "reviewer_credentials")).startswith("\u25b6")
        # Typing goes where it says, and the message stays while it does.
        await type_text(pilot, "MD")
        await pilot.pause()
        assert row(app, "reviewer_credentials").value == "MD"
        assert "now in Degree" in str(full.render())
        # Moving on by Tab clears it.
        await pilot.press("tab")
        await pilot.pause()
        assert "kept" not in str(full.render())
        await settle(pilot)
    values = load_latest(data_dir, unfinished=True).call.values
    assert values["reviewer_name"] == "Dr. Ruiz" and values["reviewer_credentials"] == "MD"


# -- note kinds ----------------------------------------------------------------------------


async def test_each_note_kind_has_its_own_key(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        composer = app.screen.query_one(Composer)
        for key, kind, text in [
            ("alt+q", NoteKind.QUOTE, "I only look at the criteria"),
            ("alt+m", NoteKind.COMMITMENT, "Will fax the criteria today"),
            ("alt+n", NoteKind.NEW_INFO, "Patient was admitted last night"),
        ]:
            await pilot.press(key)
            assert composer.kind is kind
            await type_text(pilot, text)
            await pilot.press("enter")
            await pilot.pause()
            assert composer.kind is NoteKind.NOTE  # each note starts plain again
        # The same key again goes back to a plain note; Ctrl+T still steps through.
        await pilot.press("alt+m", "alt+m")
        assert composer.kind is NoteKind.NOTE
        await pilot.press("ctrl+t")
        assert composer.kind is NoteKind.QUOTE
        await pilot.press("alt+n")
        assert composer.kind is NoteKind.NEW_INFO
        # In a field, Alt+Q is the command, never a "q" typed into the value.
        await pilot.press("ctrl+f")
        await type_text(pilot, "Ruiz")
        await pilot.press("alt+q")
        await pilot.pause()
        assert row(app, "reviewer_name").value == "Ruiz"
        assert composer.kind is NoteKind.QUOTE
        # Shown in the key bar.
        assert "Alt+q/m/n" in str(app.screen.query_one(KeyBar).render())
        await settle(pilot)
    notes = load_latest(data_dir, unfinished=True).notes
    assert [(n.kind, n.body) for n in notes] == [
        (NoteKind.QUOTE, "I only look at the criteria"),
        (NoteKind.COMMITMENT, "Will fax the criteria today"),
        (NoteKind.NEW_INFO, "Patient was admitted last night"),
    ]


async def test_kind_keys_are_in_the_command_palette(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for key in ("alt+q", "alt+m", "alt+n", "ctrl+t"):
            assert any(f"({key})" in title for title in titles), key


# -- nothing covered -------------------------------------------------------------------------


def covered_by_messages(app: P2PCallApp) -> list[str]:
    """Widgets a message (toast) is drawn over; empty when messages have lines of their own."""
    toasts = [t for t in app.screen.query("Toast") if t.display and t.region.area]
    assert toasts, "no message on screen: the test did not make one"
    hit = []
    for widget in app.screen.query("*"):
        name = type(widget).__name__
        if name in ("Toast", "ToastRack", "ToastHolder", "Tooltip") or not widget.display:
            continue
        if any(toast in widget.ancestors_with_self for toast in toasts):
            continue
        if not widget.visible or not widget.region.area:
            continue
        if any(widget.region.overlaps(toast.region) for toast in toasts):
            hit.append(f"{name}#{widget.id}")
    return hit


async def test_messages_take_their_own_lines_on_a_section(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app = await to_section_b(pilot)
        await pilot.press("ctrl+r")  # no field focused: a message says what to do
        await wait_until(pilot, lambda: app.screen.query("Toast"))
        await pilot.pause()
        assert covered_by_messages(app) == []
        # The note field is still whole and usable above the message.
        await type_text(pilot, "still typing")
        assert app.screen.query_one(Composer).text == "still typing"


async def test_messages_do_not_cover_the_addendum_dialog(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        call = store.start_call("America/New_York")
        store.end_call(call.id, Outcome.DENIED)
        store.finalize_call(call.id)
    finally:
        store.close()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_app(pilot)
        await pilot.press("enter")  # the finalized call, opened for addenda
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await type_text(pilot, "Fax of the criteria arrived")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AddendumReasonScreen))
        await pilot.press("enter")  # no reason yet: a message says one is needed
        await wait_until(pilot, lambda: app.screen.query("Toast"))
        await pilot.pause()
        assert covered_by_messages(app) == []


async def test_messages_do_not_cover_the_due_detail(data_dir: Path) -> None:
    from p2pcall.screens.due import DueScreen
    from test_snapshots import seed_due

    seed_due(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_app(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        await pilot.press("x")  # done: a message names it
        await wait_until(pilot, lambda: app.screen.query("Toast"))
        await pilot.pause()
        assert covered_by_messages(app) == []
        assert app.screen.query_one("#due-detail").region.area > 0


# -- end-call dialog ------------------------------------------------------------------------


async def test_the_highlighted_outcome_has_a_marker_not_only_a_colour(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, EndCallScreen))
        await pilot.press("down", "down")
        await pilot.pause()
        lines = screen_lines(app)
        marked = [line for line in lines if "\u25b6" in line]
        assert len(marked) == 1 and Outcome.DENIED.label in marked[0]
        assert any("  " + Outcome.APPROVED.label in line for line in lines)


# -- emoji ----------------------------------------------------------------------------------

EMOJI_NOTE = (
    "Dr \U0001f469\u200d\u2695\ufe0f said "  # health worker: ZWJ and VS16
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 ok "  # family: two ZWJ
    "\U0001f44d\U0001f3fd \u2764\ufe0f x"  # thumbs up with a skin tone, heart with VS16
)


def terminal_width(text: str) -> int:
    """Width as a terminal that joins nothing draws it: one glyph per code point."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def test_shown_emoji_have_one_width_for_rich_and_the_terminal() -> None:
    shown = visible(EMOJI_NOTE)
    assert cell_len(shown) == terminal_width(shown)
    assert cell_len(EMOJI_NOTE) != terminal_width(EMOJI_NOTE)  # the problem, unsplit
    for joiner in ("\u200d", "\ufe0f", "\U0001f3fd"):
        assert joiner not in shown
    assert "<U+1F3FD>" in shown  # the skin tone is still said


async def test_an_emoji_note_keeps_the_correction_dialog_square(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        app.screen.query_one(Composer).field.insert(EMOJI_NOTE)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, CorrectNoteScreen))
        await pilot.pause()
        lines = screen_lines(app)
        with_emoji = [line for line in lines if "said" in line]
        assert len(with_emoji) == 2  # the original, and the text being corrected
        for line in lines:
            assert terminal_width(line) == cell_len(line) == 80, line


# -- times ----------------------------------------------------------------------------------


def test_start_plus_length_is_the_end_as_shown() -> None:
    from p2pcall.domain.timefmt import call_length, shown_seconds_between

    start = pendulum.datetime(2026, 11, 23, 15, 0, 0, 900_000, tz="UTC")
    end = pendulum.datetime(2026, 11, 23, 15, 5, 0, 100_000, tz="UTC")
    assert (clock_time(start, "UTC"), clock_time(end, "UTC")) == ("15:00:00", "15:05:00")
    assert call_length(start, end) == "0:05:00"  # was 0:04:59
    assert shown_seconds_between(start, end) == 300
    later = pendulum.datetime(2026, 11, 23, 15, 5, 0, 999_999, tz="UTC")
    assert call_length(start.replace(microsecond=0), later) == "0:05:00"


def test_the_call_detail_adds_up(data_dir: Path) -> None:
    from p2pcall.screens.detail import build_view

    store = open_store(data_dir)
    try:
        pendulum.travel_to(pendulum.datetime(2026, 11, 23, 15, 0, 0, 900_000, tz="UTC"))
        call = store.start_call("UTC")
        pendulum.travel_to(pendulum.datetime(2026, 11, 23, 15, 5, 0, 100_000, tz="UTC"))
        store.end_call(call.id, Outcome.APPROVED)
        record = store.load_call(call.id)
    finally:
        pendulum.travel_back()
        store.close()
    text = "".join(piece[0] for block in build_view(record).blocks for piece in block)
    assert "2026-11-23 15:05:00 +00:00  (0:05:00)" in text


# -- Alt+letter in a burst -------------------------------------------------------------------


def test_alt_letter_followed_by_typing_in_one_read_stays_alt() -> None:
    from p2pcall.paste_guard import PasteGuardParser

    parser = PasteGuardParser()
    events = list(parser.feed("\x1bmWill fax criteria by Friday\r\x1bqI only look\r"))
    keys = [getattr(event, "key", None) for event in events]
    assert keys[0] == "alt+m" and "alt+q" in keys
    assert "circumflex_accent" not in keys  # was: "^" then "m" typed into the note
    typed = "".join(e.character or "" for e in events if getattr(e, "key", "") != "enter")
    assert typed == "Will fax criteria by FridayI only look"
    # ESC b / ESC f keep the word moves Textual gives them; pastes stay text.
    moves = [getattr(e, "key", None) for e in PasteGuardParser().feed("\x1bb\x1bf")]
    assert moves == ["ctrl+left", "ctrl+right"]
    pasted = list(PasteGuardParser().feed("\x1b[200~a\x1bmz\x1b[201~"))
    assert [getattr(e, "text", None) for e in pasted] == ["a\x1bmz"]


def test_kind_keys_sent_in_one_burst_through_a_terminal(data_dir: Path) -> None:
    """As tmux sends `M-m text Enter M-n text Enter` in one write: kinds, not '^m'."""
    import sqlite3

    from pty_terminal import Terminal, child_env, p2pcall_argv

    term = Terminal(p2pcall_argv(data_dir), child_env())
    try:
        term.wait_for("No calls yet")
        mark = term.mark()
        term.press("n")
        term.wait_for("Patient", mark)
        mark = term.mark()
        term.press("f1")
        term.wait_for("Note for A: Enter saves", mark)
        mark = term.mark()
        term.write(
            b"\x1bmWill fax the criteria by Friday\r\x1bnAdmitted overnight after a fall\r"
            b"\x1bqI only look at the criteria\rplain note\r"
        )
        term.wait_for("plain note", mark)
        term.press("ctrl+q")
        assert term.wait() == 0
    finally:
        term.close()
    db = sqlite3.connect(f"file:{data_dir / 'p2pcall.sqlite3'}?mode=ro", uri=True)
    try:
        notes = db.execute("SELECT kind, body FROM note ORDER BY id").fetchall()
    finally:
        db.close()
    assert notes == [
        ("commitment", "Will fax the criteria by Friday"),
        ("new_info", "Admitted overnight after a fall"),
        ("quote", "I only look at the criteria"),
        ("note", "plain note"),
    ]


async def test_enter_message_goes_once_the_field_is_left(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app = await to_section_b(pilot)
        await pilot.press("ctrl+f", *"Dr. Ruiz", "enter")
        await pilot.pause()
        full = app.screen.query_one(FieldForm).query_one(".field-full")
        assert "now in Degree" in str(full.render())
        await pilot.press("escape")  # back to the note field
        await wait_until(pilot, lambda: not full.display)
        assert not any(label_text(r).startswith("\u25b6") for r in app.screen.query(FieldRow))


async def test_the_newest_messages_stay_in_view(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_app(pilot)
        for number in range(8):
            app.notify(f"Message {number}: " + "a longer explanation " * 5, timeout=30)
        await wait_until(pilot, lambda: "Message 7" in "".join(screen_lines(app)))
        await pilot.pause()
        shown = [str(toast.render()) for toast in app.screen.query("Toast")]
        assert len(shown) == 3 and shown[-1].startswith("Message 7")
        for toast in app.screen.query("Toast"):
            assert toast.region.bottom <= app.screen.query_one(KeyBar).region.y
        assert covered_by_messages(app) == []
