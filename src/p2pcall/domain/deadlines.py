"""Deadline rules after a peer-to-peer call: rules as data, a few small functions to apply them.

Every computed date is advice. The rule and its citation travel with the date so the screen can
show where it came from, and the user is always told to check the date printed on the notice
(notices, plan documents and state law can give more time, or count from a different day).

How clocks are counted (the same for every rule of a kind):

- Hour clocks are exact elapsed hours. A 72-hour clock that crosses a daylight-saving change is
  still 72 real hours, so the local wall-clock time of the due moment moves by an hour.
- Calendar-day, month and business-day clocks count whole days from the local date of the start
  event in the practice's time zone (the start day itself is day 0), and end at 23:59:59 local
  time on the due day. Nothing rolls forward off a weekend: none of the cited rules says so.
- Month clocks land on the same day number; when that day does not exist in the target month the
  deadline is the first day of the following month (31 October + 4 months -> 1 March), as the
  federal external review guidance says.
- Business-day clocks skip Saturdays, Sundays and the holidays the caller passes in.

pendulum is imported inside the functions that need it (see ``p2pcall.domain``): importing this
module must stay cheap, and it never imports Textual or the database layer.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from p2pcall.domain.timefmt import end_of_day
from p2pcall.domain.vocab import LabelledEnum, PlanType, ReviewType, Urgency

if TYPE_CHECKING:
    from pendulum import DateTime

__all__ = [
    "MAX_BUSINESS_DAYS",
    "RULES",
    "Clock",
    "Deadline",
    "DeadlineInputError",
    "MissingPlanTypeError",
    "NaiveDatetimeError",
    "PriorClock",
    "Responsible",
    "Rule",
    "StartEvent",
    "StartInFutureError",
    "UnknownTimeZoneError",
    "UserDate",
    "add_business_days",
    "add_months_or_next_first",
    "applicable_rules",
    "compute_deadline",
    "get_rule",
    "user_date_reason",
]

# Upper bound on a user-entered business-day window: insurer windows are a few days, so a
# three-digit figure is almost certainly a typo and should be questioned, not computed.
MAX_BUSINESS_DAYS = 60

_E = TypeVar("_E", bound=LabelledEnum)


# --------------------------------------------------------------------------------------------
# Errors: ValueError subclasses whose messages can be shown to a clinician as they are.


class DeadlineInputError(ValueError):
    """Input a deadline cannot be computed from; the message is written for the user."""


class MissingPlanTypeError(DeadlineInputError):
    """No plan type: the deadlines differ completely between plan types, so none is guessed."""


class NaiveDatetimeError(DeadlineInputError):
    """A date and time without a time zone, which could put a deadline off by hours."""


class StartInFutureError(DeadlineInputError):
    """A start event (notice received, request received...) dated after now."""


class UnknownTimeZoneError(DeadlineInputError):
    """A practice time zone name the time zone database does not know."""


# --------------------------------------------------------------------------------------------
# Vocabulary of the rules.


class Clock(LabelledEnum):
    HOURS = "hours", "hours"
    CALENDAR_DAYS = "calendar_days", "calendar days"
    MONTHS = "months", "months"
    BUSINESS_DAYS = "business_days", "business days"


class StartEvent(LabelledEnum):
    NOTICE_RECEIVED = "notice_received", "Adverse determination notice received"
    # Some clocks run from the date printed on the notice, however late it arrived.
    NOTICE_DATED = "notice_dated", "Date printed on the adverse determination notice"
    FINAL_INTERNAL_DENIAL = "final_internal_denial", "Final internal adverse determination received"
    CALL_END = "call_end", "End of the peer-to-peer call"
    REQUEST_RECEIVED = "request_received", "Request or appeal received by the plan"


class Responsible(LabelledEnum):
    """Whose deadline it is: something the user must do, or a decision owed to the user."""

    CLINICIAN = "clinician", "You or the patient must act by"
    PLAN = "plan", "The plan must decide by"
    # External review decisions are made by an independent review organization, not the plan.
    INDEPENDENT_REVIEWER = "independent_reviewer", "The independent reviewer must decide by"


@dataclass(frozen=True, slots=True)
class PriorClock:
    """An earlier length of a rule's clock, used when the start date is before ``before``."""

    before: date
    amount: int


@dataclass(frozen=True, slots=True)
class Rule:
    """One deadline rule. ``amount`` is None only where the user supplies it (insurer windows)."""

    id: str
    title: str
    plan_types: frozenset[PlanType]
    review_types: frozenset[ReviewType]
    urgencies: frozenset[Urgency]
    clock: Clock
    amount: int | None
    starts_from: StartEvent
    citation: str
    responsible: Responsible
    note: str = ""
    # Older clock lengths, oldest first; the start date picks which one applies.
    prior_clocks: tuple[PriorClock, ...] = ()
    # A one-time extension the plan may take (it must tell you in writing before the due date).
    extension_days: int = 0
    extension_citation: str = ""
    # Where the figure and citation were checked: "text" (against the regulation's or CMS's
    # own words, see the README) or "design" (taken from design.md, not re-checked).
    checked: str = "design"

    @property
    def user_sets_amount(self) -> bool:
        return self.amount is None

    def applies_to(
        self, plan_type: PlanType, review_type: ReviewType | None, urgency: Urgency | None
    ) -> bool:
        """True for this plan type; a missing review type or urgency does not filter."""
        return (
            plan_type in self.plan_types
            and (review_type is None or review_type in self.review_types)
            and (urgency is None or urgency in self.urgencies)
        )

    def amount_on(self, start_day: date) -> int | None:
        """The clock length for a start event on ``start_day`` (local date)."""
        for prior in self.prior_clocks:
            if start_day < prior.before:
                return prior.amount
        return self.amount

    def clock_text(self, amount: int | None = None) -> str:
        """'72 hours', '180 calendar days'; the insurer's window when the user sets it."""
        amount = self.amount if amount is None else amount
        if amount is None:
            return f"the insurer's window in {self.clock.label}"
        if amount == 0 and self.clock is Clock.CALENDAR_DAYS:
            return "the same day"
        unit = self.clock.label if amount != 1 else self.clock.label.removesuffix("s")
        return f"{amount} {unit}"


# --------------------------------------------------------------------------------------------
# The rule table (design.md section 3). Titles are our own words; citations are the sources.

_ALL_PLANS = frozenset(PlanType)
# 29 CFR 2560.503-1 binds ERISA plans; 45 CFR 147.136(b) applies it to non-grandfathered group
# and individual coverage, which includes marketplace plans.
COMMERCIAL_PLANS = frozenset({PlanType.ERISA, PlanType.ACA, PlanType.MARKETPLACE})
# Marketplace initial decisions have their own rows below (the design table lists them apart).
_ERISA_ACA = frozenset({PlanType.ERISA, PlanType.ACA})
_MA = frozenset({PlanType.MEDICARE_ADVANTAGE})
_MEDICAID = frozenset({PlanType.MEDICAID_MANAGED})
_CHIP = frozenset({PlanType.CHIP_MANAGED})
# CHIP managed care uses Medicaid's appeal rules (42 CFR 457.1260 applies part 438 subpart F,
# except continued benefits in 438.420, and its state review replaces the fair hearing).
_MEDICAID_CHIP = frozenset({PlanType.MEDICAID_MANAGED, PlanType.CHIP_MANAGED})
_MARKETPLACE = frozenset({PlanType.MARKETPLACE})

_ALL_REVIEWS = frozenset(ReviewType)
_DETERMINATIONS = frozenset(
    {ReviewType.PRE_SERVICE, ReviewType.CONCURRENT, ReviewType.RETROSPECTIVE}
)
# A non-urgent request to extend a concurrent course of care is a pre-service claim.
_PRE_SERVICE = frozenset({ReviewType.PRE_SERVICE, ReviewType.CONCURRENT})
_POST_SERVICE = frozenset({ReviewType.RETROSPECTIVE})
_APPEAL_PRE = frozenset({ReviewType.PRE_SERVICE, ReviewType.CONCURRENT, ReviewType.APPEAL})
_APPEAL_POST = frozenset({ReviewType.RETROSPECTIVE, ReviewType.APPEAL})

_ANY_URGENCY = frozenset(Urgency)
_URGENT = frozenset({Urgency.URGENT})
_STANDARD = frozenset({Urgency.STANDARD})

# CMS-0057-F shortened standard prior-authorization decisions from 14 to 7 calendar days.
_CMS_0057_F_START = date(2026, 1, 1)

RULES: tuple[Rule, ...] = (
    Rule(
        id="p2p_request_window",
        title="Ask for the peer-to-peer call",
        plan_types=_ALL_PLANS,
        review_types=_ALL_REVIEWS,
        urgencies=_ANY_URGENCY,
        clock=Clock.BUSINESS_DAYS,
        amount=None,
        starts_from=StartEvent.NOTICE_RECEIVED,
        citation="Insurer provider manual or contract (enter the window it gives)",
        responsible=Responsible.CLINICIAN,
        note="Contractual, not regulatory: often a few business days after the denial.",
    ),
    Rule(
        id="act_same_day",
        title="Do it on the day of the call",
        plan_types=_ALL_PLANS,
        review_types=_ALL_REVIEWS,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=0,
        starts_from=StartEvent.CALL_END,
        citation="Practice guidance, not a regulation",
        responsible=Responsible.CLINICIAN,
        note="Confirm the call in writing straight after it; when care is urgent, ask for "
        "expedited review at once. No regulation sets this date.",
    ),
    Rule(
        id="internal_appeal_filing",
        title="File the internal appeal",
        plan_types=COMMERCIAL_PLANS,
        review_types=_DETERMINATIONS,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=180,
        starts_from=StartEvent.NOTICE_RECEIVED,
        citation="29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)",
        responsible=Responsible.CLINICIAN,
        note="The rules require at least 180 days; the plan may allow more.",
    ),
    Rule(
        id="initial_decision_urgent",
        title="Plan decides an urgent care request",
        plan_types=_ERISA_ACA,
        review_types=_PRE_SERVICE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(f)(2)(i); 45 CFR 147.136(b)",
        responsible=Responsible.PLAN,
        note="A treating physician's statement that the case is urgent must be honoured.",
    ),
    Rule(
        id="initial_decision_pre_service",
        title="Plan decides a pre-service request",
        plan_types=_ERISA_ACA,
        review_types=_PRE_SERVICE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=15,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(f)(2)(iii)(A); 45 CFR 147.136(b)",
        responsible=Responsible.PLAN,
        note="The plan may take one 15-day extension if it tells you before this date.",
        extension_days=15,
        extension_citation="29 CFR 2560.503-1(f)(2)(iii)(A)",
    ),
    Rule(
        id="initial_decision_post_service",
        title="Plan decides a post-service claim",
        plan_types=COMMERCIAL_PLANS,
        review_types=_POST_SERVICE,
        urgencies=_ANY_URGENCY,  # post-service claims are never urgent; do not hide the rule
        clock=Clock.CALENDAR_DAYS,
        amount=30,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(f)(2)(iii)(B); 45 CFR 147.136(b)",
        responsible=Responsible.PLAN,
        note="The plan may take one 15-day extension if it tells you before this date.",
        extension_days=15,
        extension_citation="29 CFR 2560.503-1(f)(2)(iii)(B)",
    ),
    Rule(
        id="concurrent_extension_decision",
        title="Plan decides an urgent request to extend ongoing care",
        plan_types=COMMERCIAL_PLANS,
        review_types=frozenset({ReviewType.CONCURRENT}),
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=24,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(f)(2)(ii)",
        responsible=Responsible.PLAN,
        note="Only when asked at least 24 hours before the approved period ends.",
    ),
    Rule(
        id="internal_appeal_decision_urgent",
        title="Plan decides an urgent appeal",
        plan_types=COMMERCIAL_PLANS,
        review_types=_APPEAL_PRE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(i)(2)(i); 45 CFR 147.136(b)(2)(ii)(B)",
        responsible=Responsible.PLAN,
    ),
    Rule(
        id="internal_appeal_decision_pre_service",
        title="Plan decides a pre-service appeal",
        plan_types=COMMERCIAL_PLANS,
        review_types=_APPEAL_PRE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=30,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(i)(2)(ii); 45 CFR 147.136(b)(2)(ii)(B)",
        responsible=Responsible.PLAN,
    ),
    Rule(
        id="internal_appeal_decision_post_service",
        title="Plan decides a post-service appeal",
        plan_types=COMMERCIAL_PLANS,
        review_types=_APPEAL_POST,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=60,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="29 CFR 2560.503-1(i)(2)(iii); 45 CFR 147.136(b)(2)(ii)(B)",
        responsible=Responsible.PLAN,
    ),
    Rule(
        id="external_review_request",
        title="Ask for external review",
        plan_types=COMMERCIAL_PLANS,
        review_types=_ALL_REVIEWS,
        urgencies=_ANY_URGENCY,
        clock=Clock.MONTHS,
        amount=4,
        starts_from=StartEvent.FINAL_INTERNAL_DENIAL,
        citation="45 CFR 147.136(d)",
        responsible=Responsible.CLINICIAN,
        note="No matching day 4 months on: the first day of the month after. A state process "
        "may differ; the notice names the process. Grandfathered plans are outside this rule "
        "(29 CFR 2590.715-2719(a)(1)(ii)): check state law.",
    ),
    Rule(
        id="external_review_decision_standard",
        title="Independent reviewer decides a standard external review",
        plan_types=COMMERCIAL_PLANS,
        review_types=_ALL_REVIEWS,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=45,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="45 CFR 147.136(d)",
        responsible=Responsible.INDEPENDENT_REVIEWER,
    ),
    Rule(
        id="external_review_decision_expedited",
        title="Independent reviewer decides an expedited external review",
        plan_types=COMMERCIAL_PLANS,
        review_types=_ALL_REVIEWS,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="45 CFR 147.136(d)",
        responsible=Responsible.INDEPENDENT_REVIEWER,
    ),
    Rule(
        id="ma_reconsideration_request",
        title="Ask the Medicare Advantage plan to reconsider",
        plan_types=_MA,
        review_types=_DETERMINATIONS,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=60,
        # 422.582(b) counts from the date of the notice, not from when it reached you.
        starts_from=StartEvent.NOTICE_DATED,
        citation="42 CFR 422.582(b); CMS Part C reconsideration page",
        responsible=Responsible.CLINICIAN,
        note="60 days from the date printed on the notice (CMS's Part C page). Some sources "
        "read the guidance effective 2025 as 65 days from that date (60 from receipt, presumed "
        "5 days after it): p2pcall uses the earlier date, which is safe either way. The plan "
        "may accept a late request for good cause.",
        checked="text",
    ),
    Rule(
        id="ma_org_determination_expedited",
        title="Medicare Advantage plan decides an expedited request",
        plan_types=_MA,
        review_types=_PRE_SERVICE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 422.572; CMS-0057-F",
        responsible=Responsible.PLAN,
        extension_days=14,
        extension_citation="42 CFR 422.572(b)",
    ),
    Rule(
        id="ma_org_determination_standard",
        title="Medicare Advantage plan decides a standard request",
        plan_types=_MA,
        review_types=_PRE_SERVICE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=7,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 422.568; CMS-0057-F",
        responsible=Responsible.PLAN,
        extension_days=14,
        extension_citation="42 CFR 422.568(b)",
        note="7 calendar days for requests received from 1 Jan 2026; 14 before.",
        prior_clocks=(PriorClock(before=_CMS_0057_F_START, amount=14),),
    ),
    Rule(
        id="medicaid_prior_auth_expedited",
        title="Medicaid managed care plan decides an expedited prior authorization",
        plan_types=_MEDICAID,
        review_types=_PRE_SERVICE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 438.210(d)(2); CMS-0057-F",
        extension_days=14,
        extension_citation="42 CFR 438.210(d)(2)(ii)",
        responsible=Responsible.PLAN,
    ),
    Rule(
        id="medicaid_prior_auth_standard",
        title="Medicaid managed care plan decides a standard prior authorization",
        plan_types=_MEDICAID,
        review_types=_PRE_SERVICE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=7,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 438.210(d)(1); CMS-0057-F",
        extension_days=14,
        extension_citation="42 CFR 438.210(d)(1)(ii)",
        responsible=Responsible.PLAN,
        # CMS-0057-F ties the change to rating periods starting on or after 1 Jan 2026, which
        # some state contracts start later in the year.
        note="7 calendar days for requests received from 1 Jan 2026; 14 before. Your state's "
        "contract year may start the 7-day rule later.",
        prior_clocks=(PriorClock(before=_CMS_0057_F_START, amount=14),),
    ),
    Rule(
        id="marketplace_decision_standard",
        title="Marketplace plan decides a standard pre-service request",
        plan_types=_MARKETPLACE,
        review_types=_PRE_SERVICE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=15,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="45 CFR 147.136",
        responsible=Responsible.PLAN,
        note="Marketplace plans are outside CMS-0057-F's 7-day rule.",
    ),
    Rule(
        id="marketplace_decision_urgent",
        title="Marketplace plan decides an urgent request",
        plan_types=_MARKETPLACE,
        review_types=_PRE_SERVICE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="45 CFR 147.136",
        responsible=Responsible.PLAN,
    ),
    # --- Medicare Advantage reconsideration decisions (42 CFR 422.590). When the plan upholds
    # its denial in whole or part it must send the case file to the independent review entity
    # itself, within the same clock (422.590(a)(2), (b)(2); 422.592): the enrollee files nothing.
    Rule(
        id="ma_reconsideration_decision_expedited",
        title="Medicare Advantage plan decides an expedited reconsideration",
        plan_types=_MA,
        review_types=_APPEAL_PRE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 422.590 (expedited); 422.584",
        responsible=Responsible.PLAN,
        note="If it upholds the denial, the plan must send the case to the independent review "
        "entity itself (42 CFR 422.592).",
        extension_days=14,
        extension_citation="42 CFR 422.590 (extensions)",
        checked="text",
    ),
    Rule(
        id="ma_reconsideration_decision_standard",
        title="Medicare Advantage plan decides a standard pre-service reconsideration",
        plan_types=_MA,
        review_types=_APPEAL_PRE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=30,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 422.590(a)(1)-(2)",
        responsible=Responsible.PLAN,
        note="If it upholds the denial, the plan must send the case file to the independent "
        "review entity by the same date (422.590(a)(2)).",
        extension_days=14,
        extension_citation="42 CFR 422.590 (extensions)",
        checked="text",
    ),
    Rule(
        id="ma_reconsideration_decision_part_b_drug",
        title="Medicare Advantage plan decides a standard Part B drug reconsideration",
        plan_types=_MA,
        review_types=_APPEAL_PRE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=7,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 422.590 (Part B drugs); CMS Part C reconsideration page",
        responsible=Responsible.PLAN,
        note="No extension for Part B drug requests.",
        checked="text",
    ),
    Rule(
        id="ma_reconsideration_decision_payment",
        title="Medicare Advantage plan decides a payment reconsideration",
        plan_types=_MA,
        review_types=_APPEAL_POST,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=60,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 422.590(b)(1)-(2)",
        responsible=Responsible.PLAN,
        note="If it upholds the denial, the plan must send the case file to the independent "
        "review entity by the same date (422.590(b)(2)).",
        checked="text",
    ),
    # --- Medicaid and CHIP managed care appeals (42 CFR part 438 subpart F; CHIP via 457.1260).
    Rule(
        id="medicaid_appeal_filing",
        title="File the appeal with the Medicaid/CHIP managed care plan",
        plan_types=_MEDICAID_CHIP,
        review_types=_DETERMINATIONS,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=60,
        starts_from=StartEvent.NOTICE_DATED,
        citation="42 CFR 438.402(c)(2)(ii) (CHIP: 457.1260)",
        responsible=Responsible.CLINICIAN,
        note="60 calendar days from the date on the notice. A provider files for the patient "
        "with the patient's written consent (438.402(c)(1)(ii)).",
    ),
    Rule(
        id="medicaid_appeal_decision_standard",
        title="Medicaid/CHIP managed care plan resolves a standard appeal",
        plan_types=_MEDICAID_CHIP,
        review_types=_ALL_REVIEWS,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=30,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 438.408(b)(2) (CHIP: 457.1260)",
        responsible=Responsible.PLAN,
        note="Your state may set a shorter time. A plan that misses it is deemed to have "
        "upheld the denial: you may go to the state fair hearing (438.408(c)(3)).",
        extension_days=14,
        extension_citation="42 CFR 438.408(c)",
    ),
    Rule(
        id="medicaid_appeal_decision_expedited",
        title="Medicaid/CHIP managed care plan resolves an expedited appeal",
        plan_types=_MEDICAID_CHIP,
        review_types=_ALL_REVIEWS,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 438.408(b)(3); 438.410 (CHIP: 457.1260)",
        responsible=Responsible.PLAN,
        note="A provider's statement that waiting could seriously jeopardize the patient "
        "makes the plan expedite (438.410(a)).",
        extension_days=14,
        extension_citation="42 CFR 438.408(c)",
    ),
    Rule(
        id="medicaid_fair_hearing_request",
        title="Ask for the state fair hearing",
        plan_types=_MEDICAID,
        review_types=_ALL_REVIEWS,
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=120,
        starts_from=StartEvent.NOTICE_DATED,
        citation="42 CFR 438.408(f)(2)",
        responsible=Responsible.CLINICIAN,
        note="120 calendar days from the date of the plan's notice resolving the appeal. "
        "Your state may allow more, never less.",
    ),
    Rule(
        id="medicaid_continued_benefits",
        title="Ask that care continue during the Medicaid appeal",
        plan_types=_MEDICAID,
        review_types=frozenset({ReviewType.CONCURRENT, ReviewType.APPEAL}),
        urgencies=_ANY_URGENCY,
        clock=Clock.CALENDAR_DAYS,
        amount=10,
        starts_from=StartEvent.NOTICE_DATED,
        citation="42 CFR 438.420(a)-(b)",
        responsible=Responsible.CLINICIAN,
        note="Timely means within 10 days of the plan mailing the notice or by the date the "
        "cut takes effect, whichever is later; counted here from the date on the notice "
        "(earlier, so safe). Only for care already authorized and being cut or ended.",
        checked="text",
    ),
    Rule(
        id="chip_prior_auth_expedited",
        title="CHIP managed care plan decides an expedited prior authorization",
        plan_types=_CHIP,
        review_types=_PRE_SERVICE,
        urgencies=_URGENT,
        clock=Clock.HOURS,
        amount=72,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 457.1230(d) (applying 438.210(d)(2)); CMS-0057-F",
        responsible=Responsible.PLAN,
        extension_days=14,
        extension_citation="42 CFR 457.1230(d); 438.210(d)(2)(ii)",
        checked="text",
    ),
    Rule(
        id="chip_prior_auth_standard",
        title="CHIP managed care plan decides a standard prior authorization",
        plan_types=_CHIP,
        review_types=_PRE_SERVICE,
        urgencies=_STANDARD,
        clock=Clock.CALENDAR_DAYS,
        amount=7,
        starts_from=StartEvent.REQUEST_RECEIVED,
        citation="42 CFR 457.1230(d) (applying 438.210(d)(1)); CMS-0057-F",
        responsible=Responsible.PLAN,
        note="7 calendar days for requests received from 1 Jan 2026; 14 before. Your state's "
        "contract year may start the 7-day rule later.",
        prior_clocks=(PriorClock(before=_CMS_0057_F_START, amount=14),),
        extension_days=14,
        extension_citation="42 CFR 457.1230(d); 438.210(d)(1)(ii)",
        checked="text",
    ),
)

_RULES_BY_ID = {rule.id: rule for rule in RULES}


def get_rule(rule_id: str) -> Rule:
    """The rule with a stored id; DeadlineInputError when the id is unknown (e.g. retired)."""
    try:
        return _RULES_BY_ID[rule_id]
    except KeyError:
        raise DeadlineInputError(f"Unknown deadline rule {rule_id!r}.") from None


def applicable_rules(
    plan_type: PlanType | str | None,
    review_type: ReviewType | str | None = None,
    urgency: Urgency | str | None = None,
) -> list[Rule]:
    """The rules that apply to a call, in table order.

    A missing plan type raises MissingPlanTypeError (it is never guessed: the regimes differ
    completely). A missing review type or urgency does not filter, so the user sees every rule
    that could apply rather than none. ``PlanType.OTHER`` gets only the insurer's own window.
    """
    if not plan_type:
        raise MissingPlanTypeError(
            "Choose the plan type first (employer/ERISA, ACA, marketplace, Medicare Advantage, "
            "Medicaid): the deadlines depend on it."
        )
    plan = _coerce(PlanType, plan_type, "plan type")
    review = _coerce(ReviewType, review_type, "review type") if review_type else None
    urgent = _coerce(Urgency, urgency, "urgency") if urgency else None
    return [rule for rule in RULES if rule.applies_to(plan, review, urgent)]


def _coerce(enum: type[_E], value: _E | str, what: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        raise DeadlineInputError(f"Unknown {what} {value!r}.") from None


# --------------------------------------------------------------------------------------------
# Computed deadlines and user overrides.


REASON_NEEDED = (
    "Say why you change the computed date (for example: 'notice gives 12 May'); "
    "it is kept beside it."
)


def user_date_reason(due: datetime | None, computed: datetime | None, reason: str | None) -> str:
    """The reason for a date the user set, stripped. A date that replaces a computed one (a
    rule's) needs a reason, so the record says why; the computed date is kept beside it."""
    reason = (reason or "").strip()
    if due is not None and computed is not None and not reason:
        raise DeadlineInputError(REASON_NEEDED)
    return reason


@dataclass(frozen=True, slots=True)
class UserDate:
    """A due date the user set for a follow-up, and why (the reason may be empty only where
    there is no computed date: see `user_date_reason`)."""

    due: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.due, "The due date")
        object.__setattr__(self, "reason", (self.reason or "").strip())

    @classmethod
    def on_day(cls, day: date, tz: str, reason: str = "") -> UserDate:
        """A bare date: the day runs out at 23:59:59 local time."""
        return cls(end_of_day(day, tz), reason)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed due moment with the rule behind it."""

    rule: Rule
    start: datetime  # the start event, in the practice's time zone
    due: datetime  # computed; aware, in the practice's time zone
    amount: int  # the clock length actually applied (e.g. 14 or 7 days)
    tz: str
    reminder: str

    @property
    def citation(self) -> str:
        return self.rule.citation

    @property
    def clock_text(self) -> str:
        return self.rule.clock_text(self.amount)


def compute_deadline(
    rule: Rule,
    start: datetime,
    tz: str,
    *,
    now: datetime | None = None,
    business_days: int | None = None,
    holidays: Iterable[date] = (),
) -> Deadline:
    """Compute when ``rule`` falls due for a start event at ``start``.

    ``start`` must be aware and not after ``now`` (default: the current time). ``tz`` is the
    practice's IANA time zone: calendar-day, month and business-day clocks end at 23:59:59 local
    time on the due day there; hour clocks are exact elapsed hours. ``business_days`` is
    required for rules whose window the user enters, and refused for the others so a typed
    number is never silently ignored. ``holidays`` are local dates a business-day clock skips.
    """
    import pendulum

    zone = _zone_name(tz)
    _require_aware(start, "The start date")
    now = pendulum.now("UTC") if now is None else now
    _require_aware(now, "The current time")
    local_start = pendulum.instance(start).in_timezone(zone)
    if local_start > now:
        raise StartInFutureError(
            f"The date entered for '{rule.starts_from.label.lower()}' "
            f"({local_start.format('D MMM YYYY HH:mm')}) is in the future. "
            "Enter when it actually happened."
        )
    start_day = date(local_start.year, local_start.month, local_start.day)

    amount = _amount(rule, start_day, business_days)
    if rule.clock is Clock.HOURS:
        # Elapsed time: add in UTC so a daylight-saving change cannot stretch or shrink it.
        due = local_start.in_timezone("UTC").add(hours=amount).in_timezone(zone)
    elif rule.clock is Clock.CALENDAR_DAYS:
        due = end_of_day(start_day + timedelta(days=amount), zone)
    elif rule.clock is Clock.MONTHS:
        due = end_of_day(add_months_or_next_first(start_day, amount), zone)
    else:
        due = end_of_day(add_business_days(start_day, amount, holidays), zone)

    return Deadline(
        rule=rule,
        start=local_start,
        due=due,
        amount=amount,
        tz=zone,
        reminder=_reminder(rule, local_start),
    )


def add_months_or_next_first(start: date, months: int) -> date:
    """Same day number ``months`` later, or the 1st of the next month when that day is missing.

    45 CFR 147.136(d) guidance: no 30 February after 30 October, so the request is due 1 March.
    (Unlike pendulum's ``add(months=...)``, which would clamp to 28/29 February.)
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    if start.day <= calendar.monthrange(year, month)[1]:
        return date(year, month, start.day)
    return date(year + month // 12, month % 12 + 1, 1)


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The ``days``-th Monday-to-Friday non-holiday date after ``start`` (start is day 0)."""
    closed = {date(h.year, h.month, h.day) for h in holidays}
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in closed:
            remaining -= 1
    return current


def _amount(rule: Rule, start_day: date, business_days: int | None) -> int:
    if not rule.user_sets_amount:
        if business_days is not None:
            raise DeadlineInputError(
                f"'{rule.title}' has a fixed clock ({rule.clock_text()}); "
                "a number of business days does not apply."
            )
        amount = rule.amount_on(start_day)
        assert amount is not None  # only user-set rules have no amount
        return amount
    if business_days is None:
        raise DeadlineInputError(
            f"Enter the number of business days the insurer allows for '{rule.title}'."
        )
    if isinstance(business_days, bool) or not isinstance(business_days, int):
        raise DeadlineInputError("The number of business days must be a whole number.")
    if not 1 <= business_days <= MAX_BUSINESS_DAYS:
        raise DeadlineInputError(
            f"The number of business days must be between 1 and {MAX_BUSINESS_DAYS}; "
            f"got {business_days}."
        )
    return business_days


def _reminder(rule: Rule, local_start: DateTime) -> str:
    return (
        f"Advice only, counted from the {rule.starts_from.label.lower()} on "
        f"{local_start.format('D MMM YYYY')} ({rule.citation}). Check the date on the notice; "
        "if it gives a different date, override this one and say why."
    )


def _zone_name(tz: str) -> str:
    import pendulum

    if not tz or not isinstance(tz, str):
        raise UnknownTimeZoneError(
            "Set the practice's time zone (for example America/New_York) to compute deadlines."
        )
    try:
        return pendulum.timezone(tz).name
    except (ValueError, OSError):  # pendulum's InvalidTimezone is a ValueError
        raise UnknownTimeZoneError(
            f"Unknown time zone {tz!r}. Use a name like America/New_York."
        ) from None


def _require_aware(moment: object, what: str) -> None:
    if not isinstance(moment, datetime):
        raise DeadlineInputError(f"{what} needs a date and a time.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{what} has no time zone, so the deadline could be off by hours. "
            "Enter it with the practice's time zone."
        )
