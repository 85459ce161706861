"""`p2pcall due` as a user runs it: a subprocess on a real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from conftest import Database
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.vocab import FollowUpAction, Outcome
from p2pcall.store.opening import open_store

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def run_due(data_dir: Path, *args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ="UTC", PYTHONDONTWRITEBYTECODE="1")
    env.pop("P2PCALL_DATA_DIR", None)
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "p2pcall", "due", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def seeded(data_dir: Path) -> dict[str, int]:
    """Relative to the real clock: the subprocess cannot be frozen in time."""
    now = pendulum.now("UTC")
    store = open_store(data_dir)
    try:
        call = store.start_call("UTC")
        store.set_field(call.id, "patient_ref", "JD-0412")
        store.set_field(call.id, "insurer", "Acme Health")
        store.end_call(call.id, Outcome.DENIED)
        overdue, soon, later, _undated, done = store.add_followups(
            call.id,
            [
                PlannedFollowUp(FollowUpAction.CONFIRMATION, "act_same_day", now.subtract(days=2)),
                PlannedFollowUp(
                    FollowUpAction.INTERNAL_APPEAL,
                    "internal_appeal_filing",
                    now.add(days=120),
                    due_override=now.add(days=3),
                    override_reason="Notice gives an earlier date",
                ),
                PlannedFollowUp(FollowUpAction.NECESSITY_LETTER, "internal_appeal_filing",
                                now.add(days=30)),
                PlannedFollowUp(FollowUpAction.INFORM_PATIENT),
                PlannedFollowUp(FollowUpAction.EXPEDITED_REVIEW, "act_same_day", now),
            ],
        )  # fmt: skip
        store.mark_followup_done(done.id)
        return {"call": call.id, "overdue": overdue.id, "soon": soon.id, "later": later.id}
    finally:
        store.close()


def test_due_text_lists_overdue_and_soon_with_call_rule_and_reminder(data_dir, seeded) -> None:
    proc = run_due(data_dir, importtime=True)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.index("Overdue (1)") < out.index("Due in the next 7 days (1)")
    assert "Written confirmation to the insurer (same day)" in out
    assert "call #1 · JD-0412 · Acme Health" in out
    assert "rule act_same_day (Practice guidance, not a regulation)" in out
    assert "set by you: Notice gives an earlier date" in out
    assert "Check the date on the notice" in out
    assert "Medical necessity letter" not in out  # 30 days away
    assert "Expedited review" not in out  # done
    assert "1 planned follow-up(s) have no date" in out
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "p2pcall.store" in imported  # the report was parsed and holds the real imports
    assert not [m for m in imported if m == "textual" or m.startswith("textual.")]


def test_due_json_and_within(data_dir, seeded) -> None:
    proc = run_due(data_dir, "--json", "--within", "60")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["within_days"] == 60
    assert [e["id"] for e in data["overdue"]] == [seeded["overdue"]]
    assert [e["id"] for e in data["due_soon"]] == [seeded["soon"], seeded["later"]]
    first = data["due_soon"][0]
    assert first["call_id"] == seeded["call"]
    assert first["patient_ref"] == "JD-0412" and first["insurer"] == "Acme Health"
    assert first["rule_id"] == "internal_appeal_filing"
    assert first["citation"].startswith("29 CFR 2560.503-1(h)(3)(i)")
    assert first["override_reason"] == "Notice gives an earlier date"
    assert first["due"] == first["due_override"] != first["computed_due"]
    assert data["undated"] == 1
    assert "check the date on the notice" in data["reminder"]

    narrow = json.loads(run_due(data_dir, "--json", "--within", "0").stdout)
    assert narrow["due_soon"] == [] and len(narrow["overdue"]) == 1


@pytest.mark.sqlite_only
def test_due_on_a_folder_without_records_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "nothing-here"
    proc = run_due(data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "No records yet: nothing is due."
    assert json.loads(run_due(data, "--json").stdout)["overdue"] == []
    assert not data.exists()


@pytest.mark.parametrize(
    ("value", "message"), [("soon", "'soon' is not a whole number"), ("-3", "use 0 to 366")]
)
def test_due_refuses_a_bad_window_in_one_line(data_dir: Path, value: str, message: str) -> None:
    proc = run_due(data_dir, "--within", value)
    assert proc.returncode == 2
    assert message in proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr


@pytest.mark.sqlite_only
def test_due_on_a_damaged_database_says_so_in_one_line(data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    (data_dir / "p2pcall.sqlite3").write_bytes(b"this is not a database" * 100)
    proc = run_due(data_dir)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("p2pcall due: ")
    assert "damaged" in lines[0] or "not a p2pcall database" in lines[0]


@pytest.mark.server_only  # a laptop has one person: every call is theirs
def test_a_coordinator_sees_whose_call_each_follow_up_is(
    database: Database, data_dir: Path, seeded: dict[str, int], tmp_path: Path
) -> None:
    from psycopg import conninfo

    assert database.url is not None
    own = run_due(data_dir)
    assert own.returncode == 0, own.stderr
    assert "call #" in own.stdout and "dr_lee" not in own.stdout  # her own list: no names
    kim = conninfo.make_conninfo(database.url, user="coord_kim")
    shown = run_due(tmp_path / "kim", "--database", kim)
    assert shown.returncode == 0, shown.stderr
    assert "call #" in shown.stdout
    calls = [line for line in shown.stdout.splitlines() if line.strip().startswith("call #")]
    assert calls and all(line.endswith(" \u00b7 dr_lee's call") for line in calls), calls
    as_json = json.loads(run_due(tmp_path / "kim", "--database", kim, "--json").stdout)
    items = [i for key in ("overdue", "due_today", "due_soon") for i in as_json[key]]
    assert items and {item["clinician"] for item in items} == {"dr_lee"}
