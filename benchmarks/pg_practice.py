"""A practice on a PostgreSQL server on this machine: the figures of issue 16.

Each sub-command starts its own throwaway cluster (tests/support/pg_cluster.py; by default
with fsync on, as a practice's server runs, `--no-fsync` as the tests run it) and stops it.

save      Enter -> "saved" through the real app (Pilot, 80x24): `save_latency.end_to_end` on
          the server as dr_lee, then the same on the local SQLite file. Target: Enter ->
          committed median < 10 ms (the ✓ on screen follows the UI's layout and paint).
practice  Two clinicians (dr_lee, dr_park) and a coordinator (coord_kim), each its own app
          process under Pilot with its own data folder, for --minutes: the clinicians type
          notes at a human pace (a note every 2-4 s, key by key) with a few field edits, and
          end each call through the wrap-up every ~25 notes; the coordinator works the Due
          screen (open it, move, x / n / r / u, Enter to open a call). Follow-ups of earlier
          calls are seeded first through the store as the clinicians. Reports notes typed
          against notes on the server, duplicates, errors shown to anyone, the worst and p99
          save wait and the coordinator's worst action.
outage    30 notes typed one every 2 s while the server cannot be reached for 60 s: the
          network path cut (tests/support/net_cut.NetPath) and mended, then the server stopped
          (`pg_ctl stop -m immediate`) and started again. All 30 on the server afterwards, in
          order, once; time from the server's return to all saved; what the call bar said.

Usage: python benchmarks/pg_practice.py [--json] [--no-fsync] save [--notes 300] [--switch-ms MS]
       python benchmarks/pg_practice.py [--json] [--no-fsync] practice [--minutes 5] [--no-open]
       python benchmarks/pg_practice.py [--json] [--no-fsync] outage [--notes 30] [--gap 2]
                                                                     [--down 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
from save_latency import end_to_end, realistic_body, stats  # noqa: E402

SAVE_TARGET_MEDIAN_MS = 10.0
POLL = 0.002
URL_ENV = "P2PCALL_DATABASE_URL"


# -- the server ----------------------------------------------------------------------------


@contextlib.contextmanager
def server(fsync: bool) -> Iterator[Any]:
    """A throwaway cluster (pg_cluster.start_cluster's steps), fsync on unless told not."""
    import atexit

    import pg_cluster as pgc

    class Cluster(pgc.PgCluster):
        def _check(self, what: str, args: list[str]) -> None:
            # The tests' cluster runs with fsync=off; a practice's server does not.
            if what == "pg_ctl start" and fsync:
                args = [arg.replace("fsync=off", "fsync=on") for arg in args]
            super()._check(what, args)

    root = Path(tempfile.mkdtemp(prefix="p2pcall-pg-bench-"))
    cluster = Cluster(bindir=pgc.find_bindir(), root=root, account=pgc.server_account())
    atexit.register(cluster.stop)
    try:
        cluster.start()
        yield cluster
    finally:
        if not cluster.running:
            with contextlib.suppress(Exception):
                cluster.start_again()
        cluster.stop()


def database_name(url: str) -> str:
    from psycopg import conninfo

    return str(conninfo.conninfo_to_dict(url)["dbname"])


def server_notes(cluster: Any, name: str) -> list[tuple[str, int]]:
    """Every note on the server as (body, call id), in the order saved."""
    import psycopg

    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        rows = conn.execute("SELECT body, call_id FROM p2pcall.note ORDER BY saved_at, id")
        return [(row[0], row[1]) for row in rows.fetchall()]


async def until(predicate: Callable[[], object], what: str, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)
    return time.perf_counter()


def key_event(char: str) -> Any:
    from textual.events import Key

    if char == " ":
        return Key("space", " ")
    if char == "\n":
        return Key("enter", "\r")
    return Key(char, char)


async def type_keys(app: Any, text: str, seconds: float) -> None:
    """`text` key by key, spread over `seconds` (a person typing), each key a real event."""
    gap = seconds / max(1, len(text))
    for char in text:
        app.post_message(key_event(char))
        await asyncio.sleep(gap)


class Shown:
    """What the app told its user: notifications by severity, notes marked failed, and the
    time each note was marked saved. Wrappers in this process only; src/ is unchanged."""

    def __init__(self) -> None:
        self.notices: list[tuple[str, str]] = []  # (severity, message)
        self.failed: list[str] = []
        self.saved: dict[str, float] = {}
        self.sent: dict[str, float] = {}  # the note's Enter handled: its save queued

    def install(self) -> None:
        from textual.app import App

        from p2pcall.session import CallSession
        from p2pcall.widgets.notes import NoteItem

        shown = self
        notify, mark, save_note = App.notify, NoteItem.mark, CallSession.save_note

        def timed_save_note(self: Any, section: Any, kind: Any, body: str, *a: Any, **k: Any):
            shown.sent.setdefault(body, time.perf_counter())
            return save_note(self, section, kind, body, *a, **k)

        def counted_notify(self: Any, message: str, *args: Any, **kwargs: Any) -> None:
            shown.notices.append((str(kwargs.get("severity", "information")), str(message)))
            notify(self, message, *args, **kwargs)

        def timed_mark(self: Any, state: str, *args: Any, **kwargs: Any) -> None:
            mark(self, state, *args, **kwargs)
            if state == "saved":
                shown.saved.setdefault(self.body, time.perf_counter())
            elif state == "failed":
                shown.failed.append(self.body)

        App.notify = counted_notify  # type: ignore[method-assign]
        NoteItem.mark = timed_mark  # type: ignore[method-assign]
        CallSession.save_note = timed_save_note  # type: ignore[method-assign]

    @property
    def errors(self) -> list[str]:
        return [message for severity, message in self.notices if severity == "error"]


# -- save: Enter -> saved on the server and on SQLite --------------------------------------


def store_level(url: str, data_dir: Path, notes: int, seed: int) -> dict[str, Any]:
    """`add_note` alone on the server (wall and the calling thread's CPU, statements sent),
    with the pool's pre-ping as the app runs it and without; and, for comparison, the
    transaction the file's store runs (five round trips) by hand on one psycopg connection."""
    import psycopg

    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import local_tz_name, now_utc
    from p2pcall.domain.vocab import NoteKind
    from p2pcall.store.opening import open_store
    from p2pcall.store.postgres.dialect import SESSION_OPTIONS

    rng = random.Random(seed)
    store = open_store(data_dir, url)
    out: dict[str, Any] = {}
    try:
        call = store.start_call(local_tz_name())
        sent = 0

        execute = psycopg.Cursor.execute

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal sent
            sent += 1  # every statement sent, the pool's pre-ping included
            return execute(self, *args, **kwargs)

        psycopg.Cursor.execute = counted  # type: ignore[method-assign]
        for label, pre_ping in (("add_note", True), ("add_note, no pre-ping", False)):
            store.engine.pool._pre_ping = pre_ping  # type: ignore[attr-defined]
            wall: list[float] = []
            cpu: list[float] = []
            sent = 0
            for _ in range(notes):
                body = realistic_body(rng)
                t0, c0 = time.perf_counter(), time.thread_time()
                store.add_note(call.id, Section.A, NoteKind.NOTE, body, now_utc())
                cpu.append((time.thread_time() - c0) * 1000)
                wall.append((time.perf_counter() - t0) * 1000)
            out[label] = {"wall": stats(wall), "cpu": stats(cpu), "statements": sent / notes}
        store.engine.pool._pre_ping = True  # type: ignore[attr-defined]
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        wall, cpu = [], []
        with psycopg.connect(url, options=SESSION_OPTIONS) as conn:
            for _ in range(notes):
                body = realistic_body(rng)
                t0, c0 = time.perf_counter(), time.thread_time()
                with conn.transaction():
                    conn.execute(
                        "SELECT ended_at, finalized_at FROM call WHERE id = %s", (call.id,)
                    )
                    conn.execute(
                        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, "
                        "late, reason) VALUES (%s, 'A', 'note', %s, now(), now(), false, '') "
                        "RETURNING id",
                        (call.id, body),
                    )
                    conn.execute(
                        "DELETE FROM draft WHERE call_id = %s AND section = 'A'", (call.id,)
                    )
                cpu.append((time.thread_time() - c0) * 1000)
                wall.append((time.perf_counter() - t0) * 1000)
        out["same transaction, plain psycopg"] = {"wall": stats(wall), "cpu": stats(cpu)}
    finally:
        store.close()
    return out


def figure_save(notes: int, fsync: bool, seed: int, root: str) -> dict[str, Any]:
    import p2pcall.worker
    import pg_cluster as pgc

    out: dict[str, Any] = {
        "notes": notes,
        "fsync": fsync,
        "switch_ms": p2pcall.worker.SWITCH_INTERVAL_SECONDS * 1000,
    }
    with server(fsync) as cluster:
        os.environ[URL_ENV] = url = pgc.p2pcall_database(cluster, "dr_lee")
        data_dir = Path(tempfile.mkdtemp(prefix="p2pcall-store-", dir=root))
        try:
            out["store"] = store_level(url, data_dir, notes, seed)
            out["postgres"] = end_to_end(notes, 0, root, seed)
        finally:
            del os.environ[URL_ENV]
            shutil.rmtree(data_dir, ignore_errors=True)
    out["sqlite"] = end_to_end(notes, 0, root, seed)
    # Saved is committed: the figure judged is Enter -> the commit's answer in the app. The
    # note's ✓ follows once the UI thread has laid out and painted the note (the same cost
    # on either database).
    out["pass"] = out["postgres"]["latency_ms"]["committed"]["median"] < SAVE_TARGET_MEDIAN_MS
    return out


def print_save(rep: dict[str, Any]) -> None:
    sync = "on" if rep["fsync"] else "off"
    print(
        f"Enter -> saved through the app (Pilot, 80x24), {rep['notes']} notes; server fsync {sync}"
    )
    print(f"   {'(ms)':34}{'median':>8}{'p90':>8}{'p99':>8}{'max':>8}")
    rows = [
        ("committed", "Enter -> committed (DB thread)"),
        ("e2e", "Enter -> NoteItem marked saved"),
        ("ui", "  Enter -> job submitted (UI)"),
        ("queue", "  waiting in the DB queue"),
        ("db", "  Store.add_note (DB thread)"),
        ("back", "  result -> marked (UI)"),
        ("paint", "marked -> painted"),
    ]
    for db in ("postgres", "sqlite"):
        lat = rep[db]["latency_ms"]
        print(f"   {db} (failed notes: {rep[db]['failed_notes']})")
        for key, label in rows:
            x = lat[key]
            print(f"   {label:34}{x['median']:8.2f}{x['p90']:8.2f}{x['p99']:8.2f}{x['max']:8.2f}")
    print(
        f"   store alone on the server, {rep['notes']} notes (ms){'median':>14}{'p90':>8}{'max':>8}"
    )
    for label, x in rep["store"].items():
        for what in ("wall", "cpu"):
            y = x[what]
            print(f"     {label + ' ' + what:42}{y['median']:8.2f}{y['p90']:8.2f}{y['max']:8.2f}")
        if "statements" in x:
            print(f"     {'  statements per note':42}{x['statements']:8.1f}")
    verdict = "PASS" if rep["pass"] else "FAIL"
    print(
        f"target: Enter -> committed on the server, median < {SAVE_TARGET_MEDIAN_MS:.0f} ms  "
        f"->  {verdict}"
    )


# -- practice: two clinicians and a coordinator at once ---------------------------------------

CLINICIANS = ("dr_lee", "dr_park")
COORDINATOR = "coord_kim"
# Per call, the sections visited in turn with the fields typed on arriving (Ctrl+F, each value
# then Enter, Esc back to the note field); 4-6 notes in each.
VISITS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("f1", ("54", "F")),
    ("f2", ("Dr. Ames", "MD")),
    ("f4", ()),
    ("f5", ()),
    ("f6", ()),
)
SEED_CALLS = 15  # per clinician, each with 3 follow-ups due between 3 days ago and in 6 days


def seed_followups(url: str, data_dir: Path, rng: random.Random) -> int:
    """Finalized calls with follow-ups, written through the store as the clinician of `url`."""
    from datetime import timedelta

    from p2pcall.domain.followups import PlannedFollowUp
    from p2pcall.domain.sections import Section
    from p2pcall.domain.timefmt import local_tz_name, now_utc
    from p2pcall.domain.vocab import FollowUpAction, NoteKind, Outcome
    from p2pcall.store.opening import open_store

    actions = [
        FollowUpAction.CHASE_DOCUMENTS,
        FollowUpAction.REVIEWER_COMMITMENT,
        FollowUpAction.CONFIRMATION,
        FollowUpAction.INFORM_PATIENT,
        FollowUpAction.CHASE_PLAN,
    ]
    store = open_store(data_dir, url)
    made = 0
    try:
        for n in range(SEED_CALLS):
            call = store.start_call(local_tz_name())
            store.set_field(call.id, "patient_ref", f"PT-{rng.randrange(1000, 9999)}", log=True)
            store.set_field(call.id, "insurer", rng.choice(["Acme Health", "Blue Ridge"]), log=True)
            for _ in range(3):
                store.add_note(call.id, Section.A, NoteKind.NOTE, realistic_body(rng), now_utc())
            store.end_call(call.id, Outcome.DENIED)
            planned = [
                PlannedFollowUp(
                    action=actions[(n + k) % len(actions)],
                    due_override=now_utc() + timedelta(days=rng.uniform(-3, 6)),
                )
                for k in range(3)
            ]
            made += len(store.add_followups(call.id, planned))
            store.finalize_call(call.id)
    finally:
        store.close()
    return made


async def wait_for_start(app: Any) -> float:
    """Say "ready" to the parent; the start time (time.time()) is its answer."""
    print("ready", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    return float(line)


async def quit_app(app: Any) -> None:
    await app.action_quit()
    await asyncio.to_thread(app.db.wait_closed, 30)


async def clinician(url: str, data_dir: Path, seconds: float, seed: int, who: str) -> dict:
    from p2pcall.app import P2PCallApp
    from p2pcall.screens.call_info import CallInfoScreen
    from p2pcall.screens.home import HomeScreen
    from p2pcall.screens.section import SectionScreen
    from p2pcall.screens.wrap_up import WrapUpScreen
    from p2pcall.widgets.composer import NoteField

    rng = random.Random(seed)
    shown = Shown()
    shown.install()
    app = P2PCallApp(data_dir, url)
    typed: list[str] = []
    entered: dict[str, float] = {}
    out: dict[str, Any] = {"who": who, "calls": 0, "field_values": 0, "wrap_up_ms": []}
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.store_ready and app.db.pending == 0, "the store", 120)
        start = await wait_for_start(app)
        await asyncio.sleep(max(0.0, start - time.time()))
        end = start + seconds
        cpu0 = time.process_time()
        while time.time() < end:
            await pilot.press("n")
            await until(lambda: isinstance(app.screen, CallInfoScreen), "call info")
            await pilot.pause()
            await type_keys(app, f"{who[:2].upper()}-{rng.randrange(1000, 9999)}\n", 1.0)
            await type_keys(app, "Acme Health\n", 1.0)
            out["calls"] += 1
            for key, values in VISITS:
                await pilot.press(key)
                await until(lambda: isinstance(app.screen, SectionScreen), "the section")
                await until(lambda: isinstance(app.focused, NoteField), "the note field")
                if values:
                    await pilot.press("ctrl+f")
                    for value in values:
                        await type_keys(app, value + "\n", rng.uniform(0.5, 1.5))
                        out["field_values"] += 1
                    await pilot.press("escape")
                    await until(lambda: isinstance(app.focused, NoteField), "the note field")
                for _ in range(rng.randint(4, 6)):
                    if time.time() >= end:
                        break
                    body = f"{who} {len(typed) + 1:04d} {realistic_body(rng, 30, 90)}"
                    await type_keys(app, body, rng.uniform(2.0, 4.0))
                    entered[body] = time.perf_counter()
                    typed.append(body)
                    app.post_message(key_event("\n"))
            # End the call (the outcome highlighted), then save the wrap-up's follow-ups.
            await until(lambda: all(b in shown.saved for b in typed), "the notes saved", 120)
            t0 = time.perf_counter()
            await pilot.press("ctrl+g")
            await until(lambda: not isinstance(app.screen, SectionScreen), "the end dialog")
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, WrapUpScreen), "the wrap-up")
            await pilot.pause()
            await pilot.press("ctrl+s")
            await until(lambda: isinstance(app.screen, HomeScreen), "home", 120)
            out["wrap_up_ms"].append((time.perf_counter() - t0) * 1000)
        out["cpu_s"] = time.process_time() - cpu0
        await until(lambda: all(b in shown.saved for b in typed), "every note saved", 120)
        await quit_app(app)
    out["typed"] = typed
    out["save_ms"] = [(shown.saved[b] - entered[b]) * 1000 for b in typed]
    out["enter_handled_ms"] = [(shown.sent[b] - entered[b]) * 1000 for b in typed]
    out["queued_to_saved_ms"] = [(shown.saved[b] - shown.sent[b]) * 1000 for b in typed]
    out["errors"] = shown.errors
    out["failed"] = len(shown.failed)
    return out


def detail_problem(screen: Any) -> str:
    """The warning a detail view shows in its body when the call could not be read."""
    return " ".join(str(w.render()) for w in screen.query("#detail-body .warning"))


async def coordinator(url: str, data_dir: Path, seconds: float, seed: int, opens: bool) -> dict:
    from textual.events import Key
    from textual.widgets import OptionList

    from p2pcall.app import P2PCallApp
    from p2pcall.domain.reviewers import PROMISE_ACTIONS
    from p2pcall.screens.detail import DetailScreen
    from p2pcall.screens.due import DueScreen
    from p2pcall.screens.home import HomeScreen

    rng = random.Random(seed)
    shown = Shown()
    shown.install()
    reports: list[float] = []  # each time the Due screen showed a fresh list
    show_report = DueScreen.show_report

    def timed_show_report(self: DueScreen, report: Any) -> None:
        show_report(self, report)
        reports.append(time.perf_counter())

    DueScreen.show_report = timed_show_report  # type: ignore[method-assign]
    app = P2PCallApp(data_dir, url)
    actions: dict[str, list[float]] = {}
    due_items: list[int] = []

    def opened(errors_before: int) -> bool:
        """The call open: live (a clinician's app) or read-only (the detail view), or
        refused with a notice or in the detail's body."""
        screen = app.screen
        if isinstance(screen, DetailScreen):
            return screen.detail is not None or bool(detail_problem(screen))
        return app.live is not None or len(shown.errors) > errors_before

    async def act(kind: str, key: str, done: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        app.post_message(Key(key, key if len(key) == 1 else None))
        try:
            t1 = await until(done, kind, 120)
        except TimeoutError:
            raise TimeoutError(f"{kind}: on {app.screen!r}, told {shown.notices[-3:]}") from None
        actions.setdefault(kind, []).append((t1 - t0) * 1000)

    async with app.run_test(size=(80, 24)):
        await until(lambda: app.store_ready and app.db.pending == 0, "the store", 120)
        start = await wait_for_start(app)
        await asyncio.sleep(max(0.0, start - time.time()))
        end = start + seconds
        while time.time() < end:
            if not isinstance(app.screen, DueScreen):
                await until(lambda: isinstance(app.screen, HomeScreen), "home")
                seen = len(reports)
                await act("open the Due screen", "d", lambda n=seen: len(reports) > n)
            screen = app.screen
            assert isinstance(screen, DueScreen)
            due_items.append(len(screen.items))
            listing = screen.query_one("#due-list", OptionList)
            await asyncio.sleep(rng.uniform(1.0, 3.0))  # reading the list
            if not screen.items:
                continue
            for _ in range(rng.randint(0, 3)):
                before = listing.highlighted
                last = before is not None and before >= listing.option_count - 1
                if len(screen.items) > 1:
                    key = "up" if last else "down"
                    moved = lambda b=before, box=listing: box.highlighted != b  # noqa: E731
                    await act("move", key, moved)
            item = screen._current()
            if item is None:
                continue
            promise = item.followup.action.value in PROMISE_ACTIONS
            choice = rng.random()
            seen = len(reports)
            if choice < 0.35:
                await act("x done", "x", lambda n=seen: len(reports) > n)
            elif choice < 0.45:
                await act("n not needed", "n", lambda n=seen: len(reports) > n)
            elif choice < 0.7 and promise:
                key = rng.choice("ru")
                await act(f"{key} (not) received", key, lambda n=seen: len(reports) > n)
            elif choice < 0.8 and opens:
                refused = len(shown.errors)
                await act("Enter: open the call", "enter", lambda n=refused: opened(n))
                problem = detail_problem(app.screen)
                if problem:
                    shown.notices.append(("error", problem))  # shown in the detail's body
                await asyncio.sleep(rng.uniform(1.0, 2.0))
                if app.live is not None:
                    home = lambda: isinstance(app.screen, HomeScreen)  # noqa: E731
                    await act("Ctrl+G: leave the call", "ctrl+g", home)
                elif isinstance(app.screen, DetailScreen):
                    due = lambda: isinstance(app.screen, DueScreen)  # noqa: E731
                    await act("Esc: leave the call", "escape", due)
            elif choice < 0.85:
                await act("Esc: home", "escape", lambda: isinstance(app.screen, HomeScreen))
        await until(lambda: app.db.pending == 0, "the last changes", 120)
        await quit_app(app)
    return {
        "who": COORDINATOR,
        "actions_ms": actions,
        "due_items": due_items,
        "errors": shown.errors,
    }


def run_child(args: argparse.Namespace) -> int:
    data_dir = Path(args.data)
    if args.role == "coordinator":
        rep = asyncio.run(coordinator(args.url, data_dir, args.seconds, args.seed, args.opens))
    else:
        rep = asyncio.run(clinician(args.url, data_dir, args.seconds, args.seed, args.who))
    Path(args.out).write_text(json.dumps(rep))
    return 0


def figure_practice(
    minutes: float, opens: bool, fsync: bool, seed: int, root: str
) -> dict[str, Any]:
    import pg_cluster as pgc

    rng = random.Random(seed)
    seconds = minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="p2pcall-practice-", dir=root))
    out: dict[str, Any] = {"minutes": minutes, "fsync": fsync, "coordinator_opens": opens}
    try:
        with server(fsync) as cluster:
            name = database_name(pgc.p2pcall_database(cluster, "dr_lee"))
            people = [*CLINICIANS, COORDINATOR]
            urls = {person: cluster.url(person, name) for person in people}
            out["seeded_followups"] = sum(
                seed_followups(urls[who], tmp / who, rng) for who in CLINICIANS
            )
            before = len(server_notes(cluster, name))
            children: dict[str, subprocess.Popen[str]] = {}
            for n, who in enumerate(people):
                role = "coordinator" if who == COORDINATOR else "clinician"
                command = [sys.executable, __file__, "--seed", str(seed + n), "_child", role]
                command += ["--who", who, "--url", urls[who], "--data", str(tmp / who)]
                command += ["--seconds", str(seconds)] + ([] if opens else ["--no-open"])
                command += ["--out", str(tmp / f"{who}.json")]
                children[who] = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=(tmp / f"{who}.err").open("w"),
                    text=True,
                    env={k: v for k, v in os.environ.items() if k != URL_ENV},
                )
            try:
                for who, child in children.items():
                    assert child.stdout is not None
                    if child.stdout.readline().strip() != "ready":
                        err = (tmp / f"{who}.err").read_text()
                        raise RuntimeError(f"{who} did not start: {err}")
                start = time.time() + 1.0
                for child in children.values():
                    assert child.stdin is not None
                    child.stdin.write(f"{start}\n")
                    child.stdin.flush()
                for who, child in children.items():
                    if child.wait(timeout=seconds + 600) != 0:
                        err = (tmp / f"{who}.err").read_text()[-3000:]
                        raise RuntimeError(f"{who} failed: {err}")
            finally:
                for child in children.values():  # a child that failed or hung: ours to end
                    if child.poll() is None:
                        child.kill()
                        child.wait()
            reps = {who: json.loads((tmp / f"{who}.json").read_text()) for who in people}
            on_server = [body for body, _ in server_notes(cluster, name)][before:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    typed = [body for who in CLINICIANS for body in reps[who]["typed"]]
    waits = [ms for who in CLINICIANS for ms in reps[who]["save_ms"]]
    handled = [ms for who in CLINICIANS for ms in reps[who]["enter_handled_ms"]]
    queued = [ms for who in CLINICIANS for ms in reps[who]["queued_to_saved_ms"]]
    coordinator_ms = [ms for v in reps[COORDINATOR]["actions_ms"].values() for ms in v]
    errors = [e for who in people for e in reps[who]["errors"]]
    out.update(
        {
            "typed": len(typed),
            "on_server": len(on_server),
            "lost": len(set(typed) - set(on_server)),
            "duplicates": len(on_server) - len(set(on_server)),
            "in_typing_order": all(
                [b for b in on_server if b.startswith(who)] == reps[who]["typed"]
                for who in CLINICIANS
            ),
            "errors_shown": len(errors),
            "error_messages": {e: errors.count(e) for e in sorted(set(errors))},
            "failed_notes": sum(reps[who]["failed"] for who in CLINICIANS),
            "save_wait_ms": stats(waits),
            "enter_handled_ms": stats(handled),
            "queued_to_saved_ms": stats(queued),
            "calls": {who: reps[who]["calls"] for who in CLINICIANS},
            "field_values": sum(reps[who]["field_values"] for who in CLINICIANS),
            "wrap_up_ms": stats([ms for who in CLINICIANS for ms in reps[who]["wrap_up_ms"]]),
            "clinician_cpu_s": {who: reps[who]["cpu_s"] for who in CLINICIANS},
            "coordinator": {kind: stats(v) for kind, v in reps[COORDINATOR]["actions_ms"].items()},
            "coordinator_worst_ms": max(coordinator_ms, default=0.0),
            "due_items": stats(reps[COORDINATOR]["due_items"] or [0]),
        }
    )
    out["pass"] = not (out["lost"] or out["duplicates"] or out["errors_shown"])
    return out


def print_practice(rep: dict[str, Any]) -> None:
    w = rep["save_wait_ms"]
    print(
        f"{rep['minutes']:g} min: dr_lee and dr_park typing ({rep['field_values']} field values, "
        f"calls {rep['calls']}), coord_kim on the Due screen ({rep['seeded_followups']} "
        "follow-ups seeded)"
    )
    print(
        f"   notes typed {rep['typed']}, on the server {rep['on_server']}: lost {rep['lost']}, "
        f"duplicates {rep['duplicates']}, in typing order: {rep['in_typing_order']}"
    )
    print(
        f"   errors shown: {rep['errors_shown']} {rep['error_messages'] or ''}; "
        f"notes marked failed: {rep['failed_notes']}"
    )
    print(
        f"   save wait (Enter -> saved, ms): median {w['median']:.1f}, p90 {w['p90']:.1f}, "
        f"p99 {w['p99']:.1f}, worst {w['max']:.1f}"
    )
    for key, label in (
        ("enter_handled_ms", "Enter posted -> handled (keys before it)"),
        ("queued_to_saved_ms", "note queued -> marked saved"),
    ):
        x = rep[key]
        print(f"     {label}: median {x['median']:.1f}, p99 {x['p99']:.1f}, worst {x['max']:.1f}")
    u = rep["wrap_up_ms"]
    print(f"   end call + wrap-up saved (ms): median {u['median']:.0f}, worst {u['max']:.0f}")
    print(f"   clinicians' CPU (s): {rep['clinician_cpu_s']}")
    print(f"   coordinator (ms){'':21}{'n':>5}{'median':>8}{'p90':>8}{'max':>8}")
    for kind, x in rep["coordinator"].items():
        print(f"     {kind:32}{x['n']:5d}{x['median']:8.1f}{x['p90']:8.1f}{x['max']:8.1f}")
    print(
        f"   coordinator's worst action: {rep['coordinator_worst_ms']:.0f} ms; items on the "
        f"Due screen: median {rep['due_items']['median']:.0f}"
    )
    print(f"target: 0 lost, 0 duplicates, 0 errors shown  ->  {'PASS' if rep['pass'] else 'FAIL'}")


# -- outage: the server out of reach while notes are typed -----------------------------------


def bar_text(app: Any) -> tuple[str, str]:
    """What the call bar shows now: the save mark and the server's connection."""
    from textual.css.query import NoMatches

    try:
        save = str(app.screen.query_one("#save-state").render()).rstrip()  # padded: see SaveState
        link = app.screen.query_one("#link-state")
        return save, str(link.render()) if link.display else ""
    except NoMatches:
        return "", ""


async def type_through_outage(
    app: Any,
    shown: Shown,
    notes: int,
    gap: float,
    down: float,
    go_away: Callable[[], None],
    come_back: Callable[[], None],
) -> dict[str, Any]:
    from p2pcall.screens.call_info import CallInfoScreen
    from p2pcall.widgets.composer import NoteField

    typed = [f"outage note {n:02d}: reviewer cites criterion {n}.{n}" for n in range(1, notes + 1)]
    entered: dict[str, float] = {}
    bar: list[tuple[float, str, str]] = []  # each change of the call bar, from the cut
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.store_ready and app.db.pending == 0, "the store", 120)
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, CallInfoScreen), "call info")
        await pilot.press("f1")
        await until(lambda: isinstance(app.focused, NoteField), "the note field")
        session = app.live
        before = "note before the outage: reviewer joined"
        await type_keys(app, before + "\n", 1.0)
        await until(lambda: before in shown.saved, "the first note saved")
        online = bar_text(app)

        def look(t0: float) -> None:
            now = bar_text(app)
            if not bar or bar[-1][1:] != now:
                bar.append((time.perf_counter() - t0, *now))

        t_away = time.perf_counter()
        await asyncio.to_thread(go_away)
        for n, body in enumerate(typed):
            await type_keys(app, body, min(1.0, gap / 2))
            entered[body] = time.perf_counter()
            app.post_message(key_event("\n"))
            while time.perf_counter() < t_away + (n + 1) * gap:
                look(t_away)
                await asyncio.sleep(0.1)
        while time.perf_counter() < t_away + down:
            look(t_away)
            await asyncio.sleep(0.1)
        unsaved_before_return = session.unsaved
        saved_during = sum(1 for body in typed if body in shown.saved)
        t_back = time.perf_counter()
        await asyncio.to_thread(come_back)
        t_up = time.perf_counter()
        while not (all(body in shown.saved for body in typed) and session.unsaved == 0):
            look(t_away)
            if time.perf_counter() - t_back > 180:
                raise TimeoutError("the notes were not all saved 180 s after the server came back")
            await asyncio.sleep(0.02)
        t_all = time.perf_counter()
        await until(lambda: app.status.link.value == "online", "the call bar back online", 60)
        t_online = time.perf_counter()
        look(t_away)
        await quit_app(app)
    return {
        "typed": [before, *typed],
        "online_bar": online,
        "bar_changes": bar,
        "saved_during_outage": saved_during,
        "unsaved_before_return": unsaved_before_return,
        "return_s": t_up - t_back,
        "back_to_all_saved_s": t_all - t_back,
        "up_to_all_saved_s": t_all - t_up,
        "back_to_online_shown_s": t_online - t_back,
        "errors": shown.errors,
        "failed_marks": len(shown.failed),
    }


def figure_outage(notes: int, gap: float, down: float, fsync: bool, root: str) -> dict[str, Any]:
    import pg_cluster as pgc
    from net_cut import NetPath
    from p2pcall.app import P2PCallApp

    shown = Shown()
    shown.install()
    out: dict[str, Any] = {"notes": notes, "gap_s": gap, "down_s": down, "fsync": fsync}
    with server(fsync) as cluster:
        for how in ("network cut", "server stopped"):
            name = database_name(pgc.p2pcall_database(cluster, "dr_lee"))
            data_dir = Path(tempfile.mkdtemp(prefix="p2pcall-outage-", dir=root))
            path = NetPath(cluster.socket_dir / ".s.PGSQL.5432")
            try:
                if how == "network cut":
                    app = P2PCallApp(data_dir, path.url("dr_lee", name))
                    away, back = path.cut, path.mend
                else:
                    app = P2PCallApp(data_dir, cluster.url("dr_lee", name))
                    away, back = cluster.stop_immediately, cluster.start_again
                shown.__init__()  # type: ignore[misc]
                rep = asyncio.run(type_through_outage(app, shown, notes, gap, down, away, back))
            finally:
                path.close()
                shutil.rmtree(data_dir, ignore_errors=True)
            on_server = [body for body, _ in server_notes(cluster, name)]
            rep["on_server"] = len(on_server)
            rep["all_in_order_once"] = on_server == rep.pop("typed")
            rep["pass"] = rep["all_in_order_once"]
            out[how] = rep
    out["pass"] = all(out[how]["pass"] for how in ("network cut", "server stopped"))
    return out


def print_outage(rep: dict[str, Any]) -> None:
    print(
        f"{rep['notes']} notes typed one every {rep['gap_s']:g} s while the server was out of "
        f"reach for {rep['down_s']:g} s (plus one note before)"
    )
    for how in ("network cut", "server stopped"):
        r = rep[how]
        print(
            f"   {how}: on the server afterwards {r['on_server']}, all in order once: "
            f"{r['all_in_order_once']}"
        )
        print(
            f"     saved during the outage {r['saved_during_outage']}, unsaved when it ended "
            f"{r['unsaved_before_return']}; bringing it back took {r['return_s']:.1f} s"
        )
        print(
            f"     from the server back to all saved {r['back_to_all_saved_s']:.1f} s "
            f"({r['up_to_all_saved_s']:.1f} s after it answered again), "
            f"to the bar showing online {r['back_to_online_shown_s']:.1f} s"
        )
        errors = {e: r["errors"].count(e) for e in sorted(set(r["errors"]))}
        print(
            f"     error notices {len(r['errors'])}: {errors}; notes marked failed "
            f"{r['failed_marks']}"
        )
        print(f"     call bar online: {' | '.join(r['online_bar'])!r}; then, from the outage:")
        for t, save, link in r["bar_changes"]:
            print(f"       {t:6.1f} s  {link!r:24} {save!r}")
    print(f"target: all on the server, in order, once  ->  {'PASS' if rep['pass'] else 'FAIL'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-fsync", dest="fsync", action="store_false")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", default=None, help="where temp dirs go (default: system temp)")
    sub = parser.add_subparsers(dest="figure", required=True)
    save = sub.add_parser("save", help="Enter -> saved, server and SQLite")
    save.add_argument("--notes", type=int, default=300)
    save.add_argument(
        "--switch-ms",
        type=float,
        default=None,
        help="sys.setswitchinterval the app sets (default its own, 0.2 ms): how long the "
        "database thread may wait for the GIL while the UI thread runs",
    )
    practice = sub.add_parser("practice", help="two clinicians and a coordinator at once")
    practice.add_argument("--minutes", type=float, default=5.0)
    outage = sub.add_parser("outage", help="notes typed while the server is out of reach")
    outage.add_argument("--notes", type=int, default=30)
    outage.add_argument("--gap", type=float, default=2.0, help="seconds between notes")
    outage.add_argument("--down", type=float, default=60.0, help="seconds out of reach")
    for parent in (practice, child := sub.add_parser("_child")):  # _child: one person's app
        parent.add_argument(
            "--no-open",
            dest="opens",
            action="store_false",
            help="the coordinator never presses Enter",
        )
    child.add_argument("role", choices=["clinician", "coordinator"])
    for option in ("--who", "--url", "--data", "--out"):
        child.add_argument(option, required=True)
    child.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)
    if args.figure == "_child":
        return run_child(args)
    root = args.dir or tempfile.gettempdir()
    if args.figure == "save":
        if args.switch_ms is not None:  # the app's own setting (worker.py), for trying others
            import p2pcall.worker

            p2pcall.worker.SWITCH_INTERVAL_SECONDS = args.switch_ms / 1000
        rep = figure_save(max(1, args.notes), args.fsync, args.seed, root)
        printer = print_save
    elif args.figure == "practice":
        rep = figure_practice(args.minutes, args.opens, args.fsync, args.seed, root)
        printer = print_practice
    else:
        rep = figure_outage(max(1, args.notes), args.gap, args.down, args.fsync, root)
        printer = print_outage
    print(json.dumps(rep, indent=2)) if args.json else printer(rep)
    return 0 if rep["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
