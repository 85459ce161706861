"""The practice's time zone under every way TZ can be set (issue 11, item 5).

`TZ=":/etc/localtime"` (a valid setting) used to give no zone name at all: starting a call
failed on the NOT NULL tz column and `p2pcall due` crashed. `TZ=UTC+3` silently became the
system zone. These run p2pcall as a subprocess with TZ set, as a user's shell would, and
compare with what the C library itself makes of the setting.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pendulum
import pytest

from p2pcall.domain.localzone import is_zone_name, resolve_local_zone
from p2pcall.paths import database_path
from p2pcall.store.opening import open_store

ZONEINFO = Path("/usr/share/zoneinfo")
needs_zoneinfo = pytest.mark.skipif(
    not (ZONEINFO / "Europe" / "Paris").is_file(), reason="needs the system zoneinfo files"
)
needs_localtime = pytest.mark.skipif(
    not Path("/etc/localtime").exists(), reason="needs /etc/localtime"
)


def run(args: list[str], tz: str | None, **kw: object) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("P2PCALL_DATA_DIR", None)
    env.pop("TZ", None)
    if tz is not None:
        env["TZ"] = tz
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, **kw
    )


def resolved_in_child(tz: str | None) -> dict[str, object]:
    """The zone p2pcall resolves and the offset libc uses now, in a process started with TZ."""
    code = textwrap.dedent(
        """
        import json, time
        import pendulum
        from p2pcall.domain.localzone import resolve_local_zone
        zone = resolve_local_zone()
        now = pendulum.now("UTC")
        print(json.dumps({
            "name": zone.name, "notice": zone.notice,
            "offset": int(now.in_timezone(zone.name).utcoffset().total_seconds()),
            "libc_offset": time.localtime().tm_gmtoff,
        }))
        """
    )
    done = run(["-c", code], tz)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- what the setting resolves to ------------------------------------------------------------


@needs_localtime
def test_tz_pointing_at_etc_localtime_gives_the_system_zone_name() -> None:
    via_file = resolved_in_child(":/etc/localtime")
    system = resolved_in_child(None)
    assert via_file["name"] and is_zone_name(str(via_file["name"]))
    assert via_file["name"] == system["name"]
    assert via_file["notice"] is None
    assert via_file["offset"] == via_file["libc_offset"]


@pytest.mark.parametrize(
    ("tz", "name", "shown"),
    [
        ("UTC+3", "Etc/GMT+3", "UTC-03:00"),  # POSIX: + is west of UTC
        ("UTC-3", "Etc/GMT-3", "UTC+03:00"),
        ("<-05>5", "Etc/GMT+5", "UTC-05:00"),
        ("GMT-14", "Etc/GMT-14", "UTC+14:00"),
    ],
)
def test_posix_offset_is_the_fixed_offset_libc_uses_and_is_said(
    tz: str, name: str, shown: str
) -> None:
    got = resolved_in_child(tz)
    assert got["name"] == name
    assert got["offset"] == got["libc_offset"]  # the same instant shown as the system shows it
    assert shown in str(got["notice"])
    assert "west" in str(got["notice"]) or "east" in str(got["notice"])


def test_posix_rule_with_daylight_saving_says_it_is_not_followed() -> None:
    zone = resolve_local_zone({"TZ": "CET-1CEST,M3.5.0,M10.5.0/3"})
    assert zone.name == "Etc/GMT-1"
    assert zone.notice is not None and "UTC+01:00" in zone.notice
    assert "daylight-saving" in zone.notice


@pytest.mark.parametrize("tz", ["<+0330>-3:30", "UTC+13", "Foo/Bar", "!!", "/etc/hostname"])
def test_settings_without_a_storable_zone_fall_back_to_utc_and_say_so(tz: str) -> None:
    zone = resolve_local_zone({"TZ": tz})
    assert zone.name == "UTC"
    assert zone.notice and f"TZ={tz}" in zone.notice and "UTC" in zone.notice


def test_plain_settings_need_no_notice() -> None:
    assert resolve_local_zone({"TZ": "America/New_York"}) == resolve_local_zone(
        {"TZ": ":America/New_York"}
    )
    assert resolve_local_zone({"TZ": "America/New_York"}).notice is None
    assert resolve_local_zone({"TZ": "UTC0"}).name == "UTC"
    assert resolve_local_zone({"TZ": "UTC0"}).notice is None
    empty = resolve_local_zone({"TZ": ""})
    assert empty.name == "UTC" and empty.notice  # libc reads an empty TZ as UTC


@needs_zoneinfo
def test_zone_file_found_by_link_then_timezone_file_then_content(tmp_path: Path) -> None:
    link = tmp_path / "localtime"
    link.symlink_to(ZONEINFO / "Europe" / "Paris")
    stamp = tmp_path / "timezone"
    assert resolve_local_zone({}, localtime=link, timezone_file=stamp).name == "Europe/Paris"

    copy = tmp_path / "copied"
    shutil.copyfile(ZONEINFO / "Asia" / "Tokyo", copy)
    stamp.write_text("Asia/Tokyo\n")
    assert resolve_local_zone({}, localtime=copy, timezone_file=stamp).name == "Asia/Tokyo"
    stamp.unlink()
    by_content = resolve_local_zone({}, localtime=copy, timezone_file=stamp)
    # Tokyo's rules are shared by an alias or two (Japan): any of them is the same zone.
    assert by_content.notice is None
    assert (ZONEINFO / by_content.name).read_bytes() == copy.read_bytes()
    # TZ naming the file directly, as ":/etc/localtime" does
    assert resolve_local_zone({"TZ": f":{link}"}).name == "Europe/Paris"


# -- the app and the CLI under those settings ------------------------------------------------

START_A_CALL = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from p2pcall.app import P2PCallApp
    from p2pcall.screens.call_info import CallInfoScreen

    async def wait(pilot, check):
        for _ in range(1000):
            if check():
                return
            await pilot.pause(0.02)
        raise SystemExit("timed out")

    async def main():
        app = P2PCallApp(Path(sys.argv[1]))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait(pilot, lambda: app.store_ready and app.db.pending == 0)
            notice = str(app.screen.query_one("#zone-notice").render())
            await pilot.press("n")
            await wait(pilot, lambda: isinstance(app.screen, CallInfoScreen))
            await wait(pilot, lambda: app.db.pending == 0)
            print("NOTICE:", notice if app.screen_stack[0].query_one("#zone-notice").display
                  else "")
            await pilot.press("ctrl+q")

    asyncio.run(main())
    """
)


@pytest.mark.parametrize(
    ("tz", "stored", "said"),
    [(":/etc/localtime", None, ""), ("UTC+3", "Etc/GMT+3", "UTC-03:00")],
)
@needs_localtime
def test_starting_a_call_stores_a_zone(
    tz: str, stored: str | None, said: str, data_dir: Path
) -> None:
    done = run(["-c", START_A_CALL, str(data_dir)], tz)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    notice = done.stdout.split("NOTICE:", 1)[1].strip()
    assert (said in notice) if said else notice == ""
    with sqlite3.connect(database_path(data_dir)) as db:
        zones = [row[0] for row in db.execute("SELECT tz FROM call")]
    assert len(zones) == 1 and zones[0] is not None and is_zone_name(zones[0])
    expected = stored or resolved_in_child(None)["name"]
    assert zones[0] == expected


@pytest.mark.parametrize("tz", [":/etc/localtime", "UTC+3"])
@needs_localtime
def test_due_and_list_work_and_say_the_offset(tz: str, data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        store.start_call("America/New_York")
    finally:
        store.close()
    for command in (["due"], ["list", "--json"]):
        done = run(["-m", "p2pcall", *command, "--data-dir", str(data_dir)], tz)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Traceback" not in done.stderr and "crash" not in done.stdout.lower()
        if tz == "UTC+3":
            assert "UTC-03:00" in done.stderr and "west" in done.stderr
        else:
            assert done.stderr == ""
    listing = json.loads(
        run(["-m", "p2pcall", "list", "--json", "--data-dir", str(data_dir)], tz).stdout
    )
    assert listing["time_zone"] and is_zone_name(listing["time_zone"])
    started = pendulum.parse(listing["calls"][0]["started_at"])
    expected = -3 * 3600 if tz == "UTC+3" else resolved_in_child(None)["offset"]
    assert started.utcoffset().total_seconds() == expected


@needs_zoneinfo
@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("right/Europe/Paris", "Europe/Paris"),  # leap-second variant: the same civil zone
        (":posix/Asia/Tokyo", "Asia/Tokyo"),
    ],
)
def test_zone_variants_are_stored_by_their_plain_name(tz: str, expected: str) -> None:
    assert resolve_local_zone({"TZ": tz}) == resolve_local_zone({"TZ": expected})
    assert resolve_local_zone({"TZ": tz}).name == expected


@needs_zoneinfo
@pytest.mark.parametrize("link", ["localtime", "posixrules"])
def test_link_names_are_stored_as_the_zone_they_stand_for(link: str) -> None:
    if not (ZONEINFO / link).exists():
        pytest.skip(f"no {link} in this zoneinfo")
    name = resolve_local_zone({"TZ": link}).name
    assert name not in ("localtime", "posixrules") and is_zone_name(name)
    assert (ZONEINFO / name).read_bytes() == (ZONEINFO / link).read_bytes()
