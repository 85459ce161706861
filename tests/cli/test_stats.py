"""`p2pcall stats` and store/stats.py against a dozen calls counted by hand.

The fixture below is the table in this docstring; every figure asserted was counted from
it by hand, not computed by the code under test.

#  ins   outcome     reviewer       same   name     criteria  denial promise           decision
1  Acme  approved    Ann (Evicore)  no              mcg       yes    docs due 5, got 3  4 days
2  Acme  denied      Ann            no              mcg       yes    docs due 5, not got
3  Acme  partial     Ann            yes             interqual yes                       10 days
4  Acme  denied      Ann            no     declined mcg       no     commit due 2, got 4
5  Acme  pending     Ann
6  Acme  approved    Bob (Carelon)  yes             interqual no
7  Acme  denied      - (empl. Evi.) no     declined policy    yes
8  Beta  denied      Bob            no              mcg       yes    docs due 3, got 1  6 days
9  Beta  approved    Bob            yes             mcg       yes
10 Beta  educational Bob                   declined           no
11 Beta  denied      -              unsure                    yes    docs due -2, open
12 Beta  (not ended) -
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.history import HistoryFilter
from p2pcall.domain.reviewers import ReviewerDetails
from p2pcall.domain.vocab import FollowUpAction, Outcome
from p2pcall.store.opening import open_store
from p2pcall.store.stats import call_stats

NY = "America/New_York"
DOCS, COMMIT, CHASE = (
    FollowUpAction.CHASE_DOCUMENTS,
    FollowUpAction.REVIEWER_COMMITMENT,
    FollowUpAction.CHASE_PLAN,
)
# (insurer, outcome, reviewer, same, name declined, criteria, denial, promise, decision days)
# promise: (action, due day, received day or None / "no")
CALLS = [
    ("Acme", Outcome.APPROVED, "ann", "no", False, "mcg", True, (DOCS, 5, 3), 4),
    ("Acme", Outcome.DENIED, "ann", "no", False, "mcg", True, (DOCS, 5, "no"), None),
    ("Acme", Outcome.PARTIAL, "ann", "yes", False, "interqual", True, None, 10),
    ("Acme", Outcome.DENIED, "ann", "no", True, "mcg", False, (COMMIT, 2, 4), None),
    ("Acme", Outcome.PENDING, "ann", "", False, "", False, None, None),
    ("Acme", Outcome.APPROVED, "bob", "yes", False, "interqual", False, None, None),
    ("Acme", Outcome.DENIED, "", "no", True, "insurer_policy", True, None, None),
    ("Beta", Outcome.DENIED, "bob", "no", False, "mcg", True, (DOCS, 3, 1), 6),
    ("Beta", Outcome.APPROVED, "bob", "yes", False, "mcg", True, None, None),
    ("Beta", Outcome.EDUCATIONAL, "bob", "", True, "", False, None, None),
    ("Beta", Outcome.DENIED, "", "unsure", False, "", True, (DOCS, -2, None), None),
    ("Beta", None, "", "", False, "", False, None, None),
]


def build(data_dir: Path) -> dict[str, int]:
    store = open_store(data_dir)
    try:
        ids = {
            "ann": store.add_reviewer(ReviewerDetails("Ann Smith", vendor="Evicore")).id,
            "bob": store.add_reviewer(ReviewerDetails("Bob Jones", vendor="Carelon")).id,
        }
        for index, row in enumerate(CALLS, start=1):
            insurer, outcome, who, same, no_name, criteria, denial, promise, decision = row
            call = store.start_call(NY)
            started = call.started_at
            assert started is not None
            day0 = datetime.fromtimestamp(started.timestamp(), UTC)
            store.set_field(call.id, "insurer", insurer)
            if index == 7:
                store.set_field(call.id, "reviewer_employer", "Evicore")
            if same:
                store.set_field(call.id, "reviewer_same_specialty", same)
            if no_name:
                store.set_field(call.id, "reviewer_name", "", declined=True)
            if criteria:
                store.set_field(call.id, "criteria_set", criteria)
            if denial:
                store.set_field(call.id, "denial_date", "2026-01-02")
            if outcome is not None:
                store.end_call(call.id, outcome)
            if who:
                store.link_call(call.id, ids[who])
            if promise is not None:
                action, due_day, got = promise
                [followup] = store.add_followups(
                    call.id, [PlannedFollowUp(action, computed_due=day0 + timedelta(due_day))]
                )
                if isinstance(got, int):
                    store.set_followup_received(followup.id, True, day0.date() + timedelta(got))
                    store.mark_followup_done(followup.id)
                elif got == "no":
                    store.set_followup_received(followup.id, False, day0.date())
            if decision is not None:
                [chase] = store.add_followups(call.id, [PlannedFollowUp(CHASE)])
                store.mark_followup_done(chase.id, day0 + timedelta(decision))
        return ids
    finally:
        store.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    build(tmp_path)
    return tmp_path


def rate(found: dict, count: int, of: int) -> None:
    assert (found["count"], found["of"]) == (count, of)
    assert found["rate"] == (None if of == 0 else round(count / of, 4))


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
    report = run_stats(data)
    total = report["total"]
    assert total["calls"] == 12 and report["groups"] == []
    outcomes = total["outcomes"]
    for key, count in (("approved", 3), ("partially_approved", 1), ("denied", 5),
                       ("pending", 1), ("educational_only", 1), ("none", 1)):  # fmt: skip
        rate(outcomes[key], count, 12)
    rate(total["overturned_on_call"], 3, 7)
    rate(total["same_specialty"], 3, 8)
    rate(total["declined_to_identify"], 3, 12)
    rate(total["promises_kept"], 2, 5)
    assert total["days_to_written_decision"] == {"days": 6.7, "of": 3}
    assert total["days_to_documents_received"] == {"days": 2.7, "of": 3}
    assert total["criteria_cited"] == {"mcg": 5, "interqual": 2, "insurer_policy": 1}


def test_by_insurer_every_rate_counted_by_hand(data: Path) -> None:
    groups = {g["label"]: g for g in run_stats(data, "--by", "insurer")["groups"]}
    acme, beta = groups["Acme"], groups["Beta"]
    assert (acme["calls"], beta["calls"]) == (7, 5)
    for key, count in (("approved", 2), ("partially_approved", 1), ("denied", 3),
                       ("pending", 1), ("educational_only", 0), ("none", 0)):  # fmt: skip
        rate(acme["outcomes"][key], count, 7)
    for key, count in (("approved", 1), ("partially_approved", 0), ("denied", 2),
                       ("pending", 0), ("educational_only", 1), ("none", 1)):  # fmt: skip
        rate(beta["outcomes"][key], count, 5)
    rate(acme["overturned_on_call"], 2, 4)
    rate(beta["overturned_on_call"], 1, 3)
    rate(acme["same_specialty"], 2, 6)
    rate(beta["same_specialty"], 1, 2)
    rate(acme["declined_to_identify"], 2, 7)
    rate(beta["declined_to_identify"], 1, 5)
    rate(acme["promises_kept"], 1, 3)
    rate(beta["promises_kept"], 1, 2)
    assert acme["days_to_written_decision"] == {"days": 7.0, "of": 2}
    assert beta["days_to_written_decision"] == {"days": 6.0, "of": 1}
    assert acme["days_to_documents_received"] == {"days": 3.5, "of": 2}
    assert beta["days_to_documents_received"] == {"days": 1.0, "of": 1}
    assert acme["criteria_cited"] == {"mcg": 3, "interqual": 2, "insurer_policy": 1}
    assert beta["criteria_cited"] == {"mcg": 2}


def test_by_vendor_and_by_reviewer_counted_by_hand(data: Path) -> None:
    vendors = {g["label"]: g for g in run_stats(data, "--by", "vendor")["groups"]}
    assert list(vendors) == ["Evicore", "Carelon", "(not recorded)"]  # most calls first
    evicore, carelon, unknown = vendors.values()
    assert (evicore["calls"], carelon["calls"], unknown["calls"]) == (6, 4, 2)
    rate(evicore["overturned_on_call"], 2, 4)
    rate(evicore["same_specialty"], 1, 5)
    rate(evicore["declined_to_identify"], 2, 6)
    rate(evicore["promises_kept"], 1, 3)
    rate(carelon["overturned_on_call"], 1, 2)
    rate(carelon["same_specialty"], 2, 3)
    rate(carelon["declined_to_identify"], 1, 4)
    rate(carelon["promises_kept"], 1, 1)
    rate(unknown["overturned_on_call"], 0, 1)
    rate(unknown["same_specialty"], 0, 0)  # nothing to count: null, not 0
    rate(unknown["promises_kept"], 0, 1)
    reviewers = {g["label"]: g for g in run_stats(data, "--by", "reviewer")["groups"]}
    assert [(label, g["calls"]) for label, g in reviewers.items()] == [
        ("Ann Smith", 5), ("Bob Jones", 4), ("(not linked)", 3)
    ]  # fmt: skip
    ann = reviewers["Ann Smith"]
    rate(ann["outcomes"]["denied"], 2, 5)
    rate(ann["overturned_on_call"], 2, 3)
    rate(ann["same_specialty"], 1, 4)
    rate(ann["declined_to_identify"], 1, 5)
    rate(ann["promises_kept"], 1, 3)
    rate(reviewers["(not linked)"]["declined_to_identify"], 1, 3)


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
