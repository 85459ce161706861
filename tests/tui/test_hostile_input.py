"""Hostile and odd text: markup, escape sequences, controls, bidi, NUL, emoji, combining
marks, long lines, huge pastes. Stored exactly, shown literally, never interpreted."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual import events

from conftest import Database
from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.text import (
    MAX_FIELD_CHARS,
    MAX_NOTE_CHARS,
    SHOWN_NOTE_CHARS,
    mask_controls,
    one_line,
    shown_note,
    visible,
)
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.store import Store
from p2pcall.store.opening import open_store
from p2pcall.textual_compat import shown_messages
from p2pcall.widgets.literal import LiteralInput
from p2pcall.widgets.notes import NoteItem, note_content
from pilot_helpers import load_latest, open_app, settle, start_call, wait_until

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

HOSTILE = [
    "[bold]not bold[/bold] [@click=app.quit]click[/]",
    "\x1b]0;retitled\x07 \x1b]52;c;Y2xpcGJvYXJk\x07 \x1b[2J\x1b[H\x1b[31mred\x1b[0m",
    "\x9b2J c1 csi \x90dcs\x9c \x85nel",
    "\u202eevil\u202c \u2066isolate\u2069 \u200bzero\u200bwidth \ufeffbom",
    "nul\x00byte \x08back \x7fdel \x0bvt \x0cff \r cr",
    "emoji \U0001f9d1\u200d\u2695\ufe0f flags \U0001f1fa\U0001f1f8 combining e\u0301\u0327",
    "long " + "word " * 4000,
]

# Every code point but surrogates (not text) and private/unassigned ones (noise).
ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("\x1b\x00\x9b\u202e"),
    max_size=300,
)
NOTE_TEXT = ANY_TEXT.filter(lambda text: text.strip() != "")

C0_C1 = {*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)}
BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def controls_in(text: str, *, allow_newline: bool) -> list[str]:
    return [
        f"U+{ord(c):04X}"
        for c in text
        if (ord(c) in C0_C1 or ord(c) in BIDI) and not (allow_newline and c == "\n")
    ]


# -- the store keeps every character -------------------------------------------------------


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as folder:
        opened = open_store(Path(folder) / "data")
        yield opened
        opened.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=NOTE_TEXT, draft=ANY_TEXT, value=ANY_TEXT)
def test_store_round_trip_is_exact(store: Store, body: str, draft: str, value: str) -> None:
    call = store.start_call("UTC")
    note = store.add_note(call.id, Section.C, NoteKind.QUOTE, body, now_utc())
    store.save_draft(call.id, Section.D, NoteKind.NOTE, draft, now_utc())
    store.set_field(call.id, "insurer", value, log=True)
    record = store.load_call(call.id)
    assert [n.body for n in record.notes] == [body]
    assert note.body == body
    assert [d.body for d in record.drafts] == ([draft] if draft else [])
    assert record.call.values.get("insurer", "") == value
    history = store.field_history(call.id, "insurer")
    assert [h[0] for h in history] == [value]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_bodies_round_trip(store: Store, body: str) -> None:
    call = store.start_call("UTC")
    store.add_note(call.id, Section.A, NoteKind.NOTE, body, now_utc())
    store.save_draft(call.id, Section.B, NoteKind.NOTE, body, now_utc())
    store.set_field(call.id, "patient_ref", body[:MAX_FIELD_CHARS])
    record = store.load_call(call.id)
    assert record.notes[0].body == body
    assert record.drafts[0].body == body
    assert record.call.values["patient_ref"] == body[:MAX_FIELD_CHARS]


def test_the_store_keeps_text_past_the_editor_limits(store: Store) -> None:
    """The limits are the editors' (a terminal stays responsive); the store keeps anything."""
    call = store.start_call("UTC")
    body = "\x1b[2J" + "x" * (2 * MAX_NOTE_CHARS)
    store.add_note(call.id, Section.A, NoteKind.NOTE, body, now_utc())
    store.set_field(call.id, "insurer", "y" * (2 * MAX_FIELD_CHARS))
    record = store.load_call(call.id)
    assert record.notes[0].body == body
    assert record.call.values["insurer"] == "y" * (2 * MAX_FIELD_CHARS)


# -- what is shown has no control characters ------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_shown_text_never_holds_control_or_direction_characters(text: str) -> None:
    assert controls_in(visible(text), allow_newline=True) == []
    assert controls_in(one_line(text, 40), allow_newline=False) == []
    assert controls_in(shown_note(text), allow_newline=True) == []
    masked = mask_controls(text)
    assert len(masked) == len(text)  # one for one: editors keep their cursor positions
    assert controls_in(masked, allow_newline=True) == []
    for kind in NoteKind:
        content = note_content(text, kind, "10:00:00", "failed", late=True)
        assert controls_in(content.plain, allow_newline=True) == []
        # Markup in the text stays text: the plain content holds it character for character.
        assert visible(text) in content.plain


# Joiners and presentation selectors are left out of what is drawn, skin tones and tag
# characters shown by code point (domain/text.py: widths Rich and terminals agree on).
EMOJI_JOINING = {0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}


@given(text=ANY_TEXT)
def test_visible_keeps_ordinary_text_unchanged(text: str) -> None:
    ordinary = "".join(
        c
        for c in text
        if ord(c) not in C0_C1
        and ord(c) not in BIDI
        and ord(c) not in EMOJI_JOINING
        and c not in "\u200b\u2028\u2029\ufeff"
    )
    assert visible(ordinary) == ordinary
    assert unicodedata.normalize("NFC", visible(ordinary)) == unicodedata.normalize("NFC", ordinary)


def test_a_long_note_shows_its_beginning_and_how_much_more_is_kept() -> None:
    body = "a" * (SHOWN_NOTE_CHARS + 12_345)
    shown = shown_note(body)
    assert shown.startswith("a" * SHOWN_NOTE_CHARS)
    assert shown.endswith("[12,345 more characters, kept in full]")


# -- pasting into the real app ----------------------------------------------------------------


async def open_section(pilot) -> P2PCallApp:
    app = pilot.app
    await open_app(pilot)
    await start_call(pilot)
    await pilot.press("f1")
    await wait_until(pilot, lambda: app.screen.name == "section-A")
    return app


async def paste(pilot, widget, text: str) -> None:
    """A paste as the terminal driver delivers it: to the app, which hands it to the focus."""
    assert pilot.app.focused is widget
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


async def test_pasted_escape_sequences_are_saved_exactly_and_shown_masked(
    data_dir: Path, database: Database
) -> None:
    pasted = "".join(HOSTILE[:5])
    # The note field is a text editor: what Python counts as a line break (CR, VT, FF,
    # NEL, U+2028/9) becomes a line break. Everything else arrives as pasted.
    expected = re.sub(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", "\n", pasted)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_section(pilot)
        field = app.screen.composer.field
        await paste(pilot, field, pasted)
        assert field.text == expected  # inserted once, whole
        lines = range(field.document.line_count)
        shown = [field.render_line(y).text.rstrip(" ") for y in range(3)]
        # Drawn one for one: BEL, BS and the rest visible, not silently dropped.
        for index in lines:
            document_line = field.document.get_line(index)
            assert field.get_line(index).plain == mask_controls(document_line)
        every_line = "\n".join(field.get_line(index).plain for index in lines)
        assert "nul\u2400byte \u2408back \u2421del" in every_line
        assert all(controls_in(line, allow_newline=False) == [] for line in shown)
        await pilot.press("ctrl+s")
        await settle(pilot)
        [item] = app.screen.query(NoteItem)
        assert item.state == "saved"
        assert controls_in(str(item.render()), allow_newline=True) == []
    # PostgreSQL's text cannot hold NUL: the server keeps the symbol shown for it (docs/team.md).
    stored = expected.replace("\x00", "\u2400") if database.server else expected
    assert [n.body for n in load_latest(data_dir, unfinished=True).notes] == [stored]


async def test_a_paste_over_the_limit_is_refused_and_the_field_kept(data_dir: Path) -> None:
    megabyte = "".join(f"line {i:06d} " + "abcdefghij" * 9 + "\n" for i in range(10_000))
    assert len(megabyte) > 1_000_000
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_section(pilot)
        field = app.screen.composer.field
        field.insert("typed before the paste ")
        await paste(pilot, field, megabyte)
        assert field.text == "typed before the paste "
        messages = [n.message for n in shown_messages(app)]
        assert any("1,030,023 characters" in m and "100,000" in m for m in messages), messages
        # Still answering keys, and the text typed so far saves as it was.
        await pilot.press("o", "k")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The largest note allowed goes through whole.
        at_limit = megabyte[: MAX_NOTE_CHARS - 1] + "!"
        await paste(pilot, field, at_limit)
        assert field.text == at_limit
        # One character typed past the limit: not saved, put back in the field whole.
        await pilot.press("?", "ctrl+s")
        assert field.text == at_limit + "?"
        assert any("100,001 characters" in n.message for n in shown_messages(app))
        await pilot.press("backspace", "ctrl+s")
        await settle(pilot)
        assert [item.state for item in app.screen.query(NoteItem)] == ["saved", "saved"]
    bodies = [n.body for n in load_latest(data_dir, unfinished=True).notes]
    assert bodies == ["typed before the paste ok", at_limit]


async def test_pasting_several_lines_into_a_one_line_field_keeps_them_all(
    data_dir: Path,
) -> None:
    pasted = "Dr. A. Ruiz\r\nMedical Director\n\x1b[31mcall back\x1b[0m"
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        field = app.screen.query_one("#f-patient_ref", LiteralInput)
        field.focus()
        await paste(pilot, field, pasted)
        expected = pasted.replace("\r\n", "\n")
        assert field.value == expected
        shown = field._value.plain
        assert shown == "Dr. A. Ruiz\u2424Medical Director\u2424\u241b[31mcall back\u241b[0m"
        assert field._cursor_offset == len(shown) + 1  # the cursor sits after what is drawn
        await pilot.press("tab")  # leaving the field commits it
        await settle(pilot)
        field.focus()
        await pilot.pause()
        await paste(pilot, field, "x" * (MAX_FIELD_CHARS + 1))
        assert field.value == expected
        assert any("2,000" in n.message for n in shown_messages(app))
    record = load_latest(data_dir, unfinished=True)
    assert record.call.values["patient_ref"] == expected


# -- the paste guard in front of Textual's input reader -------------------------------------


def test_the_paste_guard_keeps_escape_sequences_in_pastes_as_text() -> None:
    import time

    from p2pcall.paste_guard import PasteGuardParser

    parser = PasteGuardParser()
    # As a terminal sends it, cut anywhere by reads: a key, a paste with sequences whose end
    # marker is split across reads, a key, then a lone Esc key press.
    reads = ["a\x1b[200~x\x1b]0;T\x07 y\x1b[", "2J z\x1b\r\x1b[20", "1~b", "\x1b"]
    events_seen = [event for data in reads for event in parser.feed(data)]
    # Once the escape delay has passed with nothing after it, the lone ESC is an Esc key.
    deadline = time.monotonic() + 10
    tail: list[object] = []
    while not tail and time.monotonic() < deadline:
        time.sleep(0.01)
        tail = list(parser.tick())
    events_seen += tail
    assert [type(e).__name__ for e in events_seen] == ["Key", "Paste", "Key", "Key"]
    assert events_seen[1].text == "x\x1b]0;T\x07 y\x1b[2J z\x1b\r"
    assert [e.key for e in events_seen if isinstance(e, events.Key)] == ["a", "b", "escape"]
