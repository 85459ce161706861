"""`p2pcall deadlines` as a subprocess: the facts in, the plan out, text and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NY = "America/New_York"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(tmp_path / "data"), "deadlines", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def plan(tmp_path: Path, *args: str) -> dict:
    proc = run(tmp_path, *args, "--tz", NY, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def by_action(document: dict) -> dict[str, dict]:
    return {f"{f['action']}:{f['note']}": f for f in document["followups"]}


def test_urgent_concurrent_erisa_denial_same_day_with_the_legal_limit_beside(tmp_path):
    doc = plan(
        tmp_path,
        "--plan", "erisa", "--review", "concurrent", "--urgency", "urgent",
        "--notice-dated", "2026-11-18", "--notice-received", "2026-11-20",
        "--call", "2026-11-30 15:00",
    )  # fmt: skip
    items = by_action(doc)
    letter = items["necessity_letter:"]
    assert letter["due"] == "2026-11-30T23:59:59-05:00"
    # 29 CFR 2560.503-1(h)(3)(i): 20 Nov + 180 days = 19 May 2027.
    assert letter["legal_due"] == "2027-05-19T23:59:59-04:00"
    assert "2560.503-1(h)(3)(i)" in letter["citation"]
    assert items["external_review:"]["suggested"]
    assert items["chase_plan:appeal decision"]["waits_for"] == [
        "expedited_review",
        "internal_appeal",
    ]
    assert not data_created(tmp_path)


def data_created(tmp_path: Path) -> bool:
    return (tmp_path / "data").exists()


def test_reviewer_window_brings_the_clinical_date_forward(tmp_path):
    doc = plan(
        tmp_path,
        "--plan", "aca", "--review", "concurrent", "--urgency", "urgent",
        "--notice-received", "2026-11-20", "--call", "2026-11-30 15:00",
        "--reviewer-window", "new information in writing within 2 hours",
    )  # fmt: skip
    letter = by_action(doc)["necessity_letter:"]
    assert letter["clinical_due"] == "2026-11-30T17:00:00-05:00"
    assert doc["facts"]["reviewer_window"] == "2026-11-30T17:00:00-05:00"


def test_medicare_advantage_upheld_reconsideration_files_nothing(tmp_path):
    doc = plan(
        tmp_path,
        "--plan", "medicare_advantage", "--review", "appeal", "--stage", "final_internal",
        "--notice-dated", "2026-11-24", "--call", "2026-11-30 10:00",
    )  # fmt: skip
    items = by_action(doc)
    assert "internal_appeal:" not in items
    forward = items["chase_plan:forwarded to the IRE"]
    assert forward["due"] is None and "422.592" in forward["why"]


def test_medicaid_denial_60_days_from_the_notice_date(tmp_path):
    doc = plan(
        tmp_path,
        "--plan", "medicaid_managed", "--review", "pre_service", "--urgency", "standard",
        "--notice-dated", "2026-11-23", "--notice-received", "2026-11-27",
        "--call", "2026-11-30 10:00",
    )  # fmt: skip
    appeal = by_action(doc)["internal_appeal:"]
    # 42 CFR 438.402(c)(2)(ii): 23 Nov + 60 = 22 Jan 2027 (not from the 27th).
    assert appeal["due"] == "2027-01-22T23:59:59-05:00"
    assert appeal["rule_id"] == "medicaid_appeal_filing"


def test_text_output_names_rules_and_citations(tmp_path):
    proc = run(
        tmp_path,
        "--plan", "erisa", "--notice-received", "2026-11-20", "--call", "2026-11-30 15:00",
        "--tz", NY,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "legal:    Wed 19 May 2027 23:59 -04:00  180 calendar days" in proc.stdout
    assert "29 CFR 2560.503-1(h)(3)(i)" in proc.stdout
    assert proc.stdout.rstrip().endswith("Check the date on the notice: it wins over this advice.")


def test_before_the_call_the_p2p_request_window(tmp_path):
    doc = plan(
        tmp_path,
        "--plan", "other", "--not-held", "--p2p-window", "5",
        "--notice-received", "2026-11-19", "--call", "2026-11-20 09:00",
    )  # fmt: skip
    # Thu 19 Nov + 5 business days: Fri, Mon, Tue, Wed, Thu -> Thu 26 Nov (holidays unknown).
    assert by_action(doc)["request_p2p:"]["due"] == "2026-11-26T23:59:59-05:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "erisa", "--notice-dated", "2026-02-30"], "not a date on the calendar"),
        (["--plan", "erisa", "--call", "tomorrow"], "use 'YYYY-MM-DD HH:MM'"),
        (["--plan", "erisa", "--tz", "Mars/Olympus"], "Unknown time zone"),
        (["--plan", "erisa", "--call", "2026-11-30 10:00", "--notice-dated", "2026-12-05"],
         "after the call"),
        (["--plan", "erisa", "--reviewer-window", "soonish"], "no date or span"),
        (["--plan", "nope"], "invalid choice"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_not_a_traceback(tmp_path, args, message):
    proc = run(tmp_path, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
