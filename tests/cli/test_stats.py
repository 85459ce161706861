"""`p2pcall stats` against a dozen calls counted by hand (tests/support/stats_calls.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import stats_calls
from p2pcall.domain.history import HistoryFilter
from p2pcall.store.opening import open_store
from p2pcall.store.stats import call_stats
from stats_calls import check_by_insurer, check_by_vendor_and_by_reviewer, check_totals, rate

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def build(data_dir: Path) -> dict[str, int]:
    store = open_store(data_dir)
    try:
        return stats_calls.build(store)
    finally:
        store.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    build(tmp_path)
    return tmp_path


def run_stats(data: Path, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "stats", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_totals_every_rate_counted_by_hand(data: Path) -> None:
    check_totals(lambda by=None: run_stats(data, *(("--by", by) if by else ())))


def test_by_insurer_every_rate_counted_by_hand(data: Path) -> None:
    check_by_insurer(lambda by=None: run_stats(data, *(("--by", by) if by else ())))


def test_by_vendor_and_by_reviewer_counted_by_hand(data: Path) -> None:
    check_by_vendor_and_by_reviewer(lambda by=None: run_stats(data, *(("--by", by) if by else ())))


def test_criteria_and_month_groupings_and_a_merge(data: Path) -> None:
    criteria = {g["key"]: g for g in run_stats(data, "--by", "criteria")["groups"]}
    assert {key: g["calls"] for key, g in criteria.items()} == {
        "mcg": 5, "": 4, "interqual": 2, "insurer_policy": 1
    }  # fmt: skip
    assert criteria["mcg"]["label"] == "MCG (Milliman)"
    rate(criteria["mcg"]["same_specialty"], 1, 5)  # calls 1, 2, 4, 8 no; 9 yes
    months = run_stats(data, "--by", "month")["groups"]
    assert sum(g["calls"] for g in months) == 12
    store = open_store(data)
    try:
        [ann, bob] = sorted(store.reviewers(), key=lambda r: r.name)
        store.merge_reviewers(bob.id, ann.id)
        tz = "America/New_York"
        merged = call_stats(store, "reviewer", HistoryFilter(tz=tz), tz)
    finally:
        store.close()
    assert [(g.label, g.calls) for g in merged.groups] == [
        ("Ann Smith", 9), ("(not linked)", 3)
    ]  # fmt: skip


def test_filters_and_bad_input(data: Path) -> None:
    acme = run_stats(data, "--insurer", "acm")
    assert acme["total"]["calls"] == 7
    far = run_stats(data, "--until", "2000-01-01")
    assert far["total"]["calls"] == 0
    rate(far["total"]["same_specialty"], 0, 0)
    proc = subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "stats", "--since", "May"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "YYYY-MM-DD" in proc.stderr
    text = subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "stats", "--by", "insurer"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["Insurer", "Calls", "Appr", "Part", "Den", "Overt", "SameSp",
                                "NoName", "Kept"]  # fmt: skip
    assert lines[1].split() == ["Acme", "7", "29%", "14%", "43%", "50%", "33%", "29%", "33%"]


def test_reviewers_command_lists_merges_unmerges_and_unlinks(data: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "reviewers", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = json.loads(cli("--json").stdout)["reviewers"]
    ann, bob = listed
    assert (ann["name"], ann["calls"], bob["name"], bob["calls"]) == (
        "Ann Smith",
        5,
        "Bob Jones",
        4,
    )
    merged = cli("merge", str(bob["id"]), str(ann["id"]))
    assert merged.returncode == 0 and "9 calls" in merged.stdout
    assert run_stats(data, "--by", "reviewer")["groups"][0]["calls"] == 9
    assert cli("unmerge", str(bob["id"])).returncode == 0
    assert run_stats(data, "--by", "reviewer")["groups"][0]["calls"] == 5
    store = open_store(data)
    try:
        first_of_ann = store.track_record(ann["id"]).earlier_call_ids[-1]
    finally:
        store.close()
    unlinked = cli("unlink", str(first_of_ann))
    assert unlinked.returncode == 0 and f"reviewer {ann['id']}" in unlinked.stdout
    assert json.loads(cli("--json").stdout)["reviewers"][0]["calls"] == 4
    bad = cli("merge", "1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    missing = cli("unmerge", "99")
    assert missing.returncode == 1 and "no reviewer number 99" in missing.stderr
