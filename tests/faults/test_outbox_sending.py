"""The database cannot be written mid-call: notes go to the outbox and arrive in order, once.

Driven through the real app (Pilot) on a real SQLite file. The database is made unwritable
the way SQLite itself refuses writes (`PRAGMA query_only` on every new connection of the
app's store: "attempt to write a readonly database"), then writable again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from outbox_helpers import make_unwritable, outbox_bodies
from p2pcall.app import P2PCallApp
from p2pcall.domain.timefmt import now_utc
from p2pcall.outbox import Outbox
from p2pcall.textual_compat import shown_messages
from p2pcall.widgets.notes import NoteItem
from pilot_helpers import open_app, settle, start_call, wait_until

DB = "p2pcall.sqlite3"


def stored_notes(data_dir: Path) -> list[tuple[str, str, str, str | None]]:
    db = sqlite3.connect(data_dir / DB)
    try:
        return db.execute(
            "SELECT body, started_at, saved_at, client_key FROM note ORDER BY id"
        ).fetchall()
    finally:
        db.close()


def bar_count(app: P2PCallApp) -> str:
    widget = app.screen.query_one("#outbox-count")
    return str(widget.render()) if widget.display else ""


async def test_notes_typed_while_the_database_is_unwritable_arrive_in_order_once(
    data_dir: Path,
) -> None:
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        await pilot.press(*"saved at once", "enter")
        await settle(pilot)

        await make_unwritable(pilot, app, True)
        typed_from = now_utc()
        await pilot.press(*"one by one", "enter")  # key by key, waiting for each answer
        await wait_until(pilot, lambda: app.live.unsaved == 1)
        # a burst: two notes, Enter after each, F3 and a third in section C, no waiting
        await pilot.press(*"burst two", "enter", *"burst three", "enter", "f3")
        await pilot.press(*"in section c", "enter")
        await wait_until(pilot, lambda: app.live.unsaved == 4)
        typed_until = now_utc()
        await wait_until(pilot, lambda: bar_count(app) == "4 in outbox")
        messages = [n.message for n in shown_messages(app)]
        assert any("kept in the outbox" in m and "stays on screen" in m for m in messages)
        assert "NOT SAVED" in app.save_state[1]
        assert app.send_line.writer.wait_idle(10)
        expected = ["one by one", "burst two", "burst three", "in section c"]
        assert outbox_bodies(data_dir) == expected  # on disk, in typing order
        for screen in ("section-A", "section-C"):
            items = app.get_screen(screen).query(NoteItem)
            assert all(i.state == "failed" for i in items if i.body in expected)
        # Retries while it stays unwritable change nothing and lose nothing.
        await asyncio.sleep(3.5)
        await settle(pilot)
        assert [row[0] for row in stored_notes(data_dir)] == ["saved at once"]

        released = now_utc()
        await make_unwritable(pilot, app, False)
        await wait_until(pilot, lambda: app.live.unsaved == 0, timeout=20)
        await wait_until(pilot, lambda: bar_count(app) == "")
        items = list(app.get_screen("section-A").query(NoteItem))
        items += list(app.get_screen("section-C").query(NoteItem))
        assert all(i.state == "saved" for i in items)
        assert app.send_line.writer.wait_idle(10)
        assert outbox_bodies(data_dir) == []
        await pilot.press("ctrl+q")

    rows = stored_notes(data_dir)
    assert [row[0] for row in rows] == ["saved at once", *expected]  # once each, in order
    keys = [row[3] for row in rows]
    assert None not in keys and len(set(keys)) == len(keys)
    from p2pcall.store.timetext import from_text

    for _body, started, saved, _key in rows[1:]:
        # the times are those of typing and Enter, not of the late commit
        assert typed_from <= from_text(started) <= from_text(saved) <= typed_until < released


async def test_finalizing_waits_for_the_notes_in_the_outbox(data_dir: Path) -> None:
    """A record is never finalized ahead of notes typed into it that are still waiting."""
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        await make_unwritable(pilot, app, True)
        await pilot.press(*"waiting note", "enter")
        await wait_until(pilot, lambda: app.live.unsaved == 1)
        session = app.live
        refused: list[str] = []
        # The database is writable again, but the retry has not run yet.
        app.send_line.writer.wait_idle(10)
        app._sending_outbox = True  # hold the timer's retry back for this moment
        await make_unwritable(pilot, app, False)
        app.db.submit(lambda store: store.end_call(session.call.id, _outcome()))
        session.finalize(on_error=refused.append)
        await settle(pilot)
        assert refused and "not saved yet" in refused[0] and "outbox" in refused[0]
        app._sending_outbox = False
        await wait_until(pilot, lambda: app.live.unsaved == 0, timeout=15)
        session.finalize()
        await wait_until(pilot, lambda: session.call.finalized_at is not None)
        await pilot.press("ctrl+q")
    assert [row[0] for row in stored_notes(data_dir)] == ["waiting note"]


def _outcome():
    from p2pcall.domain.vocab import Outcome

    return Outcome.APPROVED


async def test_a_note_typed_after_a_failed_one_waits_behind_it(data_dir: Path) -> None:
    """The database is writable again before the retry: the later note must not overtake."""
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        await make_unwritable(pilot, app, True)
        await pilot.press(*"first", "enter")
        await wait_until(pilot, lambda: app.live.unsaved == 1)
        app._sending_outbox = True  # hold the timer's retry back for this moment
        await make_unwritable(pilot, app, False)
        await pilot.press(*"second", "enter")
        await wait_until(pilot, lambda: app.live.unsaved == 2)
        await settle(pilot)
        assert stored_notes(data_dir) == []
        assert bar_count(app) == "2 in outbox"
        errors = [n.message for n in shown_messages(app) if "Note not saved" in n.message]
        assert len(errors) == 1  # the second waits; it has no error of its own
        app._sending_outbox = False
        await wait_until(pilot, lambda: app.live.unsaved == 0, timeout=15)
        await pilot.press("ctrl+q")
    assert [row[0] for row in stored_notes(data_dir)] == ["first", "second"]


async def test_a_kept_note_whose_call_was_finalized_stays_and_is_shown(data_dir: Path) -> None:
    """Never dropped: the record refuses it, the outbox keeps it, the user sees its text."""
    import uuid
    from datetime import timedelta

    from p2pcall.domain.sections import Section
    from p2pcall.domain.vocab import NoteKind, Outcome
    from p2pcall.outbox import OutboxNote
    from p2pcall.store import Store

    store = Store.open(data_dir)
    finalized, other = store.start_call("UTC"), store.start_call("UTC")
    typed = now_utc() - timedelta(minutes=5)
    store.end_call(finalized.id, Outcome.DENIED)
    store.finalize_call(finalized.id)
    store.close()
    outbox = Outbox.open(data_dir)
    assert outbox is not None
    for call_id, body in ((finalized.id, "typed before the finalize"), (other.id, "goes in")):
        outbox.put(
            OutboxNote(str(uuid.uuid4()), call_id, Section.E, NoteKind.NOTE, body, typed, typed)
        )
    outbox.close()

    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)

        def said() -> list[str]:
            return [n.message for n in shown_messages(app) if "outbox" in n.message]

        await wait_until(pilot, lambda: len(said()) == 2)
        refused = next(m for m in said() if "could not be added" in m)
        assert f"call #{finalized.id}" in refused and "addendum" in refused
        assert "\u201ctyped before the finalize\u201d" in refused  # its text, to add it again
        assert any(f"saved to call #{other.id}" in m for m in said())
        assert app.send_line.writer.wait_idle(10)
        await pilot.press("ctrl+q")
    assert outbox_bodies(data_dir) == ["typed before the finalize"]
    assert [row[0] for row in stored_notes(data_dir)] == ["goes in"]


async def test_a_damaged_outbox_at_start_is_said_and_left_as_it_is(data_dir: Path) -> None:
    """Fail closed: never "nothing kept"; the file is not touched; notes still get saved."""
    from p2pcall.outbox import OUTBOX_NAME
    from p2pcall.paths import ensure_private_dir

    ensure_private_dir(data_dir)
    damaged = data_dir / OUTBOX_NAME
    damaged.write_bytes(b"not an outbox at all\n" * 200)
    before = damaged.read_bytes()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)

        def said() -> list[str]:
            return [n.message for n in shown_messages(app) if "outbox" in n.message]

        await wait_until(pilot, said)
        [message] = said()
        assert message.startswith("The outbox could not be read: ")
        assert str(damaged) in message and "damaged" in message and "nothing was removed" in message
        await start_call(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.name == "section-A")
        await pilot.press(*"saved all the same", "enter")
        await wait_until(pilot, lambda: len(said()) == 2)
        assert "A note could not be kept in the outbox" in said()[1]
        await settle(pilot)
        await pilot.press("ctrl+q")
    assert [row[0] for row in stored_notes(data_dir)] == ["saved all the same"]
    assert damaged.read_bytes() == before
