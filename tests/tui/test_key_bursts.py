"""Keys typed in one burst (after a stall, over a slow link) land where the user meant them.

Each test posts all its keys to the app at once, so they are read before any screen change or
focus move they cause has happened: the order of arrival is all the app can go by.
"""

from __future__ import annotations

from pathlib import Path

from textual.events import Key

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.screens.call_info import CallInfoScreen
from p2pcall.screens.section import SectionScreen
from pilot_helpers import load_latest, open_app, quit_and_wait, settle, start_call, wait_until


def burst(app: P2PCallApp, *keys: str) -> None:
    characters = {"enter": "\r", "tab": "\t", "space": " "}
    for key in keys:
        app.post_message(Key(key, key if len(key) == 1 else characters.get(key)))


def letters(text: str) -> list[str]:
    return ["space" if char == " " else char for char in text]


async def test_typing_right_after_a_section_key_goes_to_that_section(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        burst(app, "f2", *letters("not a psychiatrist"), "enter", "f4", *letters("MCG"))
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, SectionScreen)
                and app.screen.section is Section.D
                and app.screen.composer.text == "MCG"
            ),
        )
        await settle(pilot)
        await quit_and_wait(app)
    record = load_latest(data_dir, unfinished=True)
    assert [(n.section, n.body) for n in record.notes] == [(Section.B, "not a psychiatrist")]
    assert [(d.section, d.body) for d in record.drafts] == [(Section.D, "MCG")]


async def test_typing_right_after_new_call_fills_the_first_field(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        # "r" and "q" are home-screen keys: they must not act on home once "n" was pressed.
        burst(app, "n", *letters("RQ-7"), "tab", *letters("Acme"))
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        await wait_until(pilot, lambda: app.live.call.value("insurer") == "Acme")
        await settle(pilot)
        assert app.live.call.value("patient_ref") == "RQ-7"


async def test_typing_right_after_tab_goes_to_the_next_field(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        burst(app, *letters("AB"), "tab", *letters("CD"), "tab", "tab", "N", "shift+tab", "tab")
        await wait_until(pilot, lambda: app.live.call.value("state") == "N")
        await settle(pilot)
        assert (app.live.call.value("patient_ref"), app.live.call.value("insurer")) == ("AB", "CD")


async def test_note_keys_apply_in_typing_order(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        burst(
            app,
            "f4",
            *letters("will send criteria"),
            "ctrl+t",
            "ctrl+t",  # the kind of the note being typed: commitment
            "enter",
            "ctrl+t",  # the next note's kind: quote
            *letters("only criteria"),
            "ctrl+s",
            *letters("one"),
            "enter",
            "ctrl+l",  # multi-line for the next note only
            *letters("two"),
            "enter",
            *letters("lines"),
        )
        await wait_until(pilot, lambda: getattr(app.screen, "composer", None) is not None)
        await wait_until(pilot, lambda: app.screen.composer.text == "two\nlines")
        await settle(pilot)
        await quit_and_wait(app)
    record = load_latest(data_dir, unfinished=True)
    assert [(n.kind.value, n.body) for n in record.notes] == [
        ("commitment", "will send criteria"),
        ("quote", "only criteria"),
        ("note", "one"),
    ]
    assert [d.body for d in record.drafts] == ["two\nlines"]


async def test_the_call_bar_names_the_patient_and_insurer_on_every_screen(data_dir: Path) -> None:
    """Seen in tmux: typed in one burst, or typed on Call info after B was first opened, the
    patient ref and insurer were saved but B's (and A's) call bar still said just "Call #1"."""
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)

        def title() -> str:
            return str(app.screen.query_one("#call-title").render())

        burst(app, "n", *letters("QA-1"), "tab", *letters("Gamma"), "f1")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, SectionScreen) and app.screen.section is Section.A,
        )
        await wait_until(pilot, lambda: title() == "Call #1 \u00b7 QA-1 \u00b7 Gamma")
        await pilot.press("f2", "f8")  # B is built now, with this title
        await wait_until(pilot, lambda: isinstance(app.screen, CallInfoScreen))
        app.screen.query_one("#f-insurer").focus()
        await pilot.press("end", *["backspace"] * 10)  # empty the insurer
        await pilot.press("f2")
        await wait_until(pilot, lambda: getattr(app.screen, "section", None) is Section.B)
        await wait_until(pilot, lambda: title() == "Call #1 \u00b7 QA-1")
        await settle(pilot)
