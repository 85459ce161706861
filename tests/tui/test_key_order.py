"""The cases of issue 11: keys read in one burst used to run out of typing order.

Each burst is posted to the app at once, as a terminal delivers keys after a stall or over a
slow link: everything is read before anything has been handled.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.events import Key
from textual.widgets import Input

from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.screens.history import HistoryScreen
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.record_modals import AddendumReasonScreen
from p2pcall.screens.section import SectionScreen
from p2pcall.store.opening import open_store
from pilot_helpers import load_latest, open_app, settle, start_call, type_text, wait_until
from test_key_bursts import burst, letters


def keys_taken(app: App[None]) -> bool:
    """Every key posted has been taken (on code without the dispatcher: nothing to wait for)."""
    order = getattr(app, "key_order", None)
    return order is None or order.idle


async def section_a(pilot) -> P2PCallApp:
    app = await open_app(pilot)
    await start_call(pilot)
    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
    await pilot.pause()
    return app


async def test_backspace_then_a_letter_in_one_burst(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await section_a(pilot)
        await type_text(pilot, "fent")
        burst(app, "backspace", "a")
        await wait_until(pilot, lambda: keys_taken(app))
        await settle(pilot)
        assert app.screen.composer.text == "fena"


async def test_arrows_then_a_letter_in_one_burst(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await section_a(pilot)
        await pilot.press("f8")  # a one-line field (Input) as well as the note field
        await wait_until(pilot, lambda: app.screen.name == "call-info")
        await pilot.pause()
        await type_text(pilot, "abcd")
        burst(app, "left", "left", "X", "home", "Y", "end", "Z")
        await wait_until(pilot, lambda: keys_taken(app))
        await settle(pilot)
        assert app.live.call.value("patient_ref") == "YabXcdZ"
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await type_text(pilot, "abcd")
        burst(app, "left", "left", "X", "ctrl+left", "W")
        await wait_until(pilot, lambda: keys_taken(app))
        await settle(pilot)
        assert app.screen.composer.text == "WabXcd"


async def test_history_search_erased_and_retyped_in_one_burst(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.pause()
        search = app.screen.query_one("#search", Input)
        await type_text(pilot, "fentanyl")
        await wait_until(pilot, lambda: search.value == "fentanyl")
        burst(app, *["backspace"] * 8, *letters("evicore"))
        await wait_until(pilot, lambda: keys_taken(app))
        await settle(pilot)
        assert search.value == "evicore"


def finalized_call(data_dir: Path) -> int:
    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        store.add_note(call.id, Section.A, NoteKind.NOTE, "Peer said no", call.started_at)
        store.end_call(call.id, Outcome.DENIED)
        store.finalize_call(call.id)
        return call.id
    finally:
        store.close()


async def test_addendum_reason_and_enter_in_one_burst(data_dir: Path) -> None:
    """Seen in tmux: the reason was stored as 'This reason is for', for good."""
    call_id = finalized_call(data_dir)
    reason = "This reason is forty-five characters long ok."
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        app.open_call(call_id)
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await pilot.pause()
        await type_text(pilot, "Fax sent")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AddendumReasonScreen))
        await pilot.pause()
        burst(app, *letters(reason), "enter", *letters("next"))
        await wait_until(pilot, lambda: isinstance(app.screen, SectionScreen))
        await wait_until(pilot, lambda: keys_taken(app))
        await settle(pilot)
        # The keys after Enter belong to the note field the dialog returned to.
        assert app.screen.composer.text == "next"
    notes = load_latest(data_dir, unfinished=False).notes
    assert [(n.body, n.late, n.reason) for n in notes][-1] == ("Fax sent", True, reason)


async def test_quit_in_the_same_burst_keeps_the_text(data_dir: Path) -> None:
    """Seen in tmux: the app quit and kept nothing, not even a draft."""
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await section_a(pilot)
        burst(app, *letters("quick text then quit immediately"), "ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, timeout=20)
    record = load_latest(data_dir, unfinished=True)
    assert [(d.section, d.body) for d in record.drafts] == [
        (Section.A, "quick text then quit immediately")
    ]


async def test_quit_from_home_after_a_burst_that_starts_a_call(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        # The call loads from the database while the rest is read: the keys wait for it.
        burst(app, "n", *letters("QZ-9"), "f1", *letters("typed at once"), "ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, timeout=20)
    record = load_latest(data_dir, unfinished=True)
    assert record.call.value("patient_ref") == "QZ-9"
    assert [(d.section, d.body) for d in record.drafts] == [(Section.A, "typed at once")]


async def test_a_plain_textual_input_keeps_typing_order_under_the_rule() -> None:
    """Upstream Textual 8.2 gives 'fent' here (README: notes for maintainers)."""
    from p2pcall.key_order import OrderedKeysApp

    class PlainInputApp(OrderedKeysApp, App[None]):
        def compose(self) -> ComposeResult:
            yield Input("fent", select_on_focus=False)

    app = PlainInputApp()
    async with app.run_test() as pilot:
        field = app.query_one(Input)
        await wait_until(pilot, lambda: app.focused is field)
        for key, character in [("backspace", None), ("a", "a")]:
            app.post_message(Key(key, character))
        await wait_until(pilot, lambda: keys_taken(app))
        await pilot.pause()
        assert field.value == "fena"


async def test_home_keys_typed_behind_a_screen_change(data_dir: Path) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        burst(app, "h", "escape", "slash", *letters("aetna"))
        await wait_until(pilot, lambda: keys_taken(app))
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        assert app.screen.query_one("#search", Input).value == "aetna"
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))


def test_sigterm_takes_the_keys_already_read_before_saving(data_dir: Path) -> None:
    """A logout (SIGTERM) or a closed window (SIGHUP) right after a burst keeps all of it."""
    import os
    import signal
    import sqlite3

    from pty_terminal import Terminal, child_env, p2pcall_argv

    term = Terminal(p2pcall_argv(data_dir), child_env())
    try:
        term.wait_for("No calls yet")
        mark = term.mark()
        text = "typed in one burst right before the window closed"
        term.write(b"n\x1bOP" + text.encode())  # n, F1, then the note
        # Read, and the call's first screen shown: F1 and the note are still being handled.
        term.wait_for("Patient", mark)
        os.kill(term.process.pid, signal.SIGTERM)
        assert term.wait() == 128 + signal.SIGTERM
    finally:
        term.close()
    db = sqlite3.connect(f"file:{data_dir / 'p2pcall.sqlite3'}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT section, body FROM draft").fetchall() == [("A", text)]
    finally:
        db.close()
