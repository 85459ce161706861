"""The differential typing harness: the same keys, typed slowly and in one burst, must give
the same records and the same screen.

A script is a starting state (`Setup`) and a list of key names. `run_pilot` runs it against
the real app under Pilot (80x24, a real SQLite file in its own data directory), either
- "slow": one key at a time, waiting for the app to settle after each (every key taken,
  every database job answered, Pilot's idle wait), or
- "burst": every key posted at once, as a terminal delivers them after a stall, then waiting
  for the app to settle once.
`Outcome` is what a user could tell apart: the records (notes, fields and their edit log,
drafts, addenda, corrections, follow-ups; timestamps reduced to "set or not") and the final
screen (text at 80x24, which screen, which widget has focus; clock readings masked).
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.events import Key
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

from p2pcall.app import P2PCallApp
from p2pcall.store.opening import open_store
from pilot_helpers import DENIED_URGENT, open_app, wait_until


def key_event(name: str) -> Key:
    """The event Pilot's `press` makes for a key name or character (textual.app._press_keys)."""
    if len(name) == 1 and not name.isalnum():
        name = _character_to_key(name)
    try:
        character = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(name, name)))
    except KeyError:
        character = name if len(name) == 1 else None
    return Key(name, character)


KEY_OR_CHARACTER = re.compile(r"<([a-z0-9+]+)>|(.)", re.DOTALL)


def parse_keys(text: str) -> tuple[str, ...]:
    """'ab<enter>' -> ('a', 'b', 'enter'): text typed as it stands, <name> one key."""
    return tuple(name or char for name, char in KEY_OR_CHARACTER.findall(text))


# -- starting states ---------------------------------------------------------------------------


def setup_home(data_dir: Path) -> None:
    """Nothing stored yet: the app makes its own database."""


def setup_records(data_dir: Path) -> None:
    """Three calls: a finalized one with follow-ups, an ended one, an unfinished one."""
    from p2pcall.domain.followups import PlannedFollowUp, suggest_followups
    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.domain.vocab import NoteKind, Outcome

    store = open_store(data_dir)
    try:
        first = store.start_call("UTC").id
        for key, value in DENIED_URGENT.items():
            store.set_field(first, key, value)
        for section, body in ((Section.A, "fentanyl patch titration"), (Section.B, "evicore")):
            store.add_note(first, section, NoteKind.NOTE, body, now_utc())
        store.end_call(first, Outcome.DENIED)
        plan = suggest_followups(store.load_call(first).call, now=now_utc())
        planned = [
            PlannedFollowUp(action=s.action, computed_due=s.computed_due, note=s.note)
            for s in plan.suggestions
            if s.selected
        ]
        store.add_followups(first, planned)
        store.finalize_call(first)

        second = store.start_call("UTC").id
        store.set_field(second, "insurer", "Cigna")
        store.set_field(second, "patient_ref", "CI-2")
        store.add_note(second, Section.C, NoteKind.QUOTE, "not medically necessary", now_utc())
        store.end_call(second, Outcome.APPROVED)

        third = store.start_call("UTC").id
        store.set_field(third, "patient_ref", "UN-3")
        store.add_note(third, Section.A, NoteKind.NOTE, "started, not ended", now_utc())
        store.save_draft(third, Section.B, NoteKind.NOTE, "half a thought", now_utc())
    finally:
        store.close()


SETUPS = {"home": setup_home, "records": setup_records}


@dataclass(frozen=True)
class Script:
    name: str
    setup: str
    keys: tuple[str, ...]

    @classmethod
    def of(cls, name: str, setup: str, typed: str) -> Script:
        return cls(name, setup, parse_keys(typed))

    def __str__(self) -> str:
        return f"{self.name} [{self.setup}]: {list(self.keys)!r}"


# -- what is compared ----------------------------------------------------------------------------

TIMES = [
    re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?"),
    re.compile(r"\d{1,2}:\d\d(:\d\d)?( ?[AaPp][Mm])?"),
    re.compile(r"\b\d+ ?(h|min|m|s|sec|seconds?|minutes?|hours?)\b( \d+ ?(m|s|min|sec)\b)*"),
    re.compile(r"\b(just now|today|\d+ \w+ ago)\b"),
    # The chain head hashes the record's times: in full on a detail, short in the call bar.
    re.compile(r"\b[0-9a-f]{64}\b"),
    re.compile(r"(?<=FINAL )[0-9a-f]{4} [0-9a-f]{4}"),
]


def mask_clock(text: str) -> str:
    """Readings of the clock (and what hashes them) masked: the two runs differ in time."""
    for pattern in TIMES:
        text = pattern.sub("<t>", text)
    return text


def dump_records(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    path = data_dir / "p2pcall.sqlite3"
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {}
        for table in ("call", "call_field", "field_edit", "note", "draft", "followup"):
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            rows = []
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                kept = []
                for column, value in zip(columns, row, strict=True):
                    # Times, the chain head and each note's random outbox key differ from
                    # run to run: whether there is one is what is compared.
                    if column.endswith("_at") or column in ("chain_head", "client_key"):
                        kept.append((column, value is not None))
                    elif column.endswith("_due") and value is not None:
                        kept.append((column, str(value)[:10]))
                    else:
                        kept.append((column, value))
                rows.append(tuple(kept))
            out[table] = rows
        return out
    finally:
        db.close()


def screen_text(app: P2PCallApp) -> str:
    screen = app.screen
    lines = [strip.text.rstrip() for strip in screen._compositor.render_strips()]
    focused = app.focused
    head = f"{type(screen).__name__} focus={type(focused).__name__}#{getattr(focused, 'id', '')}"
    return mask_clock("\n".join([head, *lines]))


@dataclass
class Outcome:
    records: dict[str, list[tuple[Any, ...]]]
    screen: str


# -- running a script --------------------------------------------------------------------------


def keys_taken(app: P2PCallApp) -> bool:
    order = getattr(app, "key_order", None)  # (absent before issue 11: nothing to wait for)
    return order is None or order.idle


async def settled(pilot: Any, app: P2PCallApp) -> None:
    """Every key taken, every database job answered, no search waiting out its typing pause,
    the screen quiet (twice in a row)."""
    quiet = 0
    while quiet < 2:
        if not app.is_running:
            return
        await wait_until(
            pilot,
            lambda: not app.is_running or (keys_taken(app) and app.db.pending == 0),
            timeout=30,
        )
        if not app.is_running:
            return
        await pilot.pause()
        # A search typed into history or insights runs after a short typing pause.
        search_pending = getattr(app.screen, "search_pending", False)
        busy = not keys_taken(app) or app.db.pending or search_pending
        quiet = 0 if busy else quiet + 1


async def run_pilot(script: Script, data_dir: Path, mode: str, home: Path) -> Outcome:
    """`home` is the home folder exports go to, and the working directory (a file name typed
    without a folder): the same path for both runs of a script (the export dialog shows it),
    emptied by the caller in between."""
    SETUPS[script.setup](data_dir)
    home.mkdir(parents=True, exist_ok=True)
    saved_home, saved_cwd = os.environ.get("HOME"), os.getcwd()
    os.environ["HOME"] = str(home)
    os.chdir(home)
    try:
        return await _run_pilot(script, data_dir, mode)
    finally:
        os.chdir(saved_cwd)
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home


async def _run_pilot(script: Script, data_dir: Path, mode: str) -> Outcome:
    app = P2PCallApp(data_dir)
    screen = "(the app quit)"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.pause()
        if mode == "slow":
            for name in script.keys:
                app.post_message(key_event(name))
                await settled(pilot, app)
                if not app.is_running:
                    break
        else:
            for name in script.keys:
                app.post_message(key_event(name))
            await settled(pilot, app)
        if app.is_running:
            # Drafts and field edits are written at most once a second, so a slow run has
            # written some already (the status says "saved"): write the rest now, in both.
            app.flush_all()
            await wait_until(pilot, lambda: app.db.pending == 0, timeout=30)
            app.clear_notifications()  # toasts time out: a slow run outlives more of them
            await pilot.pause()
            screen = screen_text(app)
            await app.action_quit()
    # The app has left, but its database thread may still be committing what quitting
    # queued (the last draft): read the records once it has ended.
    await asyncio.to_thread(app.db.wait_closed, 30)
    return Outcome(dump_records(data_dir), screen)


def exported_files(home: Path) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in sorted(home.iterdir()) if path.is_file()}


def differences(slow: Outcome, burst: Outcome) -> str:
    """'' when the two runs agree; otherwise what differs, for the failure message."""
    out = []
    for table in sorted(set(slow.records) | set(burst.records)):
        a, b = slow.records.get(table), burst.records.get(table)
        if a != b:
            out.append(f"table {table}:\n  key by key: {a}\n  burst:      {b}")
    if slow.screen != burst.screen:
        out.append(f"screen, key by key:\n{slow.screen}\nscreen, burst:\n{burst.screen}")
    return "\n".join(out)
