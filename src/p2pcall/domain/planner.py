"""The follow-up plan after a call: the clinical clock first, the legal limit beside it.

For each action the plan gives up to two dates:

- the clinical date, which protects the patient: for urgent or concurrent care, the same day
  as the call (or the reviewer's window, when the user confirmed an earlier one);
- the legal outer limit, from a rule of the table in ``deadlines`` with its citation, counted
  from the event the rule names (the notice of the decision the call is about, the day the
  appeal went to the plan, ...).

The date proposed is the earlier of the two. "Chase the plan" items carry the plan's own
decision clock; when it counts from an appeal not sent yet, the item waits for the user to
mark that appeal done (the store then dates it). Nothing here guesses a missing date: the line
says what is missing instead.

Pure: no Textual, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from p2pcall.domain.casefacts import CaseFacts, local_day
from p2pcall.domain.datedwords import DatedPhrase
from p2pcall.domain.deadlines import (
    Deadline,
    DeadlineInputError,
    Rule,
    StartEvent,
    compute_deadline,
    get_rule,
)
from p2pcall.domain.timefmt import end_of_day
from p2pcall.domain.vocab import FollowUpAction, PlanType, ReviewType, Stage

__all__ = [
    "CHASE_TRIGGERS",
    "Suggestion",
    "appeal_decision_rule",
    "filing_rule",
    "initial_decision_rule",
    "plan_followups",
]

_MEDICAID_CHIP = frozenset({PlanType.MEDICAID_MANAGED, PlanType.CHIP_MANAGED})

# Which sent action starts a "chase the plan" clock (the store dates it when that is done).
CHASE_TRIGGERS: dict[str, tuple[FollowUpAction, ...]] = {
    "appeal": (FollowUpAction.EXPEDITED_REVIEW, FollowUpAction.INTERNAL_APPEAL),
    "external": (FollowUpAction.EXTERNAL_REVIEW,),
}


@dataclass(frozen=True)
class Suggestion:
    """One line of the wrap-up checklist."""

    action: FollowUpAction
    selected: bool
    why: str = ""
    rule: Rule | None = None  # the legal rule (its citation is shown beside the date)
    deadline: Deadline | None = None  # the legal limit, computed
    clinical_due: datetime | None = None  # the date that protects the patient
    clinical_reason: str = ""
    legal_text: str = ""  # the legal limit in words, when it cannot be dated yet
    problem: str = ""  # why no date could be computed
    caveat: str = ""  # how the date was computed when the obvious start was missing
    note: str = ""  # e.g. which document, as the reviewer promised it
    promised: datetime | None = None  # a YYYY-MM-DD date the reviewer gave (section G)
    proposed: DatedPhrase | None = None  # dated words, shown for the user to confirm
    waits_for: tuple[FollowUpAction, ...] = ()  # dated when one of these is marked sent

    @property
    def key(self) -> str:
        return f"{self.action.value}:{self.note}"

    @property
    def legal_due(self) -> datetime | None:
        return self.deadline.due if self.deadline else None

    @property
    def computed_due(self) -> datetime | None:
        """The date proposed: the earlier of the clinical date and the legal limit."""
        dates = [d for d in (self.clinical_due, self.legal_due) if d is not None]
        return min(dates) if dates else None


_APPEAL_DECISIONS = frozenset(
    {
        "internal_appeal_decision_urgent",
        "internal_appeal_decision_pre_service",
        "internal_appeal_decision_post_service",
        "ma_reconsideration_decision_expedited",
        "ma_reconsideration_decision_standard",
        "ma_reconsideration_decision_part_b_drug",
        "ma_reconsideration_decision_payment",
        "medicaid_appeal_decision_standard",
        "medicaid_appeal_decision_expedited",
    }
)
_EXTERNAL_DECISIONS = frozenset(
    {"external_review_decision_standard", "external_review_decision_expedited"}
)


def chase_due_after(rule_id: str, sent_action: str, sent_at: datetime, tz: str) -> datetime | None:
    """The chase date once ``sent_action`` was marked sent at ``sent_at``; None if unrelated.

    Counted from the moment it was sent: the plan's clock starts when it receives it, so the
    date is early, which is the safe side for chasing.
    """
    if rule_id in _APPEAL_DECISIONS:
        triggers = CHASE_TRIGGERS["appeal"]
    elif rule_id in _EXTERNAL_DECISIONS:
        triggers = CHASE_TRIGGERS["external"]
    else:
        return None
    if sent_action not in {action.value for action in triggers}:
        return None
    try:
        return compute_deadline(get_rule(rule_id), sent_at, tz, now=sent_at).due
    except DeadlineInputError:
        return None


# --------------------------------------------------------------------------------------------
# Which rule gives which clock, by programme.


def filing_rule(facts: CaseFacts) -> Rule | None:
    """The rule for filing the first appeal of an initial denial."""
    if facts.commercial:
        return get_rule("internal_appeal_filing")
    if facts.plan_type is PlanType.MEDICARE_ADVANTAGE:
        return get_rule("ma_reconsideration_request")
    if facts.plan_type in _MEDICAID_CHIP:
        return get_rule("medicaid_appeal_filing")
    return None


def appeal_decision_rule(facts: CaseFacts) -> Rule | None:
    """The plan's clock for deciding the appeal (reconsideration) once it has it."""
    retro = facts.review_type is ReviewType.RETROSPECTIVE
    if facts.commercial:
        if facts.urgent and not retro:
            return get_rule("internal_appeal_decision_urgent")
        return get_rule(
            "internal_appeal_decision_post_service"
            if retro
            else "internal_appeal_decision_pre_service"
        )
    if facts.plan_type is PlanType.MEDICARE_ADVANTAGE:
        if retro:
            return get_rule("ma_reconsideration_decision_payment")
        if facts.urgent:
            return get_rule("ma_reconsideration_decision_expedited")
        if facts.part_b_drug:
            return get_rule("ma_reconsideration_decision_part_b_drug")
        return get_rule("ma_reconsideration_decision_standard")
    if facts.plan_type in _MEDICAID_CHIP:
        return get_rule(
            "medicaid_appeal_decision_expedited"
            if facts.urgent
            else "medicaid_appeal_decision_standard"
        )
    return None


def initial_decision_rule(facts: CaseFacts) -> Rule | None:
    """The plan's clock for deciding the request itself (a pending initial determination)."""
    retro = facts.review_type is ReviewType.RETROSPECTIVE
    plan = facts.plan_type
    if facts.commercial:
        if retro:
            return get_rule("initial_decision_post_service")
        if facts.urgent and facts.concurrent:
            return get_rule("concurrent_extension_decision")
        if plan is PlanType.MARKETPLACE:
            return get_rule(
                "marketplace_decision_urgent" if facts.urgent else "marketplace_decision_standard"
            )
        return get_rule(
            "initial_decision_urgent" if facts.urgent else "initial_decision_pre_service"
        )
    if retro:
        return None
    if plan is PlanType.MEDICARE_ADVANTAGE:
        return get_rule(
            "ma_org_determination_expedited" if facts.urgent else "ma_org_determination_standard"
        )
    if plan is PlanType.MEDICAID_MANAGED:
        return get_rule(
            "medicaid_prior_auth_expedited" if facts.urgent else "medicaid_prior_auth_standard"
        )
    if plan is PlanType.CHIP_MANAGED:
        return get_rule("chip_prior_auth_expedited" if facts.urgent else "chip_prior_auth_standard")
    return None


# --------------------------------------------------------------------------------------------
# Counting a rule from the right event.


def _start_of_day(day: date, tz: str) -> datetime:
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def _start(rule: Rule, facts: CaseFacts, now: datetime) -> tuple[datetime | None, str]:
    """When the rule's clock starts for this call, or None and what is missing."""
    tz = facts.tz
    event = rule.starts_from
    if event is StartEvent.CALL_END:
        return (facts.ended_at or now), ""
    if event is StartEvent.NOTICE_DATED:
        if facts.notice_dated is None:
            return None, "Type the date printed on the notice (Denial dated) to date this."
        return _start_of_day(facts.notice_dated, tz), ""
    if event is StartEvent.NOTICE_RECEIVED:
        day = facts.notice_received or facts.notice_dated
        if day is None:
            return None, "Type the day the notice arrived (Denial received) to date this."
        caveat = ""
        if facts.notice_received is None:
            caveat = (
                "Counted from the date on the notice (no received date typed): earlier, so safe."
            )
        return _start_of_day(day, tz), caveat
    if event is StartEvent.FINAL_INTERNAL_DENIAL:
        day = facts.notice_received or facts.notice_dated
        if facts.effective_stage is not Stage.FINAL_INTERNAL or day is None:
            return None, (
                "Counts from the final internal decision: set the stage to 'final internal "
                "decision' and its notice dates when it arrives."
            )
        return _start_of_day(day, tz), ""
    if event is StartEvent.REQUEST_RECEIVED:
        if facts.sent_to_plan is None:
            return None, "Dated once you mark the request or appeal sent (or type 'Sent to plan')."
        return _start_of_day(facts.sent_to_plan, tz), (
            "Counted from the day it was sent: the plan's clock starts when it receives it, "
            "so this date is early (safe for chasing)."
        )
    return None, "This rule counts from a date p2pcall does not know; set it from the notice."


def dated(rule: Rule | None, facts: CaseFacts, now: datetime) -> tuple[Deadline | None, str, str]:
    """(deadline, problem, caveat) for a rule, counted from the right event for these facts."""
    if rule is None:
        return None, "", ""
    start, message = _start(rule, facts, now)
    if start is None:
        return None, message, ""
    try:
        return compute_deadline(rule, start, facts.tz, now=max(now, start)), "", message
    except DeadlineInputError as exc:
        return None, str(exc), ""


# --------------------------------------------------------------------------------------------
# The plan.


@dataclass
class _Builder:
    facts: CaseFacts
    now: datetime
    items: list[Suggestion] = field(default_factory=list)

    @property
    def call_day(self) -> date:
        return local_day(self.facts.ended_at or self.now, self.facts.tz)

    def clinical(self) -> tuple[datetime | None, str]:
        """Same day for urgent or concurrent care; earlier when the reviewer's window is."""
        if not self.facts.clinical_first:
            return None, ""
        same_day = end_of_day(self.call_day, self.facts.tz)
        window = self.facts.reviewer_window
        if window is not None and window < same_day:
            return window, "the reviewer's window closes first"
        why = "urgent care" if self.facts.urgent else "the patient is in care now"
        return same_day, f"the same day: {why}"

    def add(
        self,
        action: FollowUpAction,
        selected: bool,
        why: str,
        *,
        rule: Rule | None = None,
        clinical: bool = True,
        legal_text: str = "",
        note: str = "",
        waits_for: tuple[FollowUpAction, ...] = (),
        problem: str = "",
    ) -> None:
        deadline, rule_problem, caveat = dated(rule, self.facts, self.now)
        clinical_due, reason = self.clinical() if clinical else (None, "")
        if deadline is None and rule is not None and rule_problem and waits_for:
            sent = " or ".join(a.label.lower() for a in waits_for)
            rule_problem = f"Dated when you mark it sent ({sent}): done in the due list."
        self.items.append(
            Suggestion(
                action=action,
                selected=selected,
                why=why,
                rule=rule,
                deadline=deadline,
                clinical_due=clinical_due,
                clinical_reason=reason,
                legal_text=legal_text,
                problem=problem or rule_problem,
                caveat=caveat,
                note=note,
                waits_for=waits_for if deadline is None else (),
            )
        )


def plan_followups(facts: CaseFacts, *, now: datetime) -> list[Suggestion]:
    """The suggested follow-ups for these facts, earliest first (undated ones last)."""
    b = _Builder(facts, now)
    stage = facts.effective_stage
    b.add(
        FollowUpAction.CONFIRMATION,
        True,
        "Put what was said and promised in writing, the same day.",
        rule=get_rule("act_same_day"),
        clinical=False,
    )
    if facts.connected_at is None and facts.ended_at is None:
        _before_the_call(b)
    if facts.outcome is not None and facts.outcome.value == "pending":
        _pending(b)
    if facts.adverse:
        if stage is Stage.FINAL_INTERNAL:
            _after_final_decision(b)
        else:
            _appeal(b, stage)
        _continued_coverage(b, stage)
    _always_offered(b)
    indexed = list(enumerate(b.items))
    indexed.sort(
        key=lambda pair: (pair[1].computed_due is None, pair[1].computed_due or now, pair[0])
    )
    return [item for _, item in indexed]


def _before_the_call(b: _Builder) -> None:
    facts = b.facts
    if facts.p2p_window is None and facts.p2p_request_by is None:
        return
    rule = get_rule("p2p_request_window")
    if facts.p2p_request_by is not None:
        due = end_of_day(facts.p2p_request_by, facts.tz)
        b.items.append(
            Suggestion(
                FollowUpAction.REQUEST_P2P,
                True,
                "Ask for the peer-to-peer call before the insurer's window closes.",
                rule=rule,
                clinical_due=due,
                clinical_reason="the date the notice gives",
            )
        )
        return
    start, message = _start(rule, facts, b.now)
    deadline = None
    if start is not None:
        try:
            deadline = compute_deadline(
                rule, start, facts.tz, now=max(b.now, start), business_days=facts.p2p_window
            )
        except DeadlineInputError as exc:
            message = str(exc)
    b.items.append(
        Suggestion(
            FollowUpAction.REQUEST_P2P,
            True,
            "Ask for the peer-to-peer call before the insurer's window closes.",
            rule=rule,
            deadline=deadline,
            problem=message if deadline is None else "",
            caveat=message if deadline is not None else "",
        )
    )


def _pending(b: _Builder) -> None:
    rule = initial_decision_rule(b.facts)
    b.add(
        FollowUpAction.CHASE_PLAN,
        True,
        "Decision pending: the plan's own clock runs from when it received the request.",
        rule=rule,
        clinical=False,
        problem=""
        if rule
        else "No federal clock in the table for this plan: ask the plan when it decides.",
    )


def _appeal(b: _Builder, stage: Stage) -> None:
    facts = b.facts
    filing = filing_rule(facts)
    programme = facts.plan_type
    appeal_word = "reconsideration" if programme is PlanType.MEDICARE_ADVANTAGE else "appeal"
    under_way = stage is Stage.INTERNAL_APPEAL
    if not under_way:
        if facts.urgent:
            b.add(
                FollowUpAction.EXPEDITED_REVIEW,
                True,
                f"Urgent care was denied: ask for the expedited {appeal_word} today "
                "(by phone, then in writing).",
                rule=filing,
            )
        b.add(
            FollowUpAction.INTERNAL_APPEAL,
            not facts.urgent,
            f"The peer-to-peer did not reverse the denial: file the {appeal_word}."
            if not facts.urgent
            else f"The expedited {appeal_word} covers this; a standard written one only if "
            "the plan refuses to expedite.",
            rule=filing,
            problem=""
            if filing
            else (
                "Set the plan type (e) to date this, or type the date on the notice (o)."
                if facts.plan_type is None
                else "The notice gives this plan's appeal deadline: set it (o)."
            ),
        )
    b.add(
        FollowUpAction.NECESSITY_LETTER,
        True,
        f"Not approved: a medical necessity letter goes with the {appeal_word}.",
        rule=filing if not under_way else None,
    )
    decision = appeal_decision_rule(facts)
    if decision is not None:
        b.add(
            FollowUpAction.CHASE_PLAN,
            True,
            f"The plan's clock for deciding the {appeal_word}: chase it if nothing comes.",
            rule=decision,
            clinical=False,
            waits_for=CHASE_TRIGGERS["appeal"],
            note=f"{appeal_word} decision",
        )
    if facts.commercial:
        _external_review(b, simultaneous=True)


def _external_review(b: _Builder, *, simultaneous: bool) -> None:
    facts = b.facts
    if facts.grandfathered:
        b.add(
            FollowUpAction.EXTERNAL_REVIEW,
            False,
            "Grandfathered plan: the federal external review rules do not apply "
            "(29 CFR 2590.715-2719(a)(1)(ii)); your state's law may give one.",
            clinical=False,
        )
        return
    if simultaneous:
        if not facts.urgent:
            return  # standard cases: external review only after the final internal decision
        b.add(
            FollowUpAction.EXTERNAL_REVIEW,
            True,
            "Urgent: the expedited external review can be asked for at the same time as the "
            "expedited internal appeal (45 CFR 147.136(d)(3)(i)(A); state processes: "
            "147.136(c)).",
            legal_text="The outer limit is 4 months after the final internal decision "
            "(45 CFR 147.136(d)); no reason to wait.",
        )
    else:
        b.add(
            FollowUpAction.EXTERNAL_REVIEW,
            True,
            "The internal appeal was upheld: an independent reviewer can decide.",
            rule=get_rule("external_review_request"),
        )
    decision = get_rule(
        "external_review_decision_expedited"
        if facts.urgent
        else "external_review_decision_standard"
    )
    b.add(
        FollowUpAction.CHASE_PLAN,
        True,
        "The independent reviewer's clock: chase it if nothing comes.",
        rule=decision,
        clinical=False,
        waits_for=CHASE_TRIGGERS["external"],
        note="external review decision",
    )


def _after_final_decision(b: _Builder) -> None:
    facts = b.facts
    plan = facts.plan_type
    if facts.commercial:
        _external_review(b, simultaneous=False)
        b.add(
            FollowUpAction.NECESSITY_LETTER,
            True,
            "Not approved: the letter supports the external review.",
        )
    elif plan is PlanType.MEDICARE_ADVANTAGE:
        b.add(
            FollowUpAction.CHASE_PLAN,
            True,
            "Upheld reconsideration: the plan must send the case to the independent review "
            "entity itself (42 CFR 422.590(a)(2), (b)(2); 422.592). You file nothing; check "
            "that it was forwarded and watch for the IRE's letter. If the IRE upholds, the "
            "next level is an ALJ hearing (60 days from the IRE's notice, 42 CFR 422.602).",
            clinical=False,
            legal_text="The plan forwards within its reconsideration clock; the IRE's own "
            "time is set by its CMS contract (422.592(b)), so no date is computed.",
            note="forwarded to the IRE",
        )
        b.add(
            FollowUpAction.NECESSITY_LETTER,
            True,
            "Not approved: send the letter so the IRE has it with the case file.",
        )
    elif plan is PlanType.MEDICAID_MANAGED:
        b.add(
            FollowUpAction.FAIR_HEARING,
            True,
            "Appeal upheld: the state fair hearing is next (and counts as exhausting the plan's "
            "appeal, 42 CFR 438.408(f)(1)).",
            rule=get_rule("medicaid_fair_hearing_request"),
        )
        b.add(
            FollowUpAction.NECESSITY_LETTER,
            True,
            "Not approved: the letter supports the fair hearing.",
        )
    elif plan is PlanType.CHIP_MANAGED:
        b.add(
            FollowUpAction.FAIR_HEARING,
            True,
            "Appeal upheld: CHIP has a state review instead of a fair hearing (42 CFR 457.1260, "
            "part 457 subpart K). The state sets its deadline: it is on the notice.",
            legal_text="No federal day count in the table for the CHIP state review.",
            problem="Set the date from the notice (o).",
        )


def _continued_coverage(b: _Builder, stage: Stage) -> None:
    facts = b.facts
    if not facts.concurrent:
        return
    plan = facts.plan_type
    if facts.commercial:
        b.add(
            FollowUpAction.CONTINUED_COVERAGE,
            True,
            "Care is ongoing: ending or cutting it early is itself appealable before it takes "
            "effect, and a request to extend made 24 hours before the authorized period ends "
            "is decided within 24 hours (29 CFR 2560.503-1(f)(2)(ii)(A)-(B)); non-grandfathered "
            "plans must keep coverage during the appeal (45 CFR 147.136(b)(2)(ii)(F)).",
            legal_text="Ask before the authorized period ends"
            + (f" ({facts.care_ends.isoformat()})." if facts.care_ends else "."),
        )
    elif plan is PlanType.MEDICAID_MANAGED:
        b.add(
            FollowUpAction.CONTINUED_COVERAGE,
            True,
            "Care already authorized is being cut or ended: benefits continue during the "
            "appeal (and the fair hearing) if asked for in time (42 CFR 438.420).",
            rule=get_rule("medicaid_continued_benefits"),
        )
    elif plan is PlanType.CHIP_MANAGED:
        b.add(
            FollowUpAction.CONTINUED_COVERAGE,
            False,
            "CHIP: the Medicaid rule on continued benefits does not apply (42 CFR 457.1260); "
            "ask anyway, and check your state's rules.",
            clinical=False,
        )
    elif plan is PlanType.MEDICARE_ADVANTAGE:
        b.add(
            FollowUpAction.CONTINUED_COVERAGE,
            False,
            "Medicare Advantage has no general right to continued coverage during a "
            "reconsideration; an inpatient hospital discharge can go to the QIO "
            "(42 CFR 422.622). Uncertain for residential care: ask the plan.",
            clinical=False,
        )


def _always_offered(b: _Builder) -> None:
    facts = b.facts
    b.add(
        FollowUpAction.INFORM_PATIENT,
        facts.adverse,
        "Tell the patient what happened and the options they have." if facts.adverse else "",
        clinical=facts.adverse,
    )
    for action in (
        FollowUpAction.BENEFIT_EXCEPTION,
        FollowUpAction.INSURER_COMPLAINT,
        FollowUpAction.ACCREDITOR_GRIEVANCE,
        FollowUpAction.REGULATOR_COMPLAINT,
    ):
        b.add(action, False, "", clinical=False)
