"""Dated words read in the call's zone; ambiguous and past dates flagged; far dates questioned."""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from p2pcall.domain.datedwords import find_dated_phrases
from p2pcall.domain.plausible import confirmed_keys, implausible

NY = "America/New_York"
LA = "America/Los_Angeles"
# Friday 20 Nov 2026, 15:00 in New York.
SAID = pendulum.datetime(2026, 11, 20, 15, 0, tz=NY)


def first(text: str, said=SAID, tz: str = NY):
    phrases = find_dated_phrases(text, said, tz)
    assert phrases, f"nothing read from {text!r}"
    return phrases[0]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("will send it by 11/24", "2026-11-24T23:59:59-05:00"),
        ("by 11/24/2026", "2026-11-24T23:59:59-05:00"),
        ("by 11/24/26", "2026-11-24T23:59:59-05:00"),
        ("by 2026-11-24", "2026-11-24T23:59:59-05:00"),
        ("Nov 24th", "2026-11-24T23:59:59-05:00"),
        ("24 November", "2026-11-24T23:59:59-05:00"),
        # Said on a Friday: "Monday" is the next one.
        ("letter Monday", "2026-11-23T23:59:59-05:00"),
        # 24 elapsed hours from 15:00.
        ("decision within 24h", "2026-11-21T15:00:00-05:00"),
        ("in 48 hours", "2026-11-22T15:00:00-05:00"),
        ("within an hour", "2026-11-20T16:00:00-05:00"),
        # Fri + 2 business days: Mon, Tue.
        ("in 2 business days", "2026-11-24T23:59:59-05:00"),
        ("3 working days", "2026-11-25T23:59:59-05:00"),
        ("within 5 days", "2026-11-25T23:59:59-05:00"),
        ("in 2 weeks", "2026-12-04T23:59:59-05:00"),
        ("end of day", "2026-11-20T23:59:59-05:00"),
        ("EOD", "2026-11-20T23:59:59-05:00"),
        ("by close of business", "2026-11-20T17:00:00-05:00"),
        ("tomorrow", "2026-11-21T23:59:59-05:00"),
        # Month end and the new year: 31 Dec is upcoming, 1/2 is next year's.
        ("by 12/31", "2026-12-31T23:59:59-05:00"),
        ("by 1/2", "2027-01-02T23:59:59-05:00"),
    ],
)
def test_dated_words_in_new_york(text, due):
    assert first(text).due.isoformat() == due


def test_the_call_zone_decides_the_day():
    # 23:30 on Friday in Los Angeles is already Saturday in New York: "end of day" is Friday's.
    late = pendulum.datetime(2026, 11, 20, 23, 30, tz=LA)
    assert first("end of day", late, LA).due.isoformat() == "2026-11-20T23:59:59-08:00"
    assert first("end of day", late, NY).due.isoformat() == "2026-11-21T23:59:59-05:00"


def test_hours_across_the_dst_change_are_elapsed_hours():
    # Sat 31 Oct 2026 12:00 EDT + 24 h = Sun 1 Nov 11:00 EST (the clock went back an hour).
    said = pendulum.datetime(2026, 10, 31, 12, 0, tz=NY)
    assert first("within 24 hours", said).due.isoformat() == "2026-11-01T11:00:00-05:00"


def test_business_days_skip_the_weekend():
    said = pendulum.datetime(2026, 11, 19, 10, 0, tz=NY)  # Thursday
    assert first("in 2 business days", said).due.isoformat() == "2026-11-23T23:59:59-05:00"


def test_ambiguous_month_day_says_so():
    phrase = first("by 11/12", pendulum.datetime(2026, 11, 2, 9, 0, tz=NY))
    assert phrase.due.date() == date(2026, 11, 12)  # read as written in the US
    assert "11 Dec" in phrase.ambiguous
    assert not phrase.past


def test_the_same_weekday_is_ambiguous():
    phrase = first("Friday")  # said on a Friday
    assert phrase.due.date() == date(2026, 11, 27)
    assert "today" in phrase.ambiguous


def test_a_date_already_past_when_said_is_flagged():
    phrase = first("by 11/3")
    assert phrase.due.date() == date(2026, 11, 3)
    assert phrase.past
    assert "already past" in phrase.describe()


def test_a_leap_day_without_a_year_is_the_next_one():
    assert first("by 2/29").due.date() == date(2028, 2, 29)


@pytest.mark.parametrize(
    "text",
    ["no date here", "monitor the sunny ward", "a 2nd look", "", "13/45", "within 0 days"],
)
def test_no_false_dates(text):
    assert find_dated_phrases(text, SAID, NY) == []


def test_earliest_first():
    phrases = find_dated_phrases("criteria by Friday, letter within 2 hours", SAID, NY)
    assert [p.text for p in phrases] == ["within 2 hours", "Friday"]


# -- far dates --------------------------------------------------------------------------------


def test_a_year_typed_wrong_gets_a_did_you_mean():
    question = implausible(date(2025, 11, 20), date(2026, 11, 30), "Denial dated")
    assert question is not None
    assert "375 days before the call" in question
    assert "Did you mean 2026-11-20?" in question


def test_sixty_days_is_still_plausible():
    call = date(2026, 11, 30)
    assert implausible(date(2026, 10, 1), call, "x") is None  # 60 days before
    assert implausible(date(2026, 9, 30), call, "x") is not None  # 61
    assert implausible(date(2027, 1, 29), call, "x") is None  # 60 after


def test_no_guess_when_no_year_fits():
    question = implausible(date(2026, 5, 1), date(2026, 11, 30), "Due")
    assert question is not None and "Did you mean" not in question


def test_confirmed_values_are_read_back():
    assert confirmed_keys("denial_date=2025-11-20;care_ends=2027-03-01") == {
        "denial_date=2025-11-20",
        "care_ends=2027-03-01",
    }
