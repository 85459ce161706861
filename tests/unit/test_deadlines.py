"""Deadline rules: every rule against its regulation figure, with dates worked out by hand.

Expected values are literal ISO strings computed on paper (calendar in hand), never derived from
the code under test, so a wrong clock, a wrong day-0 or a DST slip makes a test fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pendulum
import pytest

from p2pcall.domain.deadlines import (
    RULES,
    Clock,
    DeadlineInputError,
    MissingPlanTypeError,
    NaiveDatetimeError,
    Responsible,
    StartEvent,
    StartInFutureError,
    UnknownTimeZoneError,
    UserDate,
    add_months_or_next_first,
    applicable_rules,
    compute_deadline,
    get_rule,
    user_date_reason,
)
from p2pcall.domain.vocab import PlanType, ReviewType, Urgency

NY = "America/New_York"
# Tests pass ``now`` explicitly so dates in 2027-2028 are "in the past" and results never
# depend on the day the suite runs.
NOW = pendulum.datetime(2030, 1, 1, tz="UTC")


def ny(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(y, m, d, h, mi, tz=NY)


def due_iso(rule_id: str, start: datetime, tz: str = NY, **kwargs: object) -> str:
    return compute_deadline(get_rule(rule_id), start, tz, now=NOW, **kwargs).due.isoformat()


# --- the rule table against the regulation figures -------------------------------------------

# (rule id, clock, amount, starts from, whose deadline, a citation fragment that must appear)
RULE_FIGURES = [
    ("p2p_request_window", Clock.BUSINESS_DAYS, None, StartEvent.NOTICE_RECEIVED,
     Responsible.CLINICIAN, "Insurer"),
    # Not a regulation: the same-day written confirmation (and urgent expedited request).
    ("act_same_day", Clock.CALENDAR_DAYS, 0, StartEvent.CALL_END, Responsible.CLINICIAN,
     "not a regulation"),
    ("internal_appeal_filing", Clock.CALENDAR_DAYS, 180, StartEvent.NOTICE_RECEIVED,
     Responsible.CLINICIAN, "29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)"),
    ("initial_decision_urgent", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "29 CFR 2560.503-1(f)(2)(i)"),
    ("initial_decision_pre_service", Clock.CALENDAR_DAYS, 15, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "29 CFR 2560.503-1(f)(2)(iii)"),
    ("initial_decision_post_service", Clock.CALENDAR_DAYS, 30, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "29 CFR 2560.503-1(f)(2)(iii)"),
    ("concurrent_extension_decision", Clock.HOURS, 24, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "29 CFR 2560.503-1(f)(2)(ii)"),
    ("internal_appeal_decision_urgent", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "29 CFR 2560.503-1(i)(2)"),
    ("internal_appeal_decision_pre_service", Clock.CALENDAR_DAYS, 30,
     StartEvent.REQUEST_RECEIVED, Responsible.PLAN, "45 CFR 147.136(b)(2)(ii)(B)"),
    ("internal_appeal_decision_post_service", Clock.CALENDAR_DAYS, 60,
     StartEvent.REQUEST_RECEIVED, Responsible.PLAN, "45 CFR 147.136(b)(2)(ii)(B)"),
    ("external_review_request", Clock.MONTHS, 4, StartEvent.FINAL_INTERNAL_DENIAL,
     Responsible.CLINICIAN, "45 CFR 147.136(d)"),
    ("external_review_decision_standard", Clock.CALENDAR_DAYS, 45, StartEvent.REQUEST_RECEIVED,
     Responsible.INDEPENDENT_REVIEWER, "45 CFR 147.136(d)"),
    ("external_review_decision_expedited", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.INDEPENDENT_REVIEWER, "45 CFR 147.136(d)"),
    # 422.582(b): 60 calendar days from the date OF the notice (not from its receipt).
    ("ma_reconsideration_request", Clock.CALENDAR_DAYS, 60, StartEvent.NOTICE_DATED,
     Responsible.CLINICIAN, "42 CFR 422.582"),
    ("ma_org_determination_expedited", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "422.572"),
    ("ma_org_determination_standard", Clock.CALENDAR_DAYS, 7, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "CMS-0057-F"),
    ("medicaid_prior_auth_expedited", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "CMS-0057-F"),
    ("medicaid_prior_auth_standard", Clock.CALENDAR_DAYS, 7, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "CMS-0057-F"),
    ("marketplace_decision_standard", Clock.CALENDAR_DAYS, 15, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "45 CFR 147.136"),
    ("marketplace_decision_urgent", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "45 CFR 147.136"),
    ("ma_reconsideration_decision_expedited", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "42 CFR 422.590"),
    ("ma_reconsideration_decision_standard", Clock.CALENDAR_DAYS, 30,
     StartEvent.REQUEST_RECEIVED, Responsible.PLAN, "42 CFR 422.590(a)"),
    ("ma_reconsideration_decision_part_b_drug", Clock.CALENDAR_DAYS, 7,
     StartEvent.REQUEST_RECEIVED, Responsible.PLAN, "42 CFR 422.590"),
    ("ma_reconsideration_decision_payment", Clock.CALENDAR_DAYS, 60,
     StartEvent.REQUEST_RECEIVED, Responsible.PLAN, "42 CFR 422.590(b)"),
    ("medicaid_appeal_filing", Clock.CALENDAR_DAYS, 60, StartEvent.NOTICE_DATED,
     Responsible.CLINICIAN, "42 CFR 438.402(c)(2)(ii)"),
    ("medicaid_appeal_decision_standard", Clock.CALENDAR_DAYS, 30, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "42 CFR 438.408(b)(2)"),
    ("medicaid_appeal_decision_expedited", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "42 CFR 438.408(b)(3)"),
    ("medicaid_fair_hearing_request", Clock.CALENDAR_DAYS, 120, StartEvent.NOTICE_DATED,
     Responsible.CLINICIAN, "42 CFR 438.408(f)(2)"),
    ("medicaid_continued_benefits", Clock.CALENDAR_DAYS, 10, StartEvent.NOTICE_DATED,
     Responsible.CLINICIAN, "42 CFR 438.420"),
    ("chip_prior_auth_expedited", Clock.HOURS, 72, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "42 CFR 457.1230(d)"),
    ("chip_prior_auth_standard", Clock.CALENDAR_DAYS, 7, StartEvent.REQUEST_RECEIVED,
     Responsible.PLAN, "42 CFR 457.1230(d)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule_id", "clock", "amount", "event", "responsible", "citation"), RULE_FIGURES
)
def test_rule_matches_regulation_figure(rule_id, clock, amount, event, responsible, citation):
    rule = get_rule(rule_id)
    assert rule.clock is clock
    assert rule.amount == amount
    assert rule.starts_from is event
    assert rule.responsible is responsible
    assert citation in rule.citation
    assert rule.title


def test_every_rule_has_a_figure_and_a_worked_example():
    ids = {rule.id for rule in RULES}
    assert len(ids) == len(RULES), "rule ids must be unique"
    assert ids == {row[0] for row in RULE_FIGURES}
    assert ids == {row[0] for row in WORKED_EXAMPLES}


def test_same_day_clock_reads_as_the_same_day():
    assert get_rule("act_same_day").clock_text() == "the same day"


def test_only_the_insurer_window_leaves_the_amount_to_the_user():
    assert [r.id for r in RULES if r.amount is None] == ["p2p_request_window"]


# (rule id, start in New York, extra arguments, due as worked out by hand)
WORKED_EXAMPLES = [
    # Thu 19 Nov 2026 + 5 business days, Thanksgiving (Thu 26) closed -> Fri 27 Nov
    ("p2p_request_window", ny(2026, 11, 19, 10), {"business_days": 5,
     "holidays": [date(2026, 11, 26)]}, "2026-11-27T23:59:59-05:00"),
    # Call ended 16:40 on 23 Nov: due by the end of that day, local time.
    ("act_same_day", ny(2026, 11, 23, 16, 40), {}, "2026-11-23T23:59:59-05:00"),
    # 1 Jan + 180: Jan 30 + Feb 28 + Mar 31 + Apr 30 + May 31 = 150 left after 1 Jan -> 30 Jun
    ("internal_appeal_filing", ny(2026, 1, 1), {}, "2026-06-30T23:59:59-04:00"),
    ("initial_decision_urgent", ny(2026, 6, 1, 14, 30), {}, "2026-06-04T14:30:00-04:00"),
    # 20 Feb 2026 + 8 = 28 Feb, + 7 = 7 Mar (still EST)
    ("initial_decision_pre_service", ny(2026, 2, 20), {}, "2026-03-07T23:59:59-05:00"),
    # 31 Jan + 28 = 28 Feb, + 2 = 2 Mar
    ("initial_decision_post_service", ny(2026, 1, 31), {}, "2026-03-02T23:59:59-05:00"),
    ("concurrent_extension_decision", ny(2026, 7, 10, 8, 15), {}, "2026-07-11T08:15:00-04:00"),
    # 72 hours across the new year
    ("internal_appeal_decision_urgent", ny(2026, 12, 29, 20), {}, "2027-01-01T20:00:00-05:00"),
    ("internal_appeal_decision_pre_service", ny(2026, 6, 10), {}, "2026-07-10T23:59:59-04:00"),
    # 10 Jun + 20 = 30 Jun, + 31 = 31 Jul, + 9 = 9 Aug
    ("internal_appeal_decision_post_service", ny(2026, 6, 10), {},
     "2026-08-09T23:59:59-04:00"),
    ("external_review_request", ny(2026, 6, 30), {}, "2026-10-30T23:59:59-04:00"),
    # 1 Mar + 31 = 1 Apr, + 14 = 15 Apr
    ("external_review_decision_standard", ny(2026, 3, 1), {}, "2026-04-15T23:59:59-04:00"),
    ("external_review_decision_expedited", ny(2026, 9, 15), {}, "2026-09-18T09:00:00-04:00"),
    # 15 Jan + 31 = 15 Feb, + 28 = 15 Mar, + 1 = 16 Mar (now EDT)
    ("ma_reconsideration_request", ny(2026, 1, 15), {}, "2026-03-16T23:59:59-04:00"),
    ("ma_org_determination_expedited", ny(2026, 2, 2, 11), {}, "2026-02-05T11:00:00-05:00"),
    ("ma_org_determination_standard", ny(2026, 1, 1), {}, "2026-01-08T23:59:59-05:00"),
    ("medicaid_prior_auth_expedited", ny(2026, 4, 1, 16, 45), {}, "2026-04-04T16:45:00-04:00"),
    ("medicaid_prior_auth_standard", ny(2026, 2, 10), {}, "2026-02-17T23:59:59-05:00"),
    # 20 May + 11 = 31 May, + 4 = 4 Jun
    ("marketplace_decision_standard", ny(2026, 5, 20), {}, "2026-06-04T23:59:59-04:00"),
    ("marketplace_decision_urgent", ny(2026, 11, 20, 12), {}, "2026-11-23T12:00:00-05:00"),
    # 72 elapsed hours across the spring DST change (Sun 8 Mar 2026): 18:00 EST -> 19:00 EDT.
    ("ma_reconsideration_decision_expedited", ny(2026, 3, 6, 18), {},
     "2026-03-09T19:00:00-04:00"),
    # Month end: 31 Jan + 28 = 28 Feb, + 2 = 2 Mar.
    ("ma_reconsideration_decision_standard", ny(2026, 1, 31), {}, "2026-03-02T23:59:59-05:00"),
    # Leap day: 22 Feb 2024 + 7 = 29 Feb 2024.
    ("ma_reconsideration_decision_part_b_drug", ny(2024, 2, 22), {},
     "2024-02-29T23:59:59-05:00"),
    # 1 Nov (DST ends that night) + 29 = 30 Nov, + 31 = 31 Dec.
    ("ma_reconsideration_decision_payment", ny(2026, 11, 1), {}, "2026-12-31T23:59:59-05:00"),
    # 23 Nov + 7 = 30 Nov, + 31 = 31 Dec (38), + 22 = 22 Jan 2027.
    ("medicaid_appeal_filing", ny(2026, 11, 23), {}, "2027-01-22T23:59:59-05:00"),
    ("medicaid_appeal_decision_standard", ny(2026, 12, 15), {}, "2027-01-14T23:59:59-05:00"),
    # 72 elapsed hours across the autumn DST change (Sun 1 Nov 2026): 12:00 EDT -> 11:00 EST.
    ("medicaid_appeal_decision_expedited", ny(2026, 10, 30, 12), {},
     "2026-11-02T11:00:00-05:00"),
    # 1 Sep + 29 = 30 Sep, + 31 = 31 Oct (60), + 30 = 30 Nov (90), + 30 = 30 Dec (120).
    ("medicaid_fair_hearing_request", ny(2026, 9, 1), {}, "2026-12-30T23:59:59-05:00"),
    # Weekend: 18 Nov + 10 = Sat 28 Nov; no rule moves it to Monday, so it stays.
    ("medicaid_continued_benefits", ny(2026, 11, 18), {}, "2026-11-28T23:59:59-05:00"),
    ("chip_prior_auth_expedited", ny(2026, 5, 1, 9), {}, "2026-05-04T09:00:00-04:00"),
    # Before 1 Jan 2026 the CHIP standard clock was 14 days: 30 Dec 2025 + 14 = 13 Jan 2026.
    ("chip_prior_auth_standard", ny(2025, 12, 30), {}, "2026-01-13T23:59:59-05:00"),
]  # fmt: skip


@pytest.mark.parametrize(("rule_id", "start", "kwargs", "expected"), WORKED_EXAMPLES)
def test_worked_example(rule_id, start, kwargs, expected):
    assert due_iso(rule_id, start, **kwargs) == expected


# --- the 4-month external review clock --------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2026-06-30", "2026-10-30"),  # the design note's example
        ("2026-10-28", "2027-02-28"),
        ("2026-10-29", "2027-03-01"),  # no 29 Feb 2027
        ("2026-10-30", "2027-03-01"),
        ("2026-10-31", "2027-03-01"),
        ("2027-10-29", "2028-02-29"),  # leap year: 29 Feb exists
        ("2027-10-30", "2028-03-01"),
        ("2027-10-31", "2028-03-01"),
        ("2026-12-31", "2027-05-01"),  # no 31 April
        ("2026-11-30", "2027-03-30"),
        ("2026-08-29", "2026-12-29"),  # late-August dates land in December, all exist
        ("2026-08-30", "2026-12-30"),
        ("2026-08-31", "2026-12-31"),
        ("2027-08-31", "2027-12-31"),
        ("2027-09-30", "2028-01-30"),  # across the year end
        ("2027-11-29", "2028-03-29"),
        ("2028-02-29", "2028-06-29"),  # from a leap day
    ],
)
def test_external_review_request_month_ends(received, expected):
    y, m, d = map(int, received.split("-"))
    deadline = compute_deadline(get_rule("external_review_request"), ny(y, m, d, 15), NY, now=NOW)
    assert deadline.due.strftime("%Y-%m-%d %H:%M:%S") == f"{expected} 23:59:59"
    assert deadline.due.timezone_name == NY


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 10, 31), 4, date(2027, 3, 1)),
        (date(2026, 1, 31), 1, date(2026, 3, 1)),  # no 31 Feb: 1 March
        (date(2026, 3, 31), 1, date(2026, 5, 1)),  # no 31 April
        (date(2026, 12, 15), 13, date(2028, 1, 15)),
        (date(2027, 11, 30), 3, date(2028, 3, 1)),  # no 30 Feb even in a leap year
    ],
)
def test_add_months_or_next_first(start, months, expected):
    assert add_months_or_next_first(start, months) == expected


# --- leap days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (ny(2027, 12, 1), "2028-05-29T23:59:59-04:00"),  # spans 29 Feb 2028
        (ny(2026, 12, 1), "2027-05-30T23:59:59-04:00"),  # same span, no leap day: a day later
        (ny(2027, 9, 3), "2028-03-01T23:59:59-05:00"),  # lands just after 29 Feb
        (ny(2026, 9, 3), "2027-03-02T23:59:59-05:00"),
        (ny(2028, 2, 29), "2028-08-27T23:59:59-04:00"),  # starts on the leap day
    ],
)
def test_internal_appeal_filing_180_days_across_leap_day(received, expected):
    assert due_iso("internal_appeal_filing", received) == expected


# --- daylight-saving changes (America/New_York: 8 March and 1 November 2026) -------------------


@pytest.mark.parametrize(
    ("rule_id", "start", "expected_local", "expected_utc"),
    [
        # Spring forward: 72 real hours, local clock reads an hour later.
        ("initial_decision_urgent", ny(2026, 3, 6, 10), "2026-03-09T11:00:00-04:00",
         "2026-03-09T15:00:00+00:00"),
        ("ma_org_determination_expedited", ny(2026, 3, 7, 23, 30), "2026-03-11T00:30:00-04:00",
         "2026-03-11T04:30:00+00:00"),
        # Fall back: 72 real hours, local clock reads an hour earlier.
        ("external_review_decision_expedited", ny(2026, 10, 30, 10),
         "2026-11-02T09:00:00-05:00", "2026-11-02T14:00:00+00:00"),
        ("medicaid_prior_auth_expedited", ny(2026, 10, 31, 0, 30), "2026-11-02T23:30:00-05:00",
         "2026-11-03T04:30:00+00:00"),
        # 24-hour clock over each change.
        ("concurrent_extension_decision", ny(2026, 3, 7, 3, 30), "2026-03-08T04:30:00-04:00",
         "2026-03-08T08:30:00+00:00"),
        # 01:30 EDT on 1 Nov (the first 01:30 of that night), given in UTC to avoid ambiguity.
        ("concurrent_extension_decision", pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC"),
         "2026-11-02T00:30:00-05:00", "2026-11-02T05:30:00+00:00"),
    ],
)  # fmt: skip
def test_hour_clocks_are_elapsed_time_across_dst(rule_id, start, expected_local, expected_utc):
    deadline = compute_deadline(get_rule(rule_id), start, NY, now=NOW)
    assert deadline.due.isoformat() == expected_local
    assert deadline.due.in_timezone("UTC").isoformat() == expected_utc


def test_day_clocks_end_at_local_midnight_minus_one_second_across_dst():
    # Started in EST, due in EDT: still 23:59:59 on the wall clock.
    assert due_iso("initial_decision_pre_service", ny(2026, 3, 7)) == "2026-03-22T23:59:59-04:00"
    # Started in EDT, due in EST.
    assert due_iso("initial_decision_pre_service", ny(2026, 10, 25)) == "2026-11-09T23:59:59-05:00"


def test_day_zero_is_the_local_date_in_the_practice_time_zone():
    # 03:00 UTC on 1 Jan 2026 is still 31 Dec 2025 in New York: the old 14-day clock applies.
    start = pendulum.datetime(2026, 1, 1, 3, 0, tz="UTC")
    assert due_iso("ma_org_determination_standard", start, NY) == "2026-01-14T23:59:59-05:00"
    assert due_iso("ma_org_determination_standard", start, "UTC") == "2026-01-08T23:59:59+00:00"


def test_accepts_a_stdlib_aware_datetime():
    start = datetime(2026, 6, 1, 18, 30, tzinfo=pendulum.UTC)  # 14:30 EDT
    assert due_iso("initial_decision_urgent", start) == "2026-06-04T14:30:00-04:00"


# --- 1 January 2026: 14 -> 7 calendar days (CMS-0057-F) ----------------------------------------


@pytest.mark.parametrize(
    "rule_id", ["ma_org_determination_standard", "medicaid_prior_auth_standard"]
)
@pytest.mark.parametrize(
    ("received", "amount", "expected"),
    [
        (ny(2025, 12, 20), 14, "2026-01-03T23:59:59-05:00"),
        (ny(2025, 12, 31, 23, 59), 14, "2026-01-14T23:59:59-05:00"),
        (ny(2026, 1, 1, 0, 0), 7, "2026-01-08T23:59:59-05:00"),
        (ny(2026, 1, 2), 7, "2026-01-09T23:59:59-05:00"),
        (ny(2026, 2, 25), 7, "2026-03-04T23:59:59-05:00"),
    ],
)
def test_cms_0057_f_switch_from_14_to_7_days(rule_id, received, amount, expected):
    deadline = compute_deadline(get_rule(rule_id), received, NY, now=NOW)
    assert deadline.amount == amount
    assert deadline.clock_text == f"{amount} calendar days"
    assert deadline.due.isoformat() == expected


# --- business days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        (ny(2026, 3, 6), 3, [], "2026-03-11"),  # Fri + 3 -> Wed, over the weekend
        (ny(2026, 3, 7), 1, [], "2026-03-09"),  # notice on a Saturday -> Monday
        (ny(2026, 3, 8), 5, [], "2026-03-13"),  # Sunday -> Friday
        (ny(2026, 11, 19), 5, [], "2026-11-26"),  # Thu + 5 -> Thu
        (ny(2026, 11, 19), 5, [date(2026, 11, 26)], "2026-11-27"),  # Thanksgiving skipped
        (ny(2026, 11, 19), 5, [date(2026, 11, 26), date(2026, 11, 27)], "2026-11-30"),
        # A holiday on a Saturday is not a second day off.
        (ny(2026, 12, 24), 2, [date(2026, 12, 25), date(2026, 12, 26)], "2026-12-29"),
        # pendulum dates work as holidays too.
        (ny(2026, 12, 31), 1, [pendulum.date(2027, 1, 1)], "2027-01-04"),
    ],
)
def test_p2p_request_window_business_days(start, days, holidays, expected):
    deadline = compute_deadline(
        get_rule("p2p_request_window"), start, NY, now=NOW, business_days=days, holidays=holidays
    )
    assert deadline.due.strftime("%Y-%m-%d %H:%M:%S") == f"{expected} 23:59:59"
    assert deadline.clock_text == f"{days} business day" + ("s" if days != 1 else "")


# --- which rules apply -------------------------------------------------------------------------

_ALWAYS = {"p2p_request_window", "act_same_day"}
_COMMON = _ALWAYS | {"external_review_request"}

APPLICABLE = [
    (PlanType.ERISA, ReviewType.PRE_SERVICE, Urgency.URGENT, _COMMON | {
        "internal_appeal_filing", "initial_decision_urgent", "internal_appeal_decision_urgent",
        "external_review_decision_expedited"}),
    (PlanType.ERISA, ReviewType.PRE_SERVICE, Urgency.STANDARD, _COMMON | {
        "internal_appeal_filing", "initial_decision_pre_service",
        "internal_appeal_decision_pre_service", "external_review_decision_standard"}),
    (PlanType.ACA, ReviewType.CONCURRENT, Urgency.URGENT, _COMMON | {
        "internal_appeal_filing", "initial_decision_urgent", "concurrent_extension_decision",
        "internal_appeal_decision_urgent", "external_review_decision_expedited"}),
    (PlanType.ERISA, ReviewType.RETROSPECTIVE, Urgency.STANDARD, _COMMON | {
        "internal_appeal_filing", "initial_decision_post_service",
        "internal_appeal_decision_post_service", "external_review_decision_standard"}),
    (PlanType.ERISA, ReviewType.APPEAL, Urgency.STANDARD, _COMMON | {
        "internal_appeal_decision_pre_service", "internal_appeal_decision_post_service",
        "external_review_decision_standard"}),
    # Marketplace: own 15-day/72-hour rows, never the ERISA initial-decision rows.
    (PlanType.MARKETPLACE, ReviewType.PRE_SERVICE, Urgency.STANDARD, _COMMON | {
        "internal_appeal_filing", "marketplace_decision_standard",
        "internal_appeal_decision_pre_service", "external_review_decision_standard"}),
    (PlanType.MARKETPLACE, ReviewType.PRE_SERVICE, Urgency.URGENT, _COMMON | {
        "internal_appeal_filing", "marketplace_decision_urgent",
        "internal_appeal_decision_urgent", "external_review_decision_expedited"}),
    (PlanType.MEDICARE_ADVANTAGE, ReviewType.PRE_SERVICE, Urgency.STANDARD, _ALWAYS | {
        "ma_reconsideration_request", "ma_org_determination_standard",
        "ma_reconsideration_decision_standard", "ma_reconsideration_decision_part_b_drug"}),
    (PlanType.MEDICARE_ADVANTAGE, ReviewType.PRE_SERVICE, Urgency.URGENT, _ALWAYS | {
        "ma_reconsideration_request", "ma_org_determination_expedited",
        "ma_reconsideration_decision_expedited"}),
    (PlanType.MEDICAID_MANAGED, ReviewType.CONCURRENT, Urgency.URGENT, _ALWAYS | {
        "medicaid_prior_auth_expedited", "medicaid_appeal_filing",
        "medicaid_appeal_decision_expedited", "medicaid_fair_hearing_request",
        "medicaid_continued_benefits"}),
    (PlanType.MEDICAID_MANAGED, ReviewType.PRE_SERVICE, Urgency.STANDARD, _ALWAYS | {
        "medicaid_prior_auth_standard", "medicaid_appeal_filing",
        "medicaid_appeal_decision_standard", "medicaid_fair_hearing_request"}),
    # CHIP: its own prior-authorization citation (457.1230(d)), Medicaid's appeal rules
    # (457.1260), no fair hearing and no continued benefits.
    (PlanType.CHIP_MANAGED, ReviewType.PRE_SERVICE, Urgency.STANDARD, _ALWAYS | {
        "chip_prior_auth_standard", "medicaid_appeal_filing",
        "medicaid_appeal_decision_standard"}),
    (PlanType.OTHER, ReviewType.PRE_SERVICE, Urgency.STANDARD, _ALWAYS),
    # Review type and urgency not chosen yet: nothing is filtered out on them.
    (PlanType.MEDICARE_ADVANTAGE, None, None, _ALWAYS | {
        "ma_reconsideration_request", "ma_org_determination_expedited",
        "ma_org_determination_standard", "ma_reconsideration_decision_expedited",
        "ma_reconsideration_decision_standard", "ma_reconsideration_decision_part_b_drug",
        "ma_reconsideration_decision_payment"}),
    # Stored string values work like the enum members.
    ("erisa", "pre_service", "urgent", _COMMON | {
        "internal_appeal_filing", "initial_decision_urgent", "internal_appeal_decision_urgent",
        "external_review_decision_expedited"}),
]  # fmt: skip


@pytest.mark.parametrize(("plan", "review", "urgency", "expected"), APPLICABLE)
def test_applicable_rules(plan, review, urgency, expected):
    rules = applicable_rules(plan, review, urgency)
    assert {rule.id for rule in rules} == expected
    assert len(rules) == len(expected)
    assert rules[0].id == "p2p_request_window"  # table order: the first thing to act on


@pytest.mark.parametrize("plan", [None, ""])
def test_missing_plan_type_raises_a_readable_error(plan):
    with pytest.raises(MissingPlanTypeError, match="Choose the plan type first"):
        applicable_rules(plan, ReviewType.PRE_SERVICE, Urgency.STANDARD)


def test_unknown_plan_type_is_refused():
    with pytest.raises(DeadlineInputError, match="Unknown plan type 'hmo'"):
        applicable_rules("hmo")


# --- overrides and reminders -------------------------------------------------------------------


def test_a_user_date_on_a_bare_day_runs_out_at_the_end_of_that_day():
    moved = UserDate.on_day(date(2026, 7, 15), NY, "  Notice says 15 July 2026  ")
    assert moved.due.isoformat() == "2026-07-15T23:59:59-04:00"
    assert moved.reason == "Notice says 15 July 2026"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_user_date_over_a_computed_one_needs_a_reason(reason):
    computed = compute_deadline(get_rule("internal_appeal_filing"), ny(2026, 1, 1), NY, now=NOW)
    with pytest.raises(DeadlineInputError, match="Say why"):
        user_date_reason(ny(2026, 7, 15), computed.due, reason)
    # Without a computed date, or going back to it, none is needed.
    assert user_date_reason(ny(2026, 7, 15), None, reason) == ""
    assert user_date_reason(None, computed.due, reason) == ""


def test_a_user_date_refuses_a_naive_datetime():
    with pytest.raises(NaiveDatetimeError):
        UserDate(datetime(2026, 7, 15, 12), "notice")


def test_deadline_carries_rule_citation_and_a_check_the_notice_reminder():
    deadline = compute_deadline(get_rule("external_review_request"), ny(2026, 10, 31), NY, now=NOW)
    assert deadline.rule.id == "external_review_request"
    assert deadline.citation == "45 CFR 147.136(d)"
    assert deadline.clock_text == "4 months"
    assert deadline.start.isoformat() == "2026-10-31T09:00:00-04:00"
    assert "Check the date on the notice" in deadline.reminder
    assert "31 Oct 2026" in deadline.reminder
    assert "45 CFR 147.136(d)" in deadline.reminder


# --- validation ---------------------------------------------------------------------------------


def test_start_in_the_future_is_refused():
    with pytest.raises(StartInFutureError, match=r"is in the future"):
        compute_deadline(get_rule("internal_appeal_filing"), NOW.add(minutes=1), NY, now=NOW)


def test_start_equal_to_now_is_accepted():
    start = pendulum.datetime(2026, 5, 4, 13, 0, tz="UTC")
    deadline = compute_deadline(get_rule("initial_decision_urgent"), start, NY, now=start)
    assert deadline.due.isoformat() == "2026-05-07T09:00:00-04:00"


def test_default_now_is_the_current_time():
    tomorrow = pendulum.now("UTC") + timedelta(days=1)
    with pytest.raises(StartInFutureError):
        compute_deadline(get_rule("internal_appeal_filing"), tomorrow, NY)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"start": datetime(2026, 1, 1, 9)}, NaiveDatetimeError),
        ({"now": datetime(2030, 1, 1)}, NaiveDatetimeError),
        ({"start": date(2026, 1, 1)}, DeadlineInputError),
        ({"tz": "Mars/Olympus_Mons"}, UnknownTimeZoneError),
        ({"tz": ""}, UnknownTimeZoneError),
        ({"tz": "America"}, UnknownTimeZoneError),
        ({"business_days": 5}, DeadlineInputError),  # fixed 180-day rule: 5 makes no sense
    ],
)
def test_invalid_input_is_refused(kwargs, error):
    args = {"start": ny(2026, 1, 1), "tz": NY, "now": NOW} | kwargs
    with pytest.raises(error):
        compute_deadline(get_rule("internal_appeal_filing"), **args)


@pytest.mark.parametrize("days", [None, 0, -1, 61, True, 2.5])
def test_p2p_window_needs_a_sensible_number_of_business_days(days):
    with pytest.raises(DeadlineInputError, match="business days"):
        compute_deadline(
            get_rule("p2p_request_window"), ny(2026, 3, 6), NY, now=NOW, business_days=days
        )


def test_errors_are_value_errors_with_readable_messages():
    for error in (
        DeadlineInputError,
        MissingPlanTypeError,
        NaiveDatetimeError,
        StartInFutureError,
        UnknownTimeZoneError,
    ):
        assert issubclass(error, ValueError)
    with pytest.raises(NaiveDatetimeError, match="has no time zone"):
        compute_deadline(get_rule("internal_appeal_filing"), datetime(2026, 1, 1), NY, now=NOW)


def test_unknown_rule_id():
    with pytest.raises(DeadlineInputError, match="Unknown deadline rule"):
        get_rule("no_such_rule")


# --- the module stays pure ---------------------------------------------------------------------


def test_import_pulls_in_no_ui_database_or_pendulum():
    src = Path(__file__).resolve().parents[2] / "src"
    code = (
        "import sys, p2pcall.domain.deadlines\n"
        "heavy = {'textual', 'sqlmodel', 'sqlalchemy', 'pendulum'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = os.environ | {"PYTHONPATH": str(src)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# --- more hand-worked cases: the gaps the wrap-up relies on -----------------------------------


@pytest.mark.parametrize(
    ("dated", "expected"),
    [
        # 15 Jan 2028 + 60: 16 (to 31 Jan) + 29 (leap February) = 45, + 15 -> 15 March.
        (ny(2028, 1, 15), "2028-03-15T23:59:59-04:00"),
        # Same dates a year earlier, no leap day: 16 + 28 = 44, + 16 -> 16 March.
        (ny(2027, 1, 15), "2027-03-16T23:59:59-04:00"),
        # Dated 10 Nov 2026: 20 (to 30 Nov) + 31 (Dec) = 51, + 9 -> 9 Jan 2027.
        (ny(2026, 11, 10), "2027-01-09T23:59:59-05:00"),
        # Dated on a leap day: 29 Feb + 31 = 31 Mar, + 29 -> 29 April.
        (ny(2028, 2, 29), "2028-04-29T23:59:59-04:00"),
    ],
)
def test_ma_reconsideration_sixty_days_from_the_date_on_the_notice(dated, expected):
    assert due_iso("ma_reconsideration_request", dated) == expected


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2026-05-31", "2026-10-01"),  # no 31 September
        ("2026-07-31", "2026-12-01"),  # no 31 November
        ("2027-01-31", "2027-05-31"),  # 31 May exists
        ("2027-03-31", "2027-07-31"),
        ("2026-06-30", "2026-10-30"),
    ],
)
def test_external_review_request_more_month_ends(received, expected):
    y, m, d = map(int, received.split("-"))
    deadline = compute_deadline(get_rule("external_review_request"), ny(y, m, d, 8), NY, now=NOW)
    assert deadline.due.strftime("%Y-%m-%d %H:%M:%S") == f"{expected} 23:59:59"


@pytest.mark.parametrize(
    ("rule_id", "start", "tz", "expected"),
    [
        # New York springs forward on 14 Mar 2027: 72 real hours read 13:00, not 12:00.
        ("initial_decision_urgent", pendulum.datetime(2027, 3, 12, 12, tz=NY), NY,
         "2027-03-15T13:00:00-04:00"),
        # Los Angeles falls back on 1 Nov 2026: 72 real hours read 17:00, not 18:00.
        ("marketplace_decision_urgent", pendulum.datetime(2026, 10, 31, 18,
         tz="America/Los_Angeles"), "America/Los_Angeles", "2026-11-03T17:00:00-08:00"),
        # Phoenix keeps standard time all year: the wall clock is unchanged.
        ("ma_org_determination_expedited", pendulum.datetime(2026, 3, 6, 10,
         tz="America/Phoenix"), "America/Phoenix", "2026-03-09T10:00:00-07:00"),
        # The second 01:30 of 1 Nov 2026 in New York (EST, 06:30 UTC) + 72 h.
        ("external_review_decision_expedited", pendulum.datetime(2026, 11, 1, 6, 30, tz="UTC"),
         NY, "2026-11-04T01:30:00-05:00"),
    ],
)  # fmt: skip
def test_seventy_two_hours_across_dst_in_other_zones(rule_id, start, tz, expected):
    deadline = compute_deadline(get_rule(rule_id), start, tz, now=NOW)
    assert deadline.due.isoformat() == expected
    assert (deadline.due - deadline.start).total_seconds() == 72 * 3600


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        # Notice on Thanksgiving (a holiday) + 1: Fri also closed -> Mon 30 Nov.
        (ny(2026, 11, 26), 1, [date(2026, 11, 26), date(2026, 11, 27)], "2026-11-30"),
        # Across the new year with 1 Jan closed: Mon 4, Tue 5, Wed 6.
        (ny(2026, 12, 31), 3, [date(2027, 1, 1)], "2027-01-06"),
        # Ten business days from a Monday: two whole weeks.
        (ny(2026, 3, 2), 10, [], "2026-03-16"),
        # Over the spring DST weekend: the date, not the hours, counts.
        (ny(2026, 3, 6, 23, 30), 1, [], "2026-03-09"),
    ],
)
def test_more_business_day_windows(start, days, holidays, expected):
    deadline = compute_deadline(
        get_rule("p2p_request_window"), start, NY, now=NOW, business_days=days, holidays=holidays
    )
    assert deadline.due.strftime("%Y-%m-%d %H:%M:%S") == f"{expected} 23:59:59"
