"""`p2pcall deadlines`: the follow-up plan for a set of facts, without opening a call.

Facts in (plan type, review type, urgency, stage, outcome, the notice's dates, the call's time
and zone), plan out: the same suggestions the wrap-up gives, with the clinical date, the legal
limit, the rule and its citation. Reads and writes no records.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

PLANS = (
    "erisa",
    "aca",
    "marketplace",
    "medicare_advantage",
    "medicaid_managed",
    "chip_managed",
    "other",
)
REVIEWS = ("pre_service", "concurrent", "retrospective", "appeal")
STAGES = ("initial", "internal_appeal", "final_internal")
OUTCOMES = ("denied", "partially_approved", "pending", "approved", "educational_only")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date on the calendar; use YYYY-MM-DD"
        ) from None


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "deadlines",
        parents=parents,
        help="print the follow-up plan for a denial's facts (dates, rules, citations)",
        description="The follow-up plan the wrap-up would give for these facts: the date that "
        "protects the patient first, the legal limit beside it, each with its rule and "
        "citation. Dates are advice: check the date on the notice.",
    )
    parser.add_argument("--plan", required=True, choices=PLANS, help="plan type (programme)")
    parser.add_argument("--review", choices=REVIEWS, help="review type")
    parser.add_argument("--urgency", choices=("urgent", "standard"), help="urgency")
    parser.add_argument("--stage", choices=STAGES, help="which decision the call is about")
    parser.add_argument("--outcome", choices=OUTCOMES, default="denied", help="default: denied")
    parser.add_argument("--notice-dated", type=_day, metavar="YYYY-MM-DD")
    parser.add_argument("--notice-received", type=_day, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--sent", type=_day, metavar="YYYY-MM-DD", help="day the request or appeal was sent"
    )
    parser.add_argument("--care-ends", type=_day, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--call",
        metavar="'YYYY-MM-DD HH:MM'",
        help="when the call ended, in --tz (default: now); a call not yet held: see --p2p-window",
    )
    parser.add_argument("--not-held", action="store_true", help="the call has not happened yet")
    parser.add_argument("--tz", help="IANA time zone (default: this computer's)")
    parser.add_argument("--grandfathered", action="store_true", help="grandfathered plan")
    parser.add_argument("--part-b-drug", action="store_true", help="Medicare Advantage Part B drug")
    parser.add_argument("--p2p-window", type=int, metavar="DAYS", help="insurer's P2P window")
    parser.add_argument(
        "--reviewer-window",
        metavar="WORDS",
        help="what the reviewer said, e.g. 'within 24h' (read from the call's time)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.domain.deadlines import DeadlineInputError

    try:
        facts, now, notes = _facts(args)
    except (DeadlineInputError, ValueError) as exc:
        print(f"p2pcall deadlines: {exc}", file=sys.stderr)
        return 2
    from p2pcall.domain.planner import plan_followups

    plan = plan_followups(facts, now=now)
    if args.json:
        print(json.dumps(_as_json(facts, plan, notes), indent=2, ensure_ascii=False))
    else:
        print(_as_text(facts, plan, notes))
    return 0


def _facts(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    import pendulum

    from p2pcall.domain.casefacts import CaseFacts
    from p2pcall.domain.datedwords import find_dated_phrases
    from p2pcall.domain.deadlines import _zone_name
    from p2pcall.domain.timefmt import local_tz_name
    from p2pcall.domain.vocab import Outcome, PlanType, ReviewType, Stage, Urgency

    tz = _zone_name(args.tz or local_tz_name())
    real_now = pendulum.now(tz)
    if args.call:
        try:
            ended = pendulum.from_format(args.call.strip(), "YYYY-MM-DD HH:mm", tz=tz)
        except ValueError:
            raise ValueError(f"--call '{args.call}': use 'YYYY-MM-DD HH:MM' in {tz}") from None
    else:
        ended = real_now
    now = max(real_now, ended)
    notes: list[str] = []
    window = None
    if args.reviewer_window:
        phrases = find_dated_phrases(args.reviewer_window, ended, tz)
        if not phrases:
            raise ValueError(f"--reviewer-window '{args.reviewer_window}': no date or span in it")
        window = phrases[0].due
        notes.append(f"Reviewer's window: {phrases[0].describe()} -> {window.isoformat()}")
    for label, day in (
        ("--notice-dated", args.notice_dated),
        ("--notice-received", args.notice_received),
        ("--sent", args.sent),
    ):
        if day is not None and day > ended.date():
            raise ValueError(f"{label} {day.isoformat()} is after the call; enter when it happened")
    if args.p2p_window is not None and not 1 <= args.p2p_window <= 60:
        raise ValueError("--p2p-window: use 1 to 60 business days")
    facts = CaseFacts(
        tz=tz,
        plan_type=PlanType(args.plan),
        review_type=ReviewType(args.review) if args.review else None,
        urgency=Urgency(args.urgency) if args.urgency else None,
        stage=Stage(args.stage) if args.stage else None,
        outcome=None if args.not_held else Outcome(args.outcome),
        notice_dated=args.notice_dated,
        notice_received=args.notice_received,
        sent_to_plan=args.sent,
        care_ends=args.care_ends,
        grandfathered=True if args.grandfathered else None,
        part_b_drug=args.part_b_drug,
        p2p_window=args.p2p_window,
        connected_at=None if args.not_held else ended,
        ended_at=None if args.not_held else ended,
        reviewer_window=window,
    )
    return facts, now, notes


def _as_json(facts: Any, plan: list[Any], notes: list[str]) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "facts": {
            "plan_type": facts.plan_type.value,
            "review_type": facts.review_type.value if facts.review_type else None,
            "urgency": facts.urgency.value if facts.urgency else None,
            "stage": facts.effective_stage.value,
            "outcome": facts.outcome.value if facts.outcome else None,
            "notice_dated": iso(facts.notice_dated),
            "notice_received": iso(facts.notice_received),
            "sent_to_plan": iso(facts.sent_to_plan),
            "call_ended": iso(facts.ended_at),
            "time_zone": facts.tz,
            "reviewer_window": iso(facts.reviewer_window),
        },
        "notes": notes,
        "followups": [
            {
                "action": s.action.value,
                "action_label": s.action.label,
                "note": s.note,
                "suggested": s.selected,
                "due": iso(s.computed_due),
                "clinical_due": iso(s.clinical_due),
                "clinical_reason": s.clinical_reason,
                "legal_due": iso(s.legal_due),
                "legal_text": s.legal_text,
                "rule_id": s.rule.id if s.rule else None,
                "citation": s.rule.citation if s.rule else None,
                "clock": s.deadline.clock_text if s.deadline else None,
                "extension_days": s.rule.extension_days if s.rule else 0,
                "why": s.why,
                "problem": s.problem,
                "caveat": s.caveat,
                "waits_for": [a.value for a in s.waits_for],
            }
            for s in plan
        ],
        "reminder": "Advice only: check the date on the notice; it wins.",
    }


def _as_text(facts: Any, plan: list[Any], notes: list[str]) -> str:
    from p2pcall.domain.followups import CHECK_NOTICE, due_text

    tz = facts.tz
    head = [facts.plan_type.label, facts.effective_stage.label]
    head += [v.label for v in (facts.review_type, facts.urgency, facts.outcome) if v]
    lines = [" \u00b7 ".join(head), *notes, ""]
    for s in plan:
        mark = "[x]" if s.selected else "[ ]"
        title = s.action.label + (f": {s.note}" if s.note else "")
        due = due_text(s.computed_due, tz) if s.computed_due else "no date"
        lines.append(f"{mark} {due}  {title}")
        if s.clinical_due is not None:
            lines.append(f"      clinical: {due_text(s.clinical_due, tz)} ({s.clinical_reason})")
        if s.deadline is not None:
            d = s.deadline
            lines.append(
                f"      legal:    {due_text(d.due, tz)}  {d.clock_text}, rule {d.rule.id} "
                f"({d.rule.citation})"
            )
            if d.rule.extension_days:
                lines.append(
                    f"      the plan may extend once by {d.rule.extension_days} days "
                    f"({d.rule.extension_citation})"
                )
        elif s.legal_text:
            lines.append(f"      legal:    {s.legal_text}")
        if s.problem:
            lines.append(f"      {s.problem}")
        if s.caveat:
            lines.append(f"      {s.caveat}")
        if s.why and s.selected:
            lines.append(f"      why: {s.why}")
    lines += ["", CHECK_NOTICE]
    return "\n".join(lines)
