"""The follow-up plan per programme x review type x urgency x stage x outcome.

Each expected date is worked out by hand in the comment beside it, and the test id names the
paragraph the legal limit comes from. The call ended Mon 30 Nov 2026 15:00 in New York; unless
a row says otherwise the notice is dated 18 Nov and was received 20 Nov.
"""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from p2pcall.domain.casefacts import CaseFacts
from p2pcall.domain.planner import plan_followups
from p2pcall.domain.vocab import FollowUpAction as A
from p2pcall.domain.vocab import Outcome, PlanType, ReviewType, Stage, Urgency

NY = "America/New_York"
ENDED = pendulum.datetime(2026, 11, 30, 15, 0, tz=NY)
SAME_DAY = "2026-11-30T23:59:59-05:00"
P = PlanType
R = ReviewType
U = Urgency
S = Stage
OC = Outcome


def facts(plan, review, urgency, stage, outcome, **more) -> CaseFacts:
    values = {
        "notice_dated": date(2026, 11, 18),
        "notice_received": date(2026, 11, 20),
        "connected_at": ENDED.subtract(minutes=20),
        "ended_at": ENDED,
    }
    values.update(more)
    return CaseFacts(NY, plan, review, urgency, stage, outcome, **values)


def iso(moment):
    return moment.isoformat() if moment is not None else None


def plan_of(f: CaseFacts) -> dict:
    """(action, note) -> (ticked, proposed date, legal limit, rule id) for every line."""
    return {
        (s.action, s.note): (
            s.selected,
            iso(s.computed_due),
            iso(s.legal_due),
            s.rule and s.rule.id,
        )
        for s in plan_followups(f, now=ENDED)
    }


APPEAL = (A.CHASE_PLAN, "appeal decision")
EXTERNAL = (A.CHASE_PLAN, "external review decision")
RECON = (A.CHASE_PLAN, "reconsideration decision")  # Medicare Advantage's word for the appeal

CASES = [
    (
        "erisa-concurrent-urgent-initial-denied-2560.503-1(h)(3)(i)",
        facts(P.ERISA, R.CONCURRENT, U.URGENT, S.INITIAL, OC.DENIED),
        {
            # Same day as the call; beside it 20 Nov + 180 days = 19 May 2027 (EDT).
            (A.EXPEDITED_REVIEW, ""): (True, SAME_DAY, "2027-05-19T23:59:59-04:00",
                                       "internal_appeal_filing"),
            (A.NECESSITY_LETTER, ""): (True, SAME_DAY, "2027-05-19T23:59:59-04:00",
                                       "internal_appeal_filing"),
            # 45 CFR 147.136(d)(3): expedited external review alongside, no date of its own.
            (A.EXTERNAL_REVIEW, ""): (True, SAME_DAY, None, None),
            (A.CONTINUED_COVERAGE, ""): (True, SAME_DAY, None, None),
            APPEAL: (True, None, None, "internal_appeal_decision_urgent"),
            EXTERNAL: (True, None, None, "external_review_decision_expedited"),
        },
    ),
    (
        "erisa-preservice-standard-initial-denied-2560.503-1(h)(3)(i)",
        facts(P.ERISA, R.PRE_SERVICE, U.STANDARD, S.INITIAL, OC.DENIED),
        {
            # No clinical clock for routine pre-service care: the legal limit is the date.
            (A.INTERNAL_APPEAL, ""): (True, "2027-05-19T23:59:59-04:00",
                                      "2027-05-19T23:59:59-04:00", "internal_appeal_filing"),
            APPEAL: (True, None, None, "internal_appeal_decision_pre_service"),
        },
    ),
    (
        "aca-retrospective-standard-initial-denied-147.136(b)",
        facts(P.ACA, R.RETROSPECTIVE, U.STANDARD, S.INITIAL, OC.DENIED),
        {
            (A.INTERNAL_APPEAL, ""): (True, "2027-05-19T23:59:59-04:00",
                                      "2027-05-19T23:59:59-04:00", "internal_appeal_filing"),
            APPEAL: (True, None, None, "internal_appeal_decision_post_service"),
        },
    ),
    (
        "marketplace-preservice-urgent-pending-147.136",
        # Sent Fri 27 Nov (start of day, EST) + 72 hours = Mon 30 Nov 00:00.
        facts(P.MARKETPLACE, R.PRE_SERVICE, U.URGENT, S.INITIAL, OC.PENDING,
              sent_to_plan=date(2026, 11, 27)),
        {(A.CHASE_PLAN, ""): (True, "2026-11-30T00:00:00-05:00", "2026-11-30T00:00:00-05:00",
                              "marketplace_decision_urgent")},
    ),
    (
        "erisa-concurrent-urgent-pending-2560.503-1(f)(2)(ii)",
        # Sent Sun 29 Nov + 24 hours = Mon 30 Nov 00:00.
        facts(P.ERISA, R.CONCURRENT, U.URGENT, S.INITIAL, OC.PENDING,
              sent_to_plan=date(2026, 11, 29)),
        {(A.CHASE_PLAN, ""): (True, "2026-11-30T00:00:00-05:00", "2026-11-30T00:00:00-05:00",
                              "concurrent_extension_decision")},
    ),
    (
        "erisa-preservice-standard-internal-appeal-denied-2560.503-1(i)(2)(ii)",
        # Appeal sent 10 Nov + 30 days = 10 Dec. No second appeal offered.
        facts(P.ERISA, R.PRE_SERVICE, U.STANDARD, S.INTERNAL_APPEAL, OC.DENIED,
              sent_to_plan=date(2026, 11, 10)),
        {
            APPEAL: (True, "2026-12-10T23:59:59-05:00", "2026-12-10T23:59:59-05:00",
                     "internal_appeal_decision_pre_service"),
            (A.NECESSITY_LETTER, ""): (True, None, None, None),
        },
    ),
    (
        "erisa-preservice-standard-final-denied-147.136(d)",
        # Final decision received 20 Nov + 4 months = 20 Mar 2027 (EDT from 14 Mar).
        facts(P.ERISA, R.PRE_SERVICE, U.STANDARD, S.FINAL_INTERNAL, OC.DENIED),
        {
            (A.EXTERNAL_REVIEW, ""): (True, "2027-03-20T23:59:59-04:00",
                                      "2027-03-20T23:59:59-04:00", "external_review_request"),
            EXTERNAL: (True, None, None, "external_review_decision_standard"),
        },
    ),
    (
        "erisa-final-denied-grandfathered-2590.715-2719(a)(1)(ii)",
        facts(P.ERISA, R.PRE_SERVICE, U.STANDARD, S.FINAL_INTERNAL, OC.DENIED,
              grandfathered=True),
        {(A.EXTERNAL_REVIEW, ""): (False, None, None, None)},
    ),
    (
        "ma-preservice-standard-initial-denied-422.582(b)",
        # Dated 18 Nov + 60: 12 (to 30 Nov) + 31 (Dec) = 43, + 17 = 17 Jan 2027.
        facts(P.MEDICARE_ADVANTAGE, R.PRE_SERVICE, U.STANDARD, S.INITIAL, OC.DENIED),
        {
            (A.INTERNAL_APPEAL, ""): (True, "2027-01-17T23:59:59-05:00",
                                      "2027-01-17T23:59:59-05:00", "ma_reconsideration_request"),
            RECON: (True, None, None, "ma_reconsideration_decision_standard"),
        },
    ),
    (
        "ma-preservice-urgent-initial-denied-422.584-422.582(b)",
        facts(P.MEDICARE_ADVANTAGE, R.PRE_SERVICE, U.URGENT, S.INITIAL, OC.DENIED),
        {
            (A.EXPEDITED_REVIEW, ""): (True, SAME_DAY, "2027-01-17T23:59:59-05:00",
                                       "ma_reconsideration_request"),
            RECON: (True, None, None, "ma_reconsideration_decision_expedited"),
        },
    ),
    (
        "ma-preservice-standard-reconsideration-under-way-422.590(a)(1)",
        # Sent 10 Nov + 30 = 10 Dec.
        facts(P.MEDICARE_ADVANTAGE, R.PRE_SERVICE, U.STANDARD, S.INTERNAL_APPEAL, OC.DENIED,
              sent_to_plan=date(2026, 11, 10)),
        {RECON: (True, "2026-12-10T23:59:59-05:00", "2026-12-10T23:59:59-05:00",
                  "ma_reconsideration_decision_standard")},
    ),
    (
        "ma-part-b-drug-reconsideration-under-way-422.590-part-b",
        # Sent 27 Nov + 7 = 4 Dec.
        facts(P.MEDICARE_ADVANTAGE, R.PRE_SERVICE, U.STANDARD, S.INTERNAL_APPEAL, OC.DENIED,
              sent_to_plan=date(2026, 11, 27), part_b_drug=True),
        {RECON: (True, "2026-12-04T23:59:59-05:00", "2026-12-04T23:59:59-05:00",
                  "ma_reconsideration_decision_part_b_drug")},
    ),
    (
        "ma-payment-reconsideration-under-way-422.590(b)",
        # Sent 15 Oct + 60: 16 (to 31 Oct) + 30 (Nov) = 46, + 14 = 14 Dec.
        facts(P.MEDICARE_ADVANTAGE, R.RETROSPECTIVE, U.STANDARD, S.INTERNAL_APPEAL, OC.DENIED,
              sent_to_plan=date(2026, 10, 15)),
        {RECON: (True, "2026-12-14T23:59:59-05:00", "2026-12-14T23:59:59-05:00",
                  "ma_reconsideration_decision_payment")},
    ),
    (
        "ma-upheld-reconsideration-auto-forward-422.590(a)(2)-422.592",
        # Nothing for the user to file: no 60-day date, a check that the IRE has the case.
        facts(P.MEDICARE_ADVANTAGE, R.APPEAL, U.STANDARD, S.FINAL_INTERNAL, OC.DENIED),
        {
            (A.CHASE_PLAN, "forwarded to the IRE"): (True, None, None, None),
            (A.NECESSITY_LETTER, ""): (True, None, None, None),
        },
    ),
    (
        "medicaid-preservice-standard-initial-denied-438.402(c)(2)(ii)",
        # Dated 18 Nov + 60 = 17 Jan 2027 (as above).
        facts(P.MEDICAID_MANAGED, R.PRE_SERVICE, U.STANDARD, S.INITIAL, OC.DENIED),
        {
            (A.INTERNAL_APPEAL, ""): (True, "2027-01-17T23:59:59-05:00",
                                      "2027-01-17T23:59:59-05:00", "medicaid_appeal_filing"),
            APPEAL: (True, None, None, "medicaid_appeal_decision_standard"),
        },
    ),
    (
        "medicaid-concurrent-urgent-initial-denied-438.420(a)",
        # Dated 18 Nov + 10 = Sat 28 Nov: already past at the call (shown overdue), earlier
        # than the same-day clinical date.
        facts(P.MEDICAID_MANAGED, R.CONCURRENT, U.URGENT, S.INITIAL, OC.DENIED),
        {
            (A.CONTINUED_COVERAGE, ""): (True, "2026-11-28T23:59:59-05:00",
                                         "2026-11-28T23:59:59-05:00",
                                         "medicaid_continued_benefits"),
            (A.EXPEDITED_REVIEW, ""): (True, SAME_DAY, "2027-01-17T23:59:59-05:00",
                                       "medicaid_appeal_filing"),
            APPEAL: (True, None, None, "medicaid_appeal_decision_expedited"),
        },
    ),
    (
        "medicaid-final-denied-fair-hearing-438.408(f)(2)",
        # Dated 18 Nov + 120: 12 + 31 + 31 + 28 = 102 (28 Feb), + 18 = 18 Mar 2027 (EDT).
        facts(P.MEDICAID_MANAGED, R.PRE_SERVICE, U.STANDARD, S.FINAL_INTERNAL, OC.DENIED),
        {(A.FAIR_HEARING, ""): (True, "2027-03-18T23:59:59-04:00", "2027-03-18T23:59:59-04:00",
                                "medicaid_fair_hearing_request")},
    ),
    (
        "medicaid-expedited-appeal-under-way-438.408(b)(3)",
        # Sent 29 Nov (00:00 EST) + 72 hours = 2 Dec 00:00.
        facts(P.MEDICAID_MANAGED, R.CONCURRENT, U.URGENT, S.INTERNAL_APPEAL, OC.DENIED,
              sent_to_plan=date(2026, 11, 29)),
        {APPEAL: (True, "2026-12-02T00:00:00-05:00", "2026-12-02T00:00:00-05:00",
                  "medicaid_appeal_decision_expedited")},
    ),
    (
        "chip-preservice-standard-pending-457.1230(d)",
        # Sent 25 Nov + 7 = 2 Dec.
        facts(P.CHIP_MANAGED, R.PRE_SERVICE, U.STANDARD, S.INITIAL, OC.PENDING,
              sent_to_plan=date(2026, 11, 25)),
        {(A.CHASE_PLAN, ""): (True, "2026-12-02T23:59:59-05:00", "2026-12-02T23:59:59-05:00",
                              "chip_prior_auth_standard")},
    ),
    (
        "chip-final-denied-state-review-457.1260",
        facts(P.CHIP_MANAGED, R.PRE_SERVICE, U.STANDARD, S.FINAL_INTERNAL, OC.DENIED),
        {(A.FAIR_HEARING, ""): (True, None, None, None)},
    ),
    (
        "chip-concurrent-denied-no-438.420-457.1260",
        facts(P.CHIP_MANAGED, R.CONCURRENT, U.STANDARD, S.INITIAL, OC.DENIED),
        {(A.CONTINUED_COVERAGE, ""): (False, None, None, None)},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan(name, case, expected):
    got = plan_of(case)
    for key, want in expected.items():
        assert key in got, f"{key} missing from {sorted(str(k) for k in got)}"
        assert got[key] == want, key


@pytest.mark.parametrize("plan", list(PlanType))
def test_approved_ticks_only_the_confirmation(plan):
    f = facts(plan, R.CONCURRENT, U.URGENT, S.INITIAL, OC.APPROVED)
    assert [s.action for s in plan_followups(f, now=ENDED) if s.selected] == [A.CONFIRMATION]


def test_urgent_concurrent_denial_lists_same_day_items_before_the_rest():
    items = plan_followups(facts(P.ERISA, R.CONCURRENT, U.URGENT, S.INITIAL, OC.DENIED), now=ENDED)
    dues = [s.computed_due for s in items]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated)
    assert dues.index(None) == len(dated)  # undated ones after every dated one
    assert all(iso(d) == SAME_DAY for d in dated)


def test_a_reviewer_window_earlier_than_the_end_of_day_brings_the_clinical_date_forward():
    window = ENDED.add(hours=2)  # "within 2 hours"
    f = facts(P.ERISA, R.CONCURRENT, U.URGENT, S.INITIAL, OC.DENIED, reviewer_window=window)
    letter = {s.action: s for s in plan_followups(f, now=ENDED)}[A.NECESSITY_LETTER]
    assert letter.clinical_due == window
    assert "reviewer" in letter.clinical_reason


def test_every_rule_in_the_table_is_used_by_some_plan():
    from itertools import product

    from p2pcall.domain.deadlines import RULES

    used = set()
    for plan, review, urgency, stage, outcome, drug in product(
        PlanType, ReviewType, Urgency, Stage, Outcome, (False, True)
    ):
        f = facts(
            plan,
            review,
            urgency,
            stage,
            outcome,
            part_b_drug=drug,
            p2p_window=5,
            sent_to_plan=date(2026, 11, 25),
        )
        for item in plan_followups(f, now=ENDED):
            if item.rule is not None:
                used.add(item.rule.id)
        not_held = facts(
            plan, review, urgency, stage, outcome, p2p_window=5, connected_at=None, ended_at=None
        )
        used |= {i.rule.id for i in plan_followups(not_held, now=ENDED) if i.rule is not None}
    assert used == {rule.id for rule in RULES}
