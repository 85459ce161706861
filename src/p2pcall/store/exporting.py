"""Loading a whole call for an export: the record, with its follow-ups.

`Store.load_call` returns the call, notes and drafts; follow-ups are filled in here from the
`followup` table unless the loaded record already carries them (once the follow-ups area
loads them itself, this stays correct and the extra query is skipped).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from p2pcall.domain.models import CallRecord, FollowUp
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus
from p2pcall.store.store import Store
from p2pcall.store.tables import FollowUpRow


def load_for_export(store: Store, call_id: int) -> CallRecord:
    """The call with notes and follow-ups; StoreError when there is no such call."""
    record = store.load_call(call_id)
    if not record.followups:
        with store._session() as session:
            rows = session.scalars(
                select(FollowUpRow)
                .where(FollowUpRow.call_id == call_id)
                .order_by(col(FollowUpRow.created_at), col(FollowUpRow.id))
            ).all()
            record.followups = [_followup(row) for row in rows]
    record.drafts = []  # unsent text is not part of the record and never exported
    return record


def _followup(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        id=row.id or 0,
        call_id=row.call_id,
        action=FollowUpAction.parse(row.action) or FollowUpAction.OTHER,  # type: ignore[arg-type]
        status=FollowUpStatus.parse(row.status) or FollowUpStatus.PLANNED,  # type: ignore[arg-type]
        created_at=row.created_at,
        rule_id=row.rule_id,
        computed_due=row.computed_due,
        due_override=row.due_override,
        override_reason=row.override_reason,
        done_at=row.done_at,
        note=row.note,
    )
