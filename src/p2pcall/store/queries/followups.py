"""Follow-ups: those of one call, and what is due across every call."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from p2pcall.store.queries.cursor import Db, rows
from p2pcall.store.rows import followup_of
from p2pcall.store.timetext import to_text

if TYPE_CHECKING:
    from p2pcall.domain.followups import DueReport
    from p2pcall.domain.models import FollowUp

_COLUMNS = (
    "f.id, f.call_id, f.action, f.status, f.created_at, f.rule_id, f.computed_due, "
    "f.due_override, f.override_reason, f.done_at, f.note, f.legal_due, {f.author}"
)
OF_CALL = f"SELECT {_COLUMNS} FROM followup f WHERE f.call_id = ? ORDER BY f.id"
_DUE = "coalesce(f.due_override, f.computed_due)"
DUE = f"""
    SELECT {_COLUMNS},
        (SELECT value FROM call_field WHERE call_id = f.call_id AND key = 'patient_ref')
            AS patient,
        (SELECT value FROM call_field WHERE call_id = f.call_id AND key = 'insurer') AS insurer,
        c.tz AS call_tz, {{c.author AS call_author}}
    FROM followup f JOIN call c ON c.id = f.call_id
    WHERE f.status = 'planned' AND {_DUE} IS NOT NULL AND {_DUE} <= ?
"""
UNDATED = f"SELECT count(*) FROM followup f WHERE f.status = 'planned' AND {_DUE} IS NULL"


def of_call(db: Db, call_id: int) -> list[FollowUp]:
    """The call's follow-ups in the order they were planned."""
    return [followup_of(row) for row in rows(db, OF_CALL, (call_id,))]


def due(db: Db, now: datetime, tz: str, within_days: int) -> DueReport:
    """Planned follow-ups of every call: overdue, due today, due in the next days."""
    # Imported here: the due-date rules and planner are for `due` only, not every reader.
    from p2pcall.domain.followups import DueItem, group_due, window_end

    bound = to_text(window_end(now, tz, within_days))
    items = [
        DueItem(
            followup_of(row), row.patient or "", row.insurer or "", row.call_tz, row.call_author
        )
        for row in rows(db, DUE, (bound,))
    ]
    undated = int(db.execute(UNDATED).fetchone()[0])
    return group_due(items, now=now, tz=tz, within_days=within_days, undated=undated)
