"""A dozen calls whose stats were counted by hand: `p2pcall stats` (tests/cli/test_stats.py)
and store/stats.py on both databases (tests/unit/test_stats_store.py) check the same figures.

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

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.reviewers import ReviewerDetails
from p2pcall.domain.vocab import FollowUpAction, Outcome
from p2pcall.store import Store

# A report as `p2pcall stats --json` prints it, for a grouping (None: the totals only).
Get = Callable[..., dict[str, Any]]

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


def build(store: Store) -> dict[str, int]:
    """The calls of the table above in `store`; the reviewers' numbers by name."""
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


def rate(found: dict, count: int, of: int) -> None:
    assert (found["count"], found["of"]) == (count, of)
    assert found["rate"] == (None if of == 0 else round(count / of, 4))


def check_totals(get: Get) -> None:
    report = get()
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


def check_by_insurer(get: Get) -> None:
    groups = {g["label"]: g for g in get("insurer")["groups"]}
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


def check_by_vendor_and_by_reviewer(get: Get) -> None:
    vendors = {g["label"]: g for g in get("vendor")["groups"]}
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
    reviewers = {g["label"]: g for g in get("reviewer")["groups"]}
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
