"""`p2pcall list` as a user or a script runs it: a subprocess against a real data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store.opening import open_store

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

TZ = "America/New_York"
T0 = pendulum.datetime(2026, 3, 10, 15, 0, 0, tz="UTC")  # 11:00 in New York (EDT)


def run_list(data_dir: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ=TZ)
    env.pop("P2PCALL_DATA_DIR", None)
    command = ["-c", code] if code else ["-m", "p2pcall"]
    return subprocess.run(
        [sys.executable, *command, "list", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def seeded(data_dir: Path) -> dict[str, int]:
    store = open_store(data_dir)
    try:
        pendulum.travel_to(T0.subtract(days=2), freeze=True)
        old = store.start_call(TZ)
        store.set_field(old.id, "insurer", "Aetna [bold]Better")
        store.set_field(old.id, "patient_ref", "AB-1")
        store.set_field(old.id, "review_type", "appeal")
        store.add_note(old.id, Section.D, NoteKind.QUOTE, "We use MCG \x1b[31m only", T0)
        pendulum.travel_to(T0.subtract(days=2).add(minutes=12), freeze=True)
        store.end_call(old.id, Outcome.DENIED)
        pendulum.travel_to(T0, freeze=True)
        new = store.start_call(TZ)
        store.set_field(new.id, "insurer", "Cigna")
        store.add_note(new.id, Section.B, NoteKind.NOTE, "Reviewer is a pediatrician", T0)
    finally:
        store.close()
        pendulum.travel_back()
    return {"old": old.id, "new": new.id}


def test_text_lists_newest_first_with_ids(data_dir: Path, seeded: dict[str, int]) -> None:
    proc = run_list(data_dir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [int(line.split()[0]) for line in lines] == [seeded["new"], seeded["old"]]
    assert "2026-03-10 11:00 -04:00" in lines[0] and "UNFINISHED" in lines[0]
    assert "Aetna [bold]Better" in lines[1] and "Denied / upheld" in lines[1]
    assert "0:12:00" in lines[1] and "Appeal" in lines[1]
    assert lines[1].endswith("   1 note") and lines[0].endswith("   1 note")
    assert proc.stderr == ""


def test_search_shows_where_it_matched_with_controls_masked(
    data_dir: Path, seeded: dict[str, int]
) -> None:
    proc = run_list(data_dir, "--search", "mcg")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert int(first.split()[0]) == seeded["old"]
    assert second.strip() == "note in D: We use MCG \u241b[31m only"
    assert "\x1b" not in proc.stdout


def test_json_has_stable_fields_and_offsets(data_dir: Path, seeded: dict[str, int]) -> None:
    proc = run_list(data_dir, "--json", "--insurer", "aetna", "--outcome", "Denied")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"calls", "truncated", "time_zone"}
    assert data["truncated"] is False and data["time_zone"] == TZ
    [call] = data["calls"]
    assert set(call) == {
        "id", "started_at", "ended_at", "duration_seconds", "status", "outcome",
        "patient_ref", "insurer", "review_type", "note_count", "match",
    }  # fmt: skip
    assert call["id"] == seeded["old"]
    assert call["started_at"] == "2026-03-08T11:00:00-04:00"  # EDT began that night
    assert pendulum.parse(call["ended_at"]) == T0.subtract(days=2).add(minutes=12)
    assert (call["duration_seconds"], call["status"], call["outcome"]) == (720, "ended", "denied")
    assert (call["insurer"], call["review_type"], call["note_count"]) == (
        "Aetna [bold]Better",
        "appeal",
        1,
    )
    assert call["match"] is None


def test_json_search_and_dates(data_dir: Path, seeded: dict[str, int]) -> None:
    proc = run_list(data_dir, "--json", "--search", "pediatric", "--since", "2026-03-10")
    data = json.loads(proc.stdout)
    [call] = data["calls"]
    assert call["id"] == seeded["new"] and call["status"] == "unfinished"
    assert call["match"] == {
        "where": "note",
        "section": "B",
        "snippet": "Reviewer is a pediatrician",
    }
    later = run_list(data_dir, "--json", "--until", "2026-03-09")
    assert [c["id"] for c in json.loads(later.stdout)["calls"]] == [seeded["old"]]


def test_limit_marks_the_list_as_cut(data_dir: Path, seeded: dict[str, int]) -> None:
    proc = run_list(data_dir, "--limit", "1")
    assert len(proc.stdout.splitlines()) == 1
    assert "--limit 0" in proc.stderr
    data = json.loads(run_list(data_dir, "--limit", "1", "--json").stdout)
    assert data["truncated"] is True and len(data["calls"]) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--since", "2026-13-01"], "--since"),
        (["--until", "tomorrow"], "YYYY-MM-DD"),
        (["--outcome", "maybe"], "unknown outcome"),
        (["--limit", "ten"], "--limit"),
        (["--since", "2026-03-10", "--until", "2026-03-01"], "after --until"),
        (["--search", "(*)"], "no letters or digits"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    data_dir: Path, seeded: dict[str, int], args: list[str], words: str
) -> None:
    proc = run_list(data_dir, *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("p2pcall list: ") and words in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.sqlite_only
def test_damaged_database_is_reported_without_traceback(data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    (data_dir / "p2pcall.sqlite3").write_bytes(b"this is not a database" * 100)
    proc = run_list(data_dir)
    assert proc.returncode == 1
    assert proc.stderr.startswith("p2pcall list: ") and "Traceback" not in proc.stderr


def test_no_database_yet_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    proc = run_list(missing, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["calls"] == []
    assert not missing.exists()


def test_list_does_not_import_textual(data_dir: Path, seeded: dict[str, int]) -> None:
    code = (
        "import sys\n"
        "from p2pcall.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'})\n"
        "print('LOADED', ','.join(loaded), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    proc = run_list(data_dir, "--search", "mcg", "--json", code=code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["calls"][0]["id"] == seeded["old"]  # it really ran
    assert proc.stderr.strip() == "LOADED"


@pytest.mark.parametrize("typed", ["pediatric", "pediatric*", 'pediatric"', "Pediatric!"])
def test_search_keeps_the_last_word_a_prefix_after_symbols(
    data_dir: Path, seeded: dict[str, int], typed: str
) -> None:
    """The same query as the history screen: `cred*` finds what `cred` finds."""
    proc = run_list(data_dir, "--json", "--search", typed)
    assert proc.returncode == 0, proc.stderr
    assert [c["id"] for c in json.loads(proc.stdout)["calls"]] == [seeded["new"]]
