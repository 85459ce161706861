"""Follow-up suggestions and due dates, with the expected dates worked out by hand."""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from p2pcall.domain.casefacts import facts_from_call
from p2pcall.domain.followups import (
    CHECK_NOTICE,
    DateEntryError,
    DueItem,
    PlannedFollowUp,
    due_source,
    due_text,
    group_due,
    parse_typed_date,
    rule_for_action,
    suggest_followups,
)
from p2pcall.domain.models import Call, FollowUp
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus, Outcome, PlanType

NY = "America/New_York"
NOW = pendulum.datetime(2026, 11, 23, 15, 0, tz="UTC")  # 10:00 in New York


def ended_call(outcome: Outcome = Outcome.DENIED, **values: str) -> Call:
    return Call(
        id=7,
        created_at=NOW.subtract(minutes=20),
        tz=NY,
        started_at=NOW.subtract(minutes=20),
        ended_at=NOW,
        outcome=outcome,
        values=values,
    )


def by_action(plan) -> dict[FollowUpAction, object]:
    return {s.action: s for s in plan.suggestions if s.action is not FollowUpAction.CHASE_DOCUMENTS}


def iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- typed dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", date(2026, 11, 20)),
        (" 2026-11-20 ", date(2026, 11, 20)),
        ("2028-02-29", date(2028, 2, 29)),  # leap day exists
        ("2026-1-5", date(2026, 1, 5)),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_typed_date_accepts(text, expected):
    assert parse_typed_date(text, "Denial dated") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "2026-02-30 does not exist on the calendar"),
        ("2027-02-29", "2027-02-29 does not exist on the calendar"),
        ("2026-13-01", "does not exist"),
        ("20/11/2026", "is not a date. Type it as YYYY-MM-DD"),
        ("last Friday", "is not a date"),
        ("\x1b[31m2026", "\u241b"),  # control characters are shown, never sent to the terminal
    ],
)
def test_parse_typed_date_refuses_with_a_readable_message(text, message):
    with pytest.raises(DateEntryError, match=r"^Denial dated: ") as caught:
        parse_typed_date(text, "Denial dated")
    assert message in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_parse_typed_date_refuses_the_future_when_asked():
    today = date(2026, 11, 23)
    assert parse_typed_date("2026-11-23", "Denial received", today=today, allow_future=False)
    with pytest.raises(DateEntryError, match="2026-11-24 is in the future"):
        parse_typed_date("2026-11-24", "Denial received", today=today, allow_future=False)


# --- which rule dates which action --------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "plan", "rule_id"),
    [
        (FollowUpAction.CONFIRMATION, None, "act_same_day"),
        (FollowUpAction.EXPEDITED_REVIEW, PlanType.ERISA, "act_same_day"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.ERISA, "internal_appeal_filing"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.ACA, "internal_appeal_filing"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.MARKETPLACE, "internal_appeal_filing"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.MEDICARE_ADVANTAGE, "ma_reconsideration_request"),
        (FollowUpAction.NECESSITY_LETTER, PlanType.MEDICARE_ADVANTAGE,
         "ma_reconsideration_request"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.MEDICAID_MANAGED, "medicaid_appeal_filing"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.CHIP_MANAGED, "medicaid_appeal_filing"),
        (FollowUpAction.INTERNAL_APPEAL, PlanType.OTHER, None),
        (FollowUpAction.INTERNAL_APPEAL, None, None),
        (FollowUpAction.EXTERNAL_REVIEW, PlanType.ERISA, "external_review_request"),
        (FollowUpAction.EXTERNAL_REVIEW, PlanType.MEDICARE_ADVANTAGE, None),
        (FollowUpAction.REGULATOR_COMPLAINT, PlanType.ERISA, None),
    ],
)  # fmt: skip
def test_rule_for_action(action, plan, rule_id):
    rule = rule_for_action(action, plan)
    assert (rule.id if rule else None) == rule_id


# --- the two cases of the issue, checked by hand --------------------------------------------------


def test_denied_urgent_employer_plan_clinical_clock_first():
    call = ended_call(
        plan_type="erisa",
        review_type="pre_service",
        urgency="urgent",
        denial_date="2026-11-18",
        denial_received="2026-11-20",
    )
    plan = suggest_followups(call, now=NOW)
    assert plan.problems == ()
    got = {a: (s.selected, iso(s.computed_due)) for a, s in by_action(plan).items()}
    same_day = "2026-11-23T23:59:59-05:00"  # the call's day (10:00 New York), end of it
    assert got == {
        FollowUpAction.CONFIRMATION: (True, same_day),
        FollowUpAction.EXPEDITED_REVIEW: (True, same_day),
        FollowUpAction.NECESSITY_LETTER: (True, same_day),
        # The expedited appeal covers it: offered, not ticked.
        FollowUpAction.INTERNAL_APPEAL: (False, same_day),
        # 45 CFR 147.136(d)(3): expedited external review alongside the expedited appeal.
        FollowUpAction.EXTERNAL_REVIEW: (True, same_day),
        FollowUpAction.INFORM_PATIENT: (True, same_day),
        # The plan's 72 hours count from the appeal: dated once it is marked sent.
        FollowUpAction.CHASE_PLAN: (True, None),
        FollowUpAction.BENEFIT_EXCEPTION: (False, None),
        FollowUpAction.INSURER_COMPLAINT: (False, None),
        FollowUpAction.ACCREDITOR_GRIEVANCE: (False, None),
        FollowUpAction.REGULATOR_COMPLAINT: (False, None),
    }
    letter = by_action(plan)[FollowUpAction.NECESSITY_LETTER]
    # The legal limit beside it: received 20 Nov 2026 + 180 days = 19 May 2027.
    assert letter.deadline.rule.id == "internal_appeal_filing"
    assert iso(letter.legal_due) == "2027-05-19T23:59:59-04:00"
    assert "29 CFR 2560.503-1(h)(3)(i)" in letter.deadline.reminder
    assert "Check the date on the notice" in letter.deadline.reminder
    # Same-day items first, the waiting chase after them.
    order = [s.action for s in plan.suggestions if s.selected]
    assert order.index(FollowUpAction.EXPEDITED_REVIEW) < order.index(FollowUpAction.CHASE_PLAN)


def test_denied_routine_medicare_advantage_counts_from_the_date_on_the_notice():
    call = ended_call(
        plan_type="medicare_advantage",
        review_type="pre_service",
        urgency="standard",
        denial_date="2026-11-10",
        denial_received="2026-11-16",
    )
    plan = suggest_followups(call, now=NOW)
    actions = by_action(plan)
    appeal = actions[FollowUpAction.INTERNAL_APPEAL]
    # 10 Nov 2026 + 60: 20 (to 30 Nov) + 31 (Dec) = 51, + 9 -> 9 Jan 2027. Not from 16 Nov.
    assert appeal.deadline.rule.id == "ma_reconsideration_request"
    assert iso(appeal.computed_due) == "2027-01-09T23:59:59-05:00"
    assert "42 CFR 422.582(b)" in appeal.deadline.citation
    assert FollowUpAction.EXPEDITED_REVIEW not in actions  # routine, not urgent
    assert FollowUpAction.EXTERNAL_REVIEW not in actions  # MA: the IRE, not external review


def test_medicare_advantage_without_the_notice_date_is_not_guessed_from_receipt():
    call = ended_call(plan_type="medicare_advantage", denial_received="2026-11-16")
    appeal = by_action(suggest_followups(call, now=NOW))[FollowUpAction.INTERNAL_APPEAL]
    assert appeal.deadline is None
    assert "date printed on the notice" in appeal.problem


def test_no_received_date_counts_from_the_date_on_the_notice_and_says_so():
    call = ended_call(plan_type="aca", denial_date="2026-11-18")
    appeal = by_action(suggest_followups(call, now=NOW))[FollowUpAction.INTERNAL_APPEAL]
    # 18 Nov + 180 -> 17 May 2027 (two days before the 20 Nov case above).
    assert iso(appeal.computed_due) == "2027-05-17T23:59:59-04:00"
    assert "no received date" in appeal.caveat


def test_a_final_internal_decision_suggests_external_review_four_months_on():
    call = ended_call(
        plan_type="erisa",
        review_type="appeal",
        stage="final_internal",
        denial_received="2026-10-31",
    )
    actions = by_action(suggest_followups(call, now=NOW))
    external = actions[FollowUpAction.EXTERNAL_REVIEW]
    assert external.selected
    assert iso(external.computed_due) == "2027-03-01T23:59:59-05:00"  # no 31 Feb: 1 March
    assert FollowUpAction.INTERNAL_APPEAL not in actions  # already appealed


def test_an_appeal_under_way_does_not_count_external_review_from_the_first_denial():
    # The notice on file may be the original denial: external review waits for the final one.
    call = ended_call(plan_type="erisa", review_type="appeal", denial_received="2026-10-31")
    actions = by_action(suggest_followups(call, now=NOW))
    assert FollowUpAction.EXTERNAL_REVIEW not in actions  # standard case: not yet
    assert FollowUpAction.INTERNAL_APPEAL not in actions


def test_approved_call_only_ticks_the_written_confirmation():
    plan = suggest_followups(ended_call(Outcome.APPROVED, plan_type="erisa"), now=NOW)
    assert [s.action for s in plan.suggestions if s.selected] == [FollowUpAction.CONFIRMATION]


# --- bad input: messages, and the checklist is still there ----------------------------------


def test_missing_plan_type_gives_a_message_and_the_confirmation_is_still_dated():
    plan = suggest_followups(ended_call(denial_received="2026-11-20"), now=NOW)
    assert any("No plan type" in problem for problem in plan.problems)
    actions = by_action(plan)
    assert iso(actions[FollowUpAction.CONFIRMATION].computed_due) == "2026-11-23T23:59:59-05:00"
    assert actions[FollowUpAction.INTERNAL_APPEAL].selected
    assert actions[FollowUpAction.INTERNAL_APPEAL].deadline is None
    assert "plan type" in actions[FollowUpAction.INTERNAL_APPEAL].problem


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"denial_received": "2026-02-30"}, "Denial received: 2026-02-30 does not exist"),
        ({"denial_date": "2026-11-24"}, "Denial dated: 2026-11-24 is in the future"),
        ({"denial_date": "yesterday"}, "Denial dated: 'yesterday' is not a date"),
        ({"denial_date": "2026-11-20", "denial_received": "2026-11-18"},
         "is before the date on the notice"),
    ],
)  # fmt: skip
def test_bad_dates_become_messages_not_dates(values, message):
    plan = suggest_followups(ended_call(plan_type="erisa", **values), now=NOW)
    assert any(message in problem for problem in plan.problems), plan.problems
    assert len(plan.suggestions) >= 8  # the checklist is still offered


def test_today_in_the_practice_zone_is_not_the_future():
    # 02:00 UTC on 24 Nov is still 23 Nov in New York: a notice dated 24 Nov is in the future.
    late_evening = pendulum.datetime(2026, 11, 24, 2, 0, tz="UTC")
    dates = facts_from_call(ended_call(denial_date="2026-11-24"), now=late_evening)
    assert dates.notice_dated is None
    assert "in the future" in dates.problems[0]


# --- section G: documents to chase ------------------------------------------------------------


def test_promised_documents_become_items_to_chase():
    call = ended_call(
        plan_type="erisa",
        doc_criteria="promised",
        doc_criteria_by="2026-11-27",
        doc_decision="requested",
        doc_decision_by="Friday",
        doc_credentials="received",
        doc_other="Peer's CV",
    )
    chase = [
        s
        for s in suggest_followups(call, now=NOW).suggestions
        if s.action is FollowUpAction.CHASE_DOCUMENTS
    ]
    assert [(s.note, iso(s.promised)) for s in chase] == [
        ("Written decision (requested, by Friday)", None),
        ("Criteria copy (promised, by 2026-11-27)", "2026-11-27T23:59:59-05:00"),
        ("Other: Peer's CV", None),
    ]
    assert all(s.selected for s in chase)
    # "Friday" said on Monday 23 Nov: proposed as Fri 27 Nov, for the user to confirm.
    assert iso(chase[0].proposed.due) == "2026-11-27T23:59:59-05:00"
    assert chase[0].computed_due is None  # never applied silently


# --- due across calls: grouping -----------------------------------------------------------------


def item(fid: int, due) -> DueItem:
    followup = FollowUp(
        id=fid,
        call_id=1,
        action=FollowUpAction.INTERNAL_APPEAL,
        status=FollowUpStatus.PLANNED,
        created_at=NOW,
        computed_due=due,
    )
    return DueItem(followup, "JD", "Acme", NY)


def test_group_due_overdue_today_and_the_next_days():
    local = pendulum.datetime(2026, 11, 23, 10, 0, tz=NY)
    items = [
        item(1, local.subtract(days=2)),  # overdue
        item(2, local.subtract(hours=1)),  # earlier today: overdue
        item(3, local.replace(hour=23, minute=59, second=59)),  # later today
        item(4, local.add(days=1)),
        item(5, pendulum.datetime(2026, 11, 30, 23, 59, 59, tz=NY)),  # 7th day: in
        item(6, pendulum.datetime(2026, 12, 1, 0, 0, 0, tz=NY)),  # 8th day: out
    ]
    report = group_due(items, now=local, tz=NY, within_days=7, undated=2)
    assert [i.followup.id for i in report.overdue] == [1, 2]
    assert [i.followup.id for i in report.today] == [3]
    assert [i.followup.id for i in report.soon] == [4, 5]
    assert report.total == 5 and report.undated == 2


def test_due_text_and_source_name_the_rule_and_the_offset():
    followup = FollowUp(
        id=1,
        call_id=1,
        action=FollowUpAction.INTERNAL_APPEAL,
        status=FollowUpStatus.PLANNED,
        created_at=NOW,
        rule_id="internal_appeal_filing",
        computed_due=pendulum.datetime(2027, 5, 19, 23, 59, 59, tz=NY),
        due_override=pendulum.datetime(2027, 5, 1, 23, 59, 59, tz=NY),
        override_reason="Plan notice says 1 May",
    )
    assert due_text(followup.due, NY) == "Sat 01 May 2027 23:59 -04:00"
    assert due_source(followup) == (
        "rule internal_appeal_filing (29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)); "
        "set by you: Plan notice says 1 May"
    )
    assert "notice" in CHECK_NOTICE


def test_planned_followup_keeps_both_dates():
    planned = PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL, "internal_appeal_filing")
    assert planned.computed_due is None and planned.due_override is None
