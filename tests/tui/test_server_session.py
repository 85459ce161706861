"""The app on a practice server: the password asked in a dialog, what each role may start,
and the call bar's connection state."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg import conninfo

import pg_cluster as pgc
from conftest import Database
from p2pcall.app import P2PCallApp
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.screens.password import PasswordScreen
from p2pcall.screens.problem import ProblemScreen
from pilot_helpers import note, open_app, quit_and_wait, start_call, wait_until

pytestmark = pytest.mark.server_only


def _shown(app: P2PCallApp) -> str:
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in app.screen.query(Static))


def as_person(database: Database, person: str) -> str:
    assert database.url is not None
    parts = conninfo.conninfo_to_dict(database.url)
    parts["user"] = person
    return conninfo.make_conninfo(**{k: str(v) for k, v in parts.items()})


@pytest.fixture
def no_password_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ~/.pgpass, no PGPASSWORD: libpq has no password of its own."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "home" / "no-such-file"))


@pytest.mark.usefixtures("no_password_files")
async def test_the_password_is_asked_in_a_dialog_and_never_shown(
    pg_cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    person = pgc.password_role(pg_cluster)
    app = P2PCallApp(data_dir, as_person(database, person))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PasswordScreen))
        await pilot.press(*pgc.PASSWORD)
        assert pgc.PASSWORD not in str(app.screen.query_one("#server-password").render())
        await pilot.press("enter")
        await open_app(pilot)
        assert app.server is not None and person in app.server
        await start_call(pilot)
        await pilot.press("f1")
        await note(pilot, "reviewer on the line")
        assert app.live is not None
        session = app.live
        await wait_until(pilot, lambda: len(session.notes) == 1)
        assert "server" in str(app.screen.query_one("#link-state").render())
        await quit_and_wait(app)


@pytest.mark.usefixtures("no_password_files")
async def test_a_mistyped_password_is_asked_again_then_the_server_opens(
    pg_cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    app = P2PCallApp(data_dir, as_person(database, pgc.password_role(pg_cluster)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PasswordScreen))
        await pilot.press(*"wrong", "enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, PasswordScreen) and "did not accept" in _shown(app),
        )
        await pilot.press(*pgc.PASSWORD, "enter")
        await open_app(pilot)
        assert app.server is not None
        await quit_and_wait(app)


@pytest.mark.usefixtures("no_password_files")
async def test_three_wrong_passwords_open_nothing_and_say_why(
    pg_cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    app = P2PCallApp(data_dir, as_person(database, pgc.password_role(pg_cluster)))
    async with app.run_test(size=(80, 24)) as pilot:
        asked: list[object] = []
        for _ in range(3):  # each time a new dialog
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PasswordScreen) and app.screen not in asked,
            )
            asked.append(app.screen)
            await pilot.press(*"wrong", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemScreen))
        shown = app.screen.query_one(".warning").render().plain  # type: ignore[attr-defined]
        assert "password authentication failed" in shown and "wrong" not in shown
        assert "type the password again" in _shown(app)
        assert not app.store_ready


@pytest.mark.usefixtures("no_password_files")
async def test_escape_at_the_password_dialog_opens_nothing_and_says_why(
    pg_cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    app = P2PCallApp(data_dir, as_person(database, pgc.password_role(pg_cluster)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PasswordScreen))
        await pilot.press("x", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemScreen))
        assert "no password given" in app.screen.query_one(".warning").render().plain  # type: ignore[attr-defined]
        assert not app.store_ready


async def test_a_coordinator_is_told_calls_are_started_by_clinicians_and_reads_them(
    database: Database, data_dir: Path, tmp_path: Path
) -> None:
    """A coordinator does not start calls, and opens a clinician's unfinished call read-only
    (the detail view), never as a live call whose notes the server would refuse for ever."""
    from p2pcall.screens.detail import DetailScreen
    from p2pcall.store.opening import open_store

    lee = open_store(tmp_path / "lee")  # P2PCALL_DATABASE_URL: dr_lee
    try:
        call = lee.start_call("UTC")
        lee.add_note(call.id, Section.D, NoteKind.QUOTE, "criterion 4b not met", now_utc())
        lee.save_draft(call.id, Section.E, NoteKind.NOTE, "half typed", now_utc())
    finally:
        lee.close()
    app = P2PCallApp(data_dir, as_person(database, "coord_kim"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        assert app.role == "coordinator"
        assert "as coordinator" in str(app.screen.query_one("#home-server").render())
        await pilot.press("n")
        await pilot.pause()
        assert app.live is None
        shown = [n.message for n in app._notifications]
        assert any("calls are started by clinicians" in m for m in shown), shown
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.call_id == call.id  # type: ignore[attr-defined]
        # The record, read as the coordinator may (the clinician's drafts are on her laptop).
        await wait_until(pilot, lambda: "criterion 4b not met" in _shown(app))
        assert "may not" not in _shown(app)
        assert app.live is None
        await quit_and_wait(app)


async def test_the_connection_state_comes_back_by_itself_when_nothing_waits(
    pg_cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    """A failed read marks the server offline; with nothing waiting to be sent, the app asks
    the server something small every few seconds and shows it online again once it answers."""
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        assert app.status.link.value == "online"
        pg_cluster.stop_immediately()
        try:
            await pilot.press("h")
            await wait_until(pilot, lambda: app.status.link.value == "offline", timeout=30)
        finally:
            pg_cluster.start_again()
        await wait_until(pilot, lambda: app.status.link.value == "online", timeout=30)
        await quit_and_wait(app)


async def test_a_coordinators_due_list_says_whose_call_each_follow_up_is(
    database: Database, data_dir: Path, tmp_path: Path
) -> None:
    from datetime import timedelta

    from p2pcall.domain.followups import PlannedFollowUp
    from p2pcall.domain.vocab import FollowUpAction, Outcome
    from p2pcall.store.opening import open_store

    lee = open_store(tmp_path / "lee")  # P2PCALL_DATABASE_URL: dr_lee
    try:
        call = lee.start_call("UTC")
        lee.end_call(call.id, Outcome.DENIED)
        soon = now_utc() + timedelta(days=2)
        lee.add_followups(call.id, [PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL, None, soon)])
    finally:
        lee.close()
    coordinator = await _due_rows_as(database, tmp_path, "coord_kim", call.id)
    assert "dr_lee's call" in coordinator, coordinator
    clinician = await _due_rows_as(database, tmp_path, "dr_lee", call.id)
    assert "dr_lee" not in clinician, clinician  # her own list: no names


async def _due_rows_as(database: Database, tmp_path: Path, person: str, call_id: int) -> str:
    """The Due screen's rows as `person` sees them, once the call's follow-up is listed."""
    from p2pcall.screens.due import DueScreen

    app = P2PCallApp(tmp_path / person, as_person(database, person))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen))
        await wait_until(pilot, lambda: f"call #{call_id}" in _due_rows(app))
        rows = _due_rows(app)
        await quit_and_wait(app)
    return rows


def _due_rows(app: P2PCallApp) -> str:
    from textual.widgets import OptionList

    listing = app.screen.query_one("#due-list", OptionList)
    return "\n".join(
        str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)
    )
