"""After the call: which follow-ups to suggest, and when each falls due.

Pure domain (no Textual, no database). The deadline rules live in ``deadlines``; this module
says which rule gives an action its due date and which of the call's dates starts its clock,
parses the dates the user typed, and turns the outcome, urgency and section G into a
checklist. Problems with the input (an impossible date, a denial date in the future, no plan
type) come back as messages: the user can always save the checklist without the dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from p2pcall.domain.deadlines import COMMERCIAL_PLANS, DeadlineInputError, Rule, get_rule
from p2pcall.domain.fields import spec_for
from p2pcall.domain.planner import Suggestion
from p2pcall.domain.text import one_line
from p2pcall.domain.timefmt import end_of_day, utc_offset
from p2pcall.domain.typed_dates import ISO_DAY, DateEntryError, parse_typed_date
from p2pcall.domain.vocab import (
    DocStatus,
    FollowUpAction,
    NoteKind,
    PlanType,
    YesNo,
)

if TYPE_CHECKING:
    from p2pcall.domain.casefacts import CaseFacts
    from p2pcall.domain.datedwords import DatedPhrase
    from p2pcall.domain.models import Call, FollowUp, Note

__all__ = [
    "CHECK_NOTICE",
    "DOCUMENT_FIELDS",
    "DateEntryError",
    "Suggestion",
    "WrapUpPlan",
    "due_source",
    "end_of_day",
    "parse_typed_date",
    "rule_for_action",
    "suggest_followups",
]

CHECK_NOTICE = "Check the date on the notice: it wins over this advice."
PROMISED_REASON = "Date the reviewer promised on the call (section G)"

# (status field, "by when" field) of each document asked for in section G.
DOCUMENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("doc_decision", "doc_decision_by"),
    ("doc_criteria", "doc_criteria_by"),
    ("doc_credentials", "doc_credentials_by"),
)
_STILL_OWED = frozenset({DocStatus.REQUESTED, DocStatus.PROMISED})


def _start_of_day(day: date, tz: str) -> datetime:
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


# --------------------------------------------------------------------------------------------
# The wrap-up checklist: the planner's suggestions, plus what the call itself said.


@dataclass(frozen=True)
class WrapUpPlan:
    suggestions: list[Suggestion] = field(default_factory=list)
    problems: tuple[str, ...] = ()


def rule_for_action(action: FollowUpAction, plan_type: PlanType | None) -> Rule | None:
    """The legal rule behind an action's outer limit for a plan type (initial denial, standard).

    Kept for callers that only know the action; the wrap-up uses the planner, which also looks
    at urgency and stage.
    """
    from p2pcall.domain.casefacts import CaseFacts
    from p2pcall.domain.planner import filing_rule

    if action in (FollowUpAction.CONFIRMATION, FollowUpAction.EXPEDITED_REVIEW):
        return get_rule("act_same_day")
    facts = CaseFacts(tz="UTC", plan_type=plan_type)
    if action in (FollowUpAction.INTERNAL_APPEAL, FollowUpAction.NECESSITY_LETTER):
        return filing_rule(facts)
    if action is FollowUpAction.EXTERNAL_REVIEW and plan_type in COMMERCIAL_PLANS:
        return get_rule("external_review_request")
    return None


def suggest_followups(
    call: Call,
    *,
    now: datetime,
    notes: Iterable[Note] = (),
    reviewer_window: datetime | None = None,
) -> WrapUpPlan:
    """The wrap-up checklist for a call: every action, the suggested ones ticked.

    ``notes`` are read for dated commitments; ``reviewer_window`` is the earliest commitment
    date the user has confirmed (it can bring the clinical date forward). Dates typed in words
    come back as proposals (``Suggestion.proposed``) for the user to confirm, never applied.
    """
    from p2pcall.domain.casefacts import facts_from_call
    from p2pcall.domain.planner import plan_followups

    facts = facts_from_call(call, now=now).with_reviewer_window(reviewer_window)
    suggestions = plan_followups(facts, now=now)
    suggestions = [_offered_because(s, call) for s in suggestions]
    extra = _commitments(call, notes) + _documents_to_chase(call) + _refused(call, facts)
    # Earliest first; a date read from words orders its line (it is still only a proposal).
    merged = list(enumerate(suggestions + extra))
    merged.sort(
        key=lambda pair: (_order_date(pair[1]) is None, _order_date(pair[1]) or now, pair[0])
    )
    suggestions = [s for _i, s in merged]
    problems = facts.problems + _far_dates(call, now)
    return WrapUpPlan(suggestions, problems)


def _order_date(s: Suggestion) -> datetime | None:
    if s.computed_due is not None:
        return s.computed_due
    if s.promised is not None:
        return s.promised
    return s.proposed.due if s.proposed is not None else None


def _offered_because(s: Suggestion, call: Call) -> Suggestion:
    if (
        s.action is FollowUpAction.ACCREDITOR_GRIEVANCE
        and not s.why
        and call.value("reviewer_same_specialty") == YesNo.NO.value
    ):
        return replace(s, why="The reviewer was not of your specialty (section B).")
    return s


def said_at(call: Call) -> datetime:
    """When words typed in a field were said: the connected time, else when the call was made."""
    return call.started_at or call.created_at


@dataclass(frozen=True)
class DatedCommitment:
    """A commitment note with the dates read from its words (proposals until confirmed)."""

    note_id: int
    body: str
    phrases: tuple[DatedPhrase, ...]


def dated_commitments(call: Call, notes: Iterable[Note]) -> list[DatedCommitment]:
    """Commitment notes (not corrected since) whose words name a date or a span."""
    from p2pcall.domain.datedwords import find_dated_phrases

    notes = list(notes)
    corrected = {n.corrects for n in notes if n.corrects is not None}
    found = []
    for note in notes:
        if note.kind is not NoteKind.COMMITMENT or note.id in corrected:
            continue
        phrases = find_dated_phrases(note.body, note.saved_at, call.tz)
        if phrases:
            found.append(DatedCommitment(note.id, note.body, tuple(phrases)))
    return found


def _commitments(call: Call, notes: Iterable[Note]) -> list[Suggestion]:
    """Commitment notes with dated words: one line each, the date proposed, not applied."""
    return [
        Suggestion(
            action=FollowUpAction.REVIEWER_COMMITMENT,
            selected=True,
            why="A commitment with a date, said on the call: confirm the date (y) or set "
            "another (o).",
            note=f"#{c.note_id} {one_line(c.body, 60)}",
            proposed=c.phrases[0],
        )
        for c in dated_commitments(call, notes)
    ]


def _documents_to_chase(call: Call) -> list[Suggestion]:
    """Section G: each document requested or promised and not yet received."""
    from p2pcall.domain.datedwords import find_dated_phrases

    chase: list[Suggestion] = []
    for status_key, by_key in DOCUMENT_FIELDS:
        status = DocStatus.parse(call.value(status_key))
        if status not in _STILL_OWED:
            continue
        label = spec_for(status_key).label
        by = call.value(by_key).strip()
        promised, problem, day, proposed = None, "", None, None
        if ISO_DAY.match(by):
            try:
                day = parse_typed_date(by, f"{label} by")
            except DateEntryError as exc:
                problem = str(exc)
        elif by:  # "Friday", "within 2 business days": proposed, confirmed by the user
            phrases = find_dated_phrases(by, said_at(call), call.tz)
            if phrases:
                proposed = phrases[0]
            else:
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
                proposed=proposed,
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


# The right to each document a reviewer may refuse, by programme (our reading; see README).
_RIGHTS: dict[str, dict[str, str]] = {
    "commercial": {
        "doc_decision": "a written notice with the specific reason and the rule relied on "
        "(29 CFR 2560.503-1(g)(1)(i)-(v))",
        "doc_criteria": "the internal rule, guideline or criterion relied on, free on request "
        "(29 CFR 2560.503-1(g)(1)(v)(A); (h)(2)(iii))",
        "doc_credentials": "the identity of the medical experts consulted "
        "(29 CFR 2560.503-1(h)(3)(iv))",
    },
    "medicaid": {
        "doc_decision": "a written notice of the adverse benefit determination "
        "(42 CFR 438.404(a)-(b))",
        "doc_criteria": "copies of all documents and criteria relevant to the decision, free "
        "(42 CFR 438.404(b)(2)); the case file during the appeal (438.406(b)(5))",
        "doc_credentials": "no federal rule names the reviewer's credentials; ask for the case "
        "file (42 CFR 438.406(b)(5)) and note the refusal",
    },
    "medicare_advantage": {
        "doc_decision": "a written denial notice with the specific reasons (42 CFR 422.568(e))",
        "doc_criteria": "the reasons and the coverage rule applied (42 CFR 422.568(e)); "
        "uncertain beyond that: ask in writing and note the refusal",
        "doc_credentials": "no federal rule found that names the reviewer's credentials; ask "
        "in writing and note the refusal",
    },
}


def _refused(call: Call, facts: CaseFacts) -> list[Suggestion]:
    """A document refused on the call: a written request citing the right to it."""
    if facts.commercial:
        rights = _RIGHTS["commercial"]
    elif facts.plan_type in (PlanType.MEDICAID_MANAGED, PlanType.CHIP_MANAGED):
        rights = _RIGHTS["medicaid"]
    elif facts.plan_type is PlanType.MEDICARE_ADVANTAGE:
        rights = _RIGHTS["medicare_advantage"]
    else:
        rights = {}
    found = []
    for status_key, _by in DOCUMENT_FIELDS:
        if DocStatus.parse(call.value(status_key)) is not DocStatus.REFUSED:
            continue
        right = rights.get(status_key, "set the plan type to see the rule that gives it")
        found.append(
            Suggestion(
                action=FollowUpAction.REQUEST_DOCUMENT,
                selected=True,
                why=f"Refused on the call: ask in writing, citing the right to {right}.",
                note=f"{spec_for(status_key).label} (refused)",
                clinical_due=end_of_day(_call_day(call), call.tz),
                clinical_reason="the same day, while the call is fresh",
            )
        )
    return found


def _call_day(call: Call) -> date:
    import pendulum

    moment = call.ended_at or call.started_at or call.created_at
    return pendulum.instance(moment).in_timezone(call.tz).date()


def _far_dates(call: Call, now: datetime) -> tuple[str, ...]:
    """'Did you mean ...' for each typed date over 60 days from the call, unless confirmed."""
    return tuple(question for _key, question in far_date_questions(call, now))


def far_date_questions(
    call: Call, now: datetime, keep: str = "k keeps it and stops asking."
) -> list[tuple[str, str]]:
    """(confirmation value, question) for each implausible typed date not yet confirmed."""
    from p2pcall.domain.casefacts import DATE_FIELDS
    from p2pcall.domain.plausible import confirmation_value, confirmed_keys, implausible

    anchor = call.started_at or call.created_at or now
    call_day = _local(anchor, call.tz)
    confirmed = confirmed_keys(call.value("dates_confirmed"))
    keys = [key for key, _future in DATE_FIELDS] + [by for _status, by in DOCUMENT_FIELDS]
    found = []
    for key in keys:
        text = call.value(key)
        if not ISO_DAY.match(text):
            continue
        try:
            day = parse_typed_date(text, spec_for(key).label)
        except DateEntryError:
            continue
        assert day is not None
        value = confirmation_value(key, text)
        if value in confirmed:
            continue
        question = implausible(day, call_day, spec_for(key).label, keep)
        if question:
            found.append((value, question))
    return found


def _local(moment: datetime, tz: str) -> date:
    import pendulum

    return pendulum.instance(moment).in_timezone(tz).date()


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
    legal_due: datetime | None = None  # the legal limit beside an earlier clinical date


@dataclass(frozen=True)
class DueItem:
    """A planned follow-up with a due date, and the call it belongs to."""

    followup: FollowUp
    patient_ref: str
    insurer: str
    tz: str  # the call's time zone, to show its times
    clinician: str | None = None  # who started the call, where the database records it

    def call_label(self, *, with_clinician: bool = False) -> str:
        """The call, and whose it is when asked (a coordinator works every clinician's)."""
        label = call_label(self.followup.call_id, self.patient_ref, self.insurer)
        if with_clinician and self.clinician:
            label += f" \u00b7 {one_line(self.clinician, 24)}'s call"
        return label

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
    return local.strftime("%a %d %b %Y %H:%M ") + utc_offset(local)


def call_label(call_id: int, patient_ref: str, insurer: str) -> str:
    who = " \u00b7 ".join(one_line(v, 24) for v in (patient_ref, insurer) if v)
    return f"call #{call_id}" + (f" \u00b7 {who}" if who else "")
