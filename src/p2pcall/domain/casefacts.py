"""The facts the follow-up plan is computed from, as plain values.

One small frozen dataclass, filled from a call record (``facts_from_call``) or from the command
line (``p2pcall deadlines``). What the letters ask of a case too (its plan type, review type and
urgency as chosen on the call; adverse, urgent, concurrent) is here once: ``case_choices`` and
``CaseTraits``, which the letters' facts (``letters.facts``) share.

Pure: no Textual, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from p2pcall.domain.deadlines import COMMERCIAL_PLANS
from p2pcall.domain.fields import spec_for
from p2pcall.domain.vocab import Outcome, PlanType, ReviewType, Stage, Urgency, YesNo

if TYPE_CHECKING:
    from p2pcall.domain.models import Call

__all__ = ["CaseFacts", "CaseTraits", "case_choices", "facts_from_call", "local_day"]

# Date fields of the call, read as YYYY-MM-DD; (key, may it be after today?).
DATE_FIELDS: tuple[tuple[str, bool], ...] = (
    ("denial_date", False),
    ("denial_received", False),
    ("sent_to_plan", False),
    ("care_ends", True),
    ("p2p_deadline", True),
)


class CaseTraits:
    """What the follow-up plan and the letters both ask of a case, from its outcome, urgency
    and review type (mixed into their dataclasses, which hold those three)."""

    outcome: Outcome | None
    urgency: Urgency | None
    review_type: ReviewType | None

    @property
    def adverse(self) -> bool:
        return self.outcome in (Outcome.DENIED, Outcome.PARTIAL)

    @property
    def urgent(self) -> bool:
        return self.urgency is Urgency.URGENT

    @property
    def concurrent(self) -> bool:
        return self.review_type is ReviewType.CONCURRENT


def case_choices(call: Call) -> tuple[PlanType | None, ReviewType | None, Urgency | None]:
    """The plan type, review type and urgency as chosen on the call (None: not chosen)."""
    return (
        PlanType.parse(call.value("plan_type")),
        ReviewType.parse(call.value("review_type")),
        Urgency.parse(call.value("urgency")),
    )


@dataclass(frozen=True)
class CaseFacts(CaseTraits):
    """What the deadlines depend on. Times are aware; dates are local dates in ``tz``."""

    tz: str
    plan_type: PlanType | None = None
    review_type: ReviewType | None = None
    urgency: Urgency | None = None
    stage: Stage | None = None
    outcome: Outcome | None = None
    notice_dated: date | None = None  # printed on the notice of the decision named by stage
    notice_received: date | None = None
    sent_to_plan: date | None = None  # the request (or appeal) went to the plan
    care_ends: date | None = None  # last day of care the plan has authorized
    grandfathered: bool | None = None  # None: not known (treated as not grandfathered)
    part_b_drug: bool = False  # Medicare Advantage: the request is for a Part B drug
    p2p_window: int | None = None  # business days to ask for the peer-to-peer call
    p2p_request_by: date | None = None  # the date the notice gives for it, when typed
    scheduled_for: datetime | None = None
    prepared_at: datetime | None = None  # the call record was created (preparation began)
    connected_at: datetime | None = None  # the reviewer was on the line
    ended_at: datetime | None = None
    reviewer_window: datetime | None = None  # earliest dated commitment the user confirmed
    problems: tuple[str, ...] = field(default=())

    @property
    def commercial(self) -> bool:
        return self.plan_type in COMMERCIAL_PLANS

    @property
    def clinical_first(self) -> bool:
        """Urgent or concurrent: the patient's care sets the pace, not the outer limits."""
        return self.urgent or self.concurrent

    @property
    def effective_stage(self) -> Stage:
        """The stage as typed; an 'appeal' review type without a stage is an appeal under way."""
        if self.stage is not None:
            return self.stage
        if self.review_type is ReviewType.APPEAL:
            return Stage.INTERNAL_APPEAL
        return Stage.INITIAL

    def with_reviewer_window(self, moment: datetime | None) -> CaseFacts:
        return replace(self, reviewer_window=moment)


def local_day(moment: datetime, tz: str) -> date:
    import pendulum

    return pendulum.instance(moment).in_timezone(tz).date()


def facts_from_call(call: Call, *, now: datetime) -> CaseFacts:
    """The facts of a call; unreadable dates become messages in ``problems``, never guesses."""
    from p2pcall.domain.typed_dates import DateEntryError, parse_typed_date

    today = local_day(now, call.tz)
    problems: list[str] = []
    days: dict[str, date | None] = {}
    for key, future_ok in DATE_FIELDS:
        try:
            days[key] = parse_typed_date(
                call.value(key), spec_for(key).label, today=today, allow_future=future_ok
            )
        except DateEntryError as exc:
            if key != "p2p_deadline" or _looks_like_date(call.value(key)):
                problems.append(str(exc))
            days[key] = None
    dated, received = days["denial_date"], days["denial_received"]
    if dated and received and received < dated:
        problems.append(
            f"Denial received ({received.isoformat()}) is before the date on the notice "
            f"({dated.isoformat()}). Check both dates."
        )
    plan, review_type, urgency = case_choices(call)
    if plan is None:
        problems.append(
            "No plan type: appeal and review deadlines depend on it. Press e to set it "
            "(you can also save the checklist without dates)."
        )
    return CaseFacts(
        tz=call.tz,
        plan_type=plan,
        review_type=review_type,
        urgency=urgency,
        stage=Stage.parse(call.value("stage")),
        outcome=call.outcome,
        notice_dated=dated,
        notice_received=received,
        sent_to_plan=days["sent_to_plan"],
        care_ends=days["care_ends"],
        grandfathered=_yes_no(call.value("grandfathered")),
        part_b_drug=_yes_no(call.value("part_b_drug")) is True,
        p2p_window=_window(call.value("p2p_window"), problems),
        p2p_request_by=days["p2p_deadline"],
        prepared_at=call.created_at,
        connected_at=call.started_at,
        ended_at=call.ended_at,
        problems=tuple(problems),
    )


def _looks_like_date(text: str) -> bool:
    return bool(text.strip()) and text.strip()[:1].isdigit() and "-" in text


def _yes_no(value: str) -> bool | None:
    member = YesNo.parse(value)
    if member is YesNo.YES:
        return True
    if member is YesNo.NO:
        return False
    return None


def _window(text: str, problems: list[str]) -> int | None:
    from p2pcall.domain.deadlines import MAX_BUSINESS_DAYS

    text = text.strip().lower().removesuffix("business days").removesuffix("days").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_BUSINESS_DAYS:
        problems.append(
            f"P2P window: '{text[:12]}' is not a number of business days (1 to "
            f"{MAX_BUSINESS_DAYS}); the notice gives it."
        )
        return None
    return int(text)
