"""The practice server goes away mid-call and comes back: nothing typed is lost.

The server is really stopped (`pg_ctl stop -m immediate`: every connection drops, as in a
crash) or the network path to it is cut (every connection reset, new ones refused), while
notes are typed key by key and as one burst. The call bar says the server is offline, each
note waits on screen as NOT SAVED, and once the server is back every note is on it once, in
the order typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

import pg_cluster as pgc
from conftest import Database
from net_cut import NetPath
from p2pcall.app import P2PCallApp
from pilot_helpers import note, open_app, quit_and_wait, start_call, wait_until

pytestmark = [pytest.mark.server_only, pytest.mark.slow]

BEFORE = "Reviewer Dr. Ames joined"
DURING = [f"offline note {n}: criteria {n}.{n} cited" for n in range(1, 6)]
AFTER = "Reviewer agreed to call back"


def server_notes(cluster: pgc.PgCluster, url: str) -> list[str]:
    name = str(conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        rows = conn.execute("SELECT body FROM p2pcall.note ORDER BY saved_at, id").fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def cluster(pg_cluster: pgc.PgCluster) -> Iterator[pgc.PgCluster]:
    """The shared cluster, running again after the test whatever happened."""
    try:
        yield pg_cluster
    finally:
        if not pg_cluster.running:
            pg_cluster.start_again()


async def type_through_an_outage(
    app: P2PCallApp,
    go_away: Callable[[], None],
    come_back: Callable[[], None],
    *,
    burst: bool,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)
        await pilot.press("f1")
        await note(pilot, BEFORE)
        session = app.live
        assert session is not None
        await wait_until(pilot, lambda: len(session.notes) == 1)
        assert app.status.link.value == "online"
        go_away()
        if burst:
            await pilot.press(*[key for text in DURING for key in [*text, "enter"]])
        else:
            for text in DURING:
                await note(pilot, text)
        await wait_until(pilot, lambda: app.status.link.value == "offline", timeout=30)
        await wait_until(pilot, lambda: session.unsaved == len(DURING), timeout=30)
        shown = str(app.screen.query_one("#save-state").render())
        assert "NOT SAVED" in shown, shown
        come_back()
        await wait_until(pilot, lambda: session.unsaved == 0, timeout=60)
        await note(pilot, AFTER)
        await wait_until(pilot, lambda: len(session.notes) == 2 + len(DURING), timeout=30)
        assert app.status.link.value == "online"
        await quit_and_wait(app)


@pytest.mark.parametrize("burst", [False, True], ids=["key-by-key", "burst"])
async def test_server_stopped_mid_call_and_started_again(
    cluster: pgc.PgCluster, database: Database, data_dir: Path, burst: bool
) -> None:
    assert database.url is not None
    app = P2PCallApp(data_dir)
    await type_through_an_outage(app, cluster.stop_immediately, cluster.start_again, burst=burst)
    assert server_notes(cluster, database.url) == [BEFORE, *DURING, AFTER]


@pytest.mark.parametrize("burst", [False, True], ids=["key-by-key", "burst"])
async def test_network_cut_mid_call_and_mended(
    cluster: pgc.PgCluster, database: Database, data_dir: Path, burst: bool
) -> None:
    assert database.url is not None
    name = str(conninfo.conninfo_to_dict(database.url)["dbname"])
    path = NetPath(cluster.socket_dir / ".s.PGSQL.5432")
    try:
        app = P2PCallApp(data_dir, path.url("dr_lee", name))
        await type_through_an_outage(app, path.cut, path.mend, burst=burst)
    finally:
        path.close()
    assert server_notes(cluster, database.url) == [BEFORE, *DURING, AFTER]


async def test_a_sixty_second_cut_with_thirty_notes_typed_through_it(
    cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    """The issue's case: the network gone for 60 s while 30 notes are typed, one every 2 s;
    afterwards all 30 are on the server, in the order typed, each once."""
    import asyncio

    assert database.url is not None
    name = str(conninfo.conninfo_to_dict(database.url)["dbname"])
    path = NetPath(cluster.socket_dir / ".s.PGSQL.5432")
    typed = [f"note {n:02d} typed while the network was down" for n in range(1, 31)]
    try:
        app = P2PCallApp(data_dir, path.url("dr_lee", name))
        async with app.run_test(size=(80, 24)) as pilot:
            await open_app(pilot)
            await start_call(pilot)
            await pilot.press("f1")
            session = app.live
            assert session is not None
            path.cut()
            loop = asyncio.get_running_loop()
            began = loop.time()
            for text in typed:
                await note(pilot, text)
                await pilot.pause(2.0)
            await wait_until(pilot, lambda: app.status.link.value == "offline")
            assert session.unsaved == len(typed)
            await pilot.pause(max(0.0, 60.0 - (loop.time() - began)))
            path.mend()
            await wait_until(pilot, lambda: session.unsaved == 0, timeout=60)
            assert app.status.link.value == "online"
            await quit_and_wait(app)
    finally:
        path.close()
    assert server_notes(cluster, database.url) == typed


async def test_a_field_typed_while_the_server_is_down_is_written_when_it_is_back(
    cluster: pgc.PgCluster, database: Database, data_dir: Path
) -> None:
    """A field's value is kept on screen and written again every few seconds, like a note:
    the last value typed reaches the server once it answers (one notice, not one per key)."""
    assert database.url is not None
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await start_call(pilot)  # the call information screen, in Patient ref
        session = app.live
        assert session is not None
        cluster.stop_immediately()
        await pilot.press(*"JD-0412", "tab")
        await wait_until(pilot, lambda: session.unsaved == 1, timeout=30)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1, [n.message for n in errors]
        cluster.start_again()
        await wait_until(pilot, lambda: session.unsaved == 0, timeout=60)
        await quit_and_wait(app)
    name = str(conninfo.conninfo_to_dict(database.url)["dbname"])
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        value = conn.execute(
            "SELECT value FROM p2pcall.call_field WHERE key = 'patient_ref'"
        ).fetchone()
    assert value == ("JD-0412",)
