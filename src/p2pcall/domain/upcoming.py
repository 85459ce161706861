"""What home says about a prepared call: when it is scheduled, by when the P2P must be asked.

Pure: no Textual, no database.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.domain.models import Call

__all__ = ["p2p_request_due", "upcoming_text"]


def p2p_request_due(call: Call, *, now: datetime) -> datetime | None:
    """By when the P2P must be asked for: the notice's date, or its window counted."""
    from dataclasses import replace

    from p2pcall.domain.casefacts import facts_from_call
    from p2pcall.domain.planner import plan_followups
    from p2pcall.domain.vocab import FollowUpAction, PlanType

    facts = facts_from_call(call, now=now)
    if facts.plan_type is None:  # the window is the insurer's, whatever the plan type
        facts = replace(facts, plan_type=PlanType.OTHER)
    for item in plan_followups(facts, now=now):
        if item.action is FollowUpAction.REQUEST_P2P:
            return item.computed_due
    return None


def upcoming_text(call: Call, *, now: datetime | None = None) -> str:
    """'scheduled 2026-11-24 14:30', or 'ask for the P2P by Fri 27 Nov' when not scheduled yet."""
    import pendulum

    from p2pcall.domain.followups import due_text

    now = now or pendulum.now("UTC")
    parts = []
    scheduled = call.value("scheduled_for").strip()
    if scheduled:
        parts.append(f"scheduled {scheduled[:20]}")
    due = None if scheduled else p2p_request_due(call, now=now)
    if due is not None:
        overdue = " (passed!)" if due < now else ""
        parts.append(f"ask for the P2P by {due_text(due, call.tz)[:10]}{overdue}")
    elif not scheduled:
        parts.append("not scheduled yet")
    return " \u00b7 ".join(parts)
