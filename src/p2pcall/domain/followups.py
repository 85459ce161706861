"""After the call: which follow-ups to suggest, and when each falls due.

Pure domain (no Textual, no database). The deadline rules live in ``deadlines``; this module
says which rule gives an action its due date and which of the call's dates starts its clock,
parses the dates the user typed, and turns the outcome, urgency and section G into a
checklist. Problems with the input (an impossible date, a denial date in the future, no plan
type) come back as messages: the user can always save the checklist without the dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from p2pcall.domain.deadlines import (
    Deadline,
    DeadlineInputError,
    Rule,
    StartEvent,
    compute_deadline,
    get_rule,
)
from p2pcall.domain.fields import spec_for
from p2pcall.domain.text import one_line
from p2pcall.domain.vocab import (
    DocStatus,
    FollowUpAction,
    FollowUpStatus,
    Outcome,
    PlanType,
    ReviewType,
    Urgency,
    YesNo,
)

if TYPE_CHECKING:
    from p2pcall.domain.models import Call, FollowUp

__all__ = [
    "CHECK_NOTICE",
    "DOCUMENT_FIELDS",
    "CallDates",
    "DateEntryError",
    "Suggestion",
    "WrapUpPlan",
    "call_dates",
    "due_source",
    "end_of_day",
    "parse_typed_date",
    "rule_for_action",
    "suggest_followups",
]

CHECK_NOTICE = "Check the date on the notice: it wins over this advice."
PROMISED_REASON = "Date the reviewer promised on the call (section G)"

_COMMERCIAL = frozenset({PlanType.ERISA, PlanType.ACA, PlanType.MARKETPLACE})
_ADVERSE = frozenset({Outcome.DENIED, Outcome.PARTIAL})
# (status field, "by when" field) of each document asked for in section G.
DOCUMENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("doc_decision", "doc_decision_by"),
    ("doc_criteria", "doc_criteria_by"),
    ("doc_credentials", "doc_credentials_by"),
)
_STILL_OWED = frozenset({DocStatus.REQUESTED, DocStatus.PROMISED})
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


class DateEntryError(DeadlineInputError):
    """A typed date that cannot be used; the message names the field and says why."""


def parse_typed_date(
    text: str | None, label: str, *, today: date | None = None, allow_future: bool = True
) -> date | None:
    """A YYYY-MM-DD date typed by the user; None when the field is empty.

    Raises DateEntryError for text that is not a date, for impossible dates (30 February)
    and, unless ``allow_future``, for a date after ``today``.
    """
    if text is None or not text.strip():
        return None
    match = _ISO_DAY.match(text)
    if match is None:
        raise DateEntryError(
            f"{label}: '{one_line(text, 20)}' is not a date. Type it as YYYY-MM-DD, "
            "for example 2026-11-23."
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise DateEntryError(
            f"{label}: {year:04d}-{month:02d}-{day:02d} does not exist on the calendar. "
            "Check the notice and type the date again."
        ) from None
    if not allow_future and today is not None and parsed > today:
        raise DateEntryError(
            f"{label}: {parsed.isoformat()} is in the future. Type the date it actually "
            "happened (it is on the notice)."
        )
    return parsed


def end_of_day(day: date, tz: str) -> datetime:
    """23:59:59 local time on ``day``: the moment a date-only due date runs out."""
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, 23, 59, 59, tz=tz)


def _start_of_day(day: date, tz: str) -> datetime:
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


# --------------------------------------------------------------------------------------------
# The call's dates, parsed once, with their problems as messages.


@dataclass(frozen=True)
class CallDates:
    plan_type: PlanType | None
    review_type: ReviewType | None
    urgency: Urgency | None
    notice_dated: date | None
    notice_received: date | None
    call_end: datetime | None
    problems: tuple[str, ...] = ()


def call_dates(call: Call, *, now: datetime) -> CallDates:
    """The values the deadlines need, from what the user typed; problems are collected."""
    import pendulum

    today = pendulum.instance(now).in_timezone(call.tz).date()
    problems: list[str] = []
    typed: dict[str, date | None] = {}
    for key in ("denial_date", "denial_received"):
        try:
            typed[key] = parse_typed_date(
                call.value(key), spec_for(key).label, today=today, allow_future=False
            )
        except DateEntryError as exc:
            problems.append(str(exc))
            typed[key] = None
    dated, received = typed["denial_date"], typed["denial_received"]
    if dated and received and received < dated:
        problems.append(
            f"Denial received ({received.isoformat()}) is before the date on the notice "
            f"({dated.isoformat()}). Check both dates."
        )
    plan = PlanType.parse(call.value("plan_type"))
    if plan is None:
        problems.append(
            "No plan type: appeal and review deadlines depend on it. Press e to set it "
            "(you can also save the checklist without dates)."
        )
    return CallDates(
        plan_type=plan,  # type: ignore[arg-type]
        review_type=ReviewType.parse(call.value("review_type")),  # type: ignore[arg-type]
        urgency=Urgency.parse(call.value("urgency")),  # type: ignore[arg-type]
        notice_dated=dated,
        notice_received=received,
        call_end=call.ended_at,
        problems=tuple(problems),
    )


# --------------------------------------------------------------------------------------------
# Which rule dates an action.


def rule_for_action(action: FollowUpAction, plan_type: PlanType | None) -> Rule | None:
    """The deadline rule behind an action's due date, or None when no rule in the table dates it.

    The medical necessity letter goes with the appeal, so it shares the appeal's deadline.
    Medicare Advantage appeals start with a reconsideration request (42 CFR 422.582).
    """
    if action in (FollowUpAction.CONFIRMATION, FollowUpAction.EXPEDITED_REVIEW):
        return get_rule("act_same_day")
    if action in (FollowUpAction.INTERNAL_APPEAL, FollowUpAction.NECESSITY_LETTER):
        if plan_type in _COMMERCIAL:
            return get_rule("internal_appeal_filing")
        if plan_type is PlanType.MEDICARE_ADVANTAGE:
            return get_rule("ma_reconsideration_request")
        return None
    if action is FollowUpAction.EXTERNAL_REVIEW and plan_type in _COMMERCIAL:
        return get_rule("external_review_request")
    return None


def _start_for(rule: Rule, dates: CallDates, tz: str) -> tuple[datetime | None, str]:
    """When the rule's clock starts for this call, or None and a message saying what is missing."""
    if rule.starts_from is StartEvent.CALL_END:
        if dates.call_end is None:
            return None, "The call has not ended yet."
        return dates.call_end, ""
    if rule.starts_from is StartEvent.NOTICE_DATED:
        if dates.notice_dated is None:
            return None, "Type the date printed on the notice (Denial dated) to date this."
        return _start_of_day(dates.notice_dated, tz), ""
    if rule.starts_from is StartEvent.NOTICE_RECEIVED:
        day = dates.notice_received or dates.notice_dated
        if day is None:
            return None, "Type the day the denial notice arrived (Denial received) to date this."
        caveat = ""
        if dates.notice_received is None:
            caveat = (
                "Counted from the date on the notice (no received date typed): earlier, so safe."
            )
        return _start_of_day(day, tz), caveat
    if rule.starts_from is StartEvent.FINAL_INTERNAL_DENIAL:
        day = dates.notice_received or dates.notice_dated
        if dates.review_type is not ReviewType.APPEAL or day is None:
            return None, (
                "Counts from the final decision on the internal appeal: set the date when "
                "that decision arrives (o)."
            )
        return _start_of_day(day, tz), ""
    return None, "This rule counts from a date p2pcall does not know; set it from the notice."


# --------------------------------------------------------------------------------------------
# Suggestions.


@dataclass(frozen=True)
class Suggestion:
    """One line of the wrap-up checklist."""

    action: FollowUpAction
    selected: bool
    why: str = ""
    rule: Rule | None = None
    deadline: Deadline | None = None
    problem: str = ""  # why no date could be computed
    caveat: str = ""  # how the date was computed when the obvious start was missing
    note: str = ""  # e.g. which document, as the reviewer promised it
    promised: datetime | None = None  # a date the reviewer gave (section G)

    @property
    def key(self) -> str:
        return f"{self.action.value}:{self.note}"

    @property
    def computed_due(self) -> datetime | None:
        return self.deadline.due if self.deadline else None


@dataclass(frozen=True)
class WrapUpPlan:
    suggestions: list[Suggestion] = field(default_factory=list)
    problems: tuple[str, ...] = ()


# The order the checklist shows, closest to the call first.
_ORDER = (
    FollowUpAction.CONFIRMATION,
    FollowUpAction.EXPEDITED_REVIEW,
    FollowUpAction.NECESSITY_LETTER,
    FollowUpAction.INTERNAL_APPEAL,
    FollowUpAction.INFORM_PATIENT,
    FollowUpAction.EXTERNAL_REVIEW,
    FollowUpAction.BENEFIT_EXCEPTION,
    FollowUpAction.INSURER_COMPLAINT,
    FollowUpAction.ACCREDITOR_GRIEVANCE,
    FollowUpAction.REGULATOR_COMPLAINT,
)


def _why_selected(action: FollowUpAction, call: Call, dates: CallDates) -> str | None:
    """Why an action is ticked by default, or None to offer it unticked."""
    adverse = call.outcome in _ADVERSE
    urgent = dates.urgency is Urgency.URGENT
    appealed = dates.review_type is ReviewType.APPEAL
    if action is FollowUpAction.CONFIRMATION:
        return "Put what was said and promised in writing, the same day."
    if not adverse:
        return None
    if action is FollowUpAction.EXPEDITED_REVIEW and urgent:
        return "Urgent care was denied: ask for expedited review now."
    if action is FollowUpAction.NECESSITY_LETTER:
        return "Not approved: a medical necessity letter supports the appeal."
    if action is FollowUpAction.INTERNAL_APPEAL and not appealed:
        return "The peer-to-peer did not reverse the denial."
    if action is FollowUpAction.EXTERNAL_REVIEW and appealed and dates.plan_type in _COMMERCIAL:
        return "The appeal was upheld: an independent reviewer can decide."
    if action is FollowUpAction.INFORM_PATIENT:
        return "Tell the patient what happened and the options they have."
    return None


def _why_offered(action: FollowUpAction, call: Call) -> str:
    if (
        action is FollowUpAction.ACCREDITOR_GRIEVANCE
        and call.value("reviewer_same_specialty") == YesNo.NO.value
    ):
        return "The reviewer was not of your specialty (section B)."
    return ""


def suggest_followups(call: Call, *, now: datetime) -> WrapUpPlan:
    """The wrap-up checklist for an ended call: every action, the suggested ones ticked.

    Due dates are computed where a rule in the table dates the action and the call has the
    date its clock starts from; otherwise the line says what is missing.
    """
    dates = call_dates(call, now=now)
    suggestions: list[Suggestion] = []
    for action in _ORDER:
        why = _why_selected(action, call, dates)
        rule = rule_for_action(action, dates.plan_type)
        deadline, problem, caveat = None, "", ""
        if rule is not None:
            start, message = _start_for(rule, dates, call.tz)
            if start is None:
                problem = message
            else:
                caveat = message
                try:
                    deadline = compute_deadline(rule, start, call.tz, now=now)
                except DeadlineInputError as exc:
                    problem = str(exc)
        elif action in (FollowUpAction.INTERNAL_APPEAL, FollowUpAction.NECESSITY_LETTER):
            problem = (
                "Set the plan type (e) to date this, or type the date on the notice (o)."
                if dates.plan_type is None
                else "The notice gives this plan's appeal deadline: set it (o)."
            )
        suggestions.append(
            Suggestion(
                action=action,
                selected=why is not None,
                why=why or _why_offered(action, call),
                rule=rule,
                deadline=deadline,
                problem=problem,
                caveat=caveat,
            )
        )
    suggestions[1:1] = _documents_to_chase(call, now)
    return WrapUpPlan(suggestions, dates.problems)


def _documents_to_chase(call: Call, now: datetime) -> list[Suggestion]:
    """Section G: each document requested or promised and not yet received."""
    chase: list[Suggestion] = []
    for status_key, by_key in DOCUMENT_FIELDS:
        status = DocStatus.parse(call.value(status_key))
        if status not in _STILL_OWED:
            continue
        label = spec_for(status_key).label
        by = call.value(by_key).strip()
        promised, problem, day = None, "", None
        if _ISO_DAY.match(by):
            try:
                day = parse_typed_date(by, f"{label} by")
            except DateEntryError as exc:
                problem = str(exc)
        elif by:  # "Friday", "next week": kept as typed, dated by the user
            problem = f"Promised '{one_line(by, 30)}': set the exact date (o) to track it."
        if day is not None:
            promised = end_of_day(day, call.tz)
        note = f"{label} ({status.label.lower()}" + (f", by {one_line(by, 30)})" if by else ")")
        chase.append(
            Suggestion(
                action=FollowUpAction.CHASE_DOCUMENTS,
                selected=True,
                why="Asked for on the call and not received yet.",
                note=note,
                promised=promised,
                problem=problem,
            )
        )
    other = call.value("doc_other").strip()
    if other:
        chase.append(
            Suggestion(
                action=FollowUpAction.CHASE_DOCUMENTS,
                selected=True,
                why="Other documents noted in section G.",
                note=f"Other: {one_line(other, 60)}",
                problem="Set a date (o) to see it in the due list.",
            )
        )
    return chase


# --------------------------------------------------------------------------------------------
# Saying where a due date comes from (screens, the due list, the CLI, exports).


def due_source(followup: FollowUp) -> str:
    """'rule internal_appeal_filing (29 CFR ...)', or why the date was set by hand."""
    parts: list[str] = []
    if followup.rule_id:
        try:
            rule = get_rule(followup.rule_id)
            parts.append(f"rule {rule.id} ({rule.citation})")
        except DeadlineInputError:
            parts.append(f"rule {followup.rule_id} (no longer known to this version)")
    if followup.due_override is not None:
        parts.append(f"set by you: {one_line(followup.override_reason or 'no reason given', 60)}")
    return "; ".join(parts)


def is_open(followup: FollowUp) -> bool:
    return followup.status is FollowUpStatus.PLANNED


# --------------------------------------------------------------------------------------------
# What is saved, and what is due across calls.


@dataclass(frozen=True)
class PlannedFollowUp:
    """A follow-up about to be stored: the computed date and the user's date kept apart."""

    action: FollowUpAction
    rule_id: str | None = None
    computed_due: datetime | None = None
    due_override: datetime | None = None
    override_reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class DueItem:
    """A planned follow-up with a due date, and the call it belongs to."""

    followup: FollowUp
    patient_ref: str
    insurer: str
    tz: str  # the call's time zone, to show its times

    @property
    def due(self) -> datetime:
        due = self.followup.due
        assert due is not None  # only dated follow-ups are listed
        return due


@dataclass(frozen=True)
class DueReport:
    overdue: list[DueItem] = field(default_factory=list)
    today: list[DueItem] = field(default_factory=list)
    soon: list[DueItem] = field(default_factory=list)
    within_days: int = 7
    undated: int = 0  # planned follow-ups without a date: not listed, but counted

    @property
    def groups(self) -> list[tuple[str, list[DueItem]]]:
        return [
            ("Overdue", self.overdue),
            ("Due today", self.today),
            (f"Due in the next {self.within_days} days", self.soon),
        ]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.soon)


def group_due(
    items: list[DueItem], *, now: datetime, tz: str, within_days: int, undated: int = 0
) -> DueReport:
    """Overdue (due before now), due today (later today, local), due in the next days.

    "Today" is the local date in ``tz`` (the practice's zone): an item due at 09:00 today is
    overdue at 10:00, one due at 23:59:59 today is due today. Items past the window are left out.
    """
    import pendulum

    local_now = pendulum.instance(now).in_timezone(tz)
    today = local_now.date()
    report = DueReport(within_days=within_days, undated=undated)
    for item in sorted(items, key=lambda i: (i.due, i.followup.id)):
        day = pendulum.instance(item.due).in_timezone(tz).date()
        if item.due < now:
            report.overdue.append(item)
        elif day == today:
            report.today.append(item)
        elif (day - today).days <= within_days:
            report.soon.append(item)
    return report


def window_end(now: datetime, tz: str, within_days: int) -> datetime:
    """The last moment the due list looks at: the end of the ``within_days``-th local day."""
    import pendulum

    local = pendulum.instance(now).in_timezone(tz)
    return end_of_day(local.date().add(days=within_days), tz)


# --------------------------------------------------------------------------------------------
# Words for the screens, the CLI and exports.


def followup_title(followup: FollowUp) -> str:
    """The action, with what it is about when it has a note (which document, ...)."""
    label = followup.action.label
    return f"{label}: {one_line(followup.note, 60)}" if followup.note else label


def due_text(due: datetime, tz: str) -> str:
    """'Thu 26 Nov 2026 23:59 -05:00': unambiguous, with the offset."""
    import pendulum

    local = pendulum.instance(due).in_timezone(tz)
    offset = local.strftime("%z")
    return local.strftime("%a %d %b %Y %H:%M ") + f"{offset[:3]}:{offset[3:]}"


def call_label(call_id: int, patient_ref: str, insurer: str) -> str:
    who = " \u00b7 ".join(one_line(v, 24) for v in (patient_ref, insurer) if v)
    return f"call #{call_id}" + (f" \u00b7 {who}" if who else "")
