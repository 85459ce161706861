"""Follow-ups after a call: stored per call, marked done or not needed, dates overridden.

A mixin of ``Store`` for the writes (it uses the store's sessions and call lookup); the
reads (`followups_for`, `due_across_calls`) are `ReadApi`'s, over `queries.followups`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlmodel import Session, col

from p2pcall.domain.deadlines import DeadlineInputError, user_date_reason
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.models import FollowUp
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus
from p2pcall.store.errors import StoreError
from p2pcall.store.rows import followup_of as _followup
from p2pcall.store.tables import CallRow, FollowUpRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

MAX_NOTE = 2000


def _store_error(message: str) -> StoreError:
    return StoreError(message)


def _require_aware(moment: datetime | None, what: str) -> None:
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise _store_error(f"{what} has no time zone; it was not saved.")


class FollowUpsMixin:
    if TYPE_CHECKING:

        def _session(self) -> AbstractContextManager[Session]: ...
        def _call_row(self, session: Session, call_id: int) -> CallRow: ...

    def add_followups(self, call_id: int, planned: Iterable[PlannedFollowUp]) -> list[FollowUp]:
        """Store several follow-ups of one call in one transaction."""
        now = now_utc()
        planned = list(planned)
        for item in planned:
            _check_planned(item)
        with self._session() as session:
            self._call_row(session, call_id)
            rows = [
                FollowUpRow(
                    call_id=call_id,
                    action=item.action.value,
                    status=FollowUpStatus.PLANNED.value,
                    created_at=now,
                    rule_id=item.rule_id,
                    computed_due=item.computed_due,
                    legal_due=item.legal_due,
                    due_override=item.due_override,
                    override_reason=item.override_reason.strip(),
                    note=item.note,
                )
                for item in planned
            ]
            session.add_all(rows)
            session.commit()
            return [_followup(row) for row in rows]

    def add_followup(self, call_id: int, planned: PlannedFollowUp) -> FollowUp:
        return self.add_followups(call_id, [planned])[0]

    def mark_followup_done(self, followup_id: int, at: datetime | None = None) -> FollowUp:
        """Done, with the time it was marked (now unless given).

        Marking an appeal (or external review) sent dates the call's "chase the plan"
        follow-ups that were waiting for it: the plan's clock counts from then.
        """
        at = at or now_utc()
        _require_aware(at, "The done time")
        with self._session() as session:
            row = _row(session, followup_id)
            row.status = FollowUpStatus.DONE.value
            row.done_at = at
            session.add(row)
            _date_waiting_chases(session, row, at)
            session.commit()
            return _followup(row)

    def mark_followup_not_needed(self, followup_id: int) -> FollowUp:
        return self._change(followup_id, status=FollowUpStatus.NOT_NEEDED.value, done_at=None)

    def reopen_followup(self, followup_id: int) -> FollowUp:
        return self._change(followup_id, status=FollowUpStatus.PLANNED.value, done_at=None)

    def override_followup_due(
        self, followup_id: int, due: datetime | None, reason: str = ""
    ) -> FollowUp:
        """Set the user's date beside the computed one (None goes back to the computed date).

        A reason is required when it replaces a computed date, so the record says why.
        """
        _require_aware(due, "The new due date")
        with self._session() as session:
            row = _row(session, followup_id)
            reason = _reason(due, row.computed_due, reason)
            row.due_override = due
            row.override_reason = reason if due is not None else ""
            session.add(row)
            session.commit()
            return _followup(row)

    def _change(self, followup_id: int, **values: object) -> FollowUp:
        with self._session() as session:
            row = _row(session, followup_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()
            return _followup(row)


def _date_waiting_chases(session: Session, sent: FollowUpRow, at: datetime) -> None:
    from p2pcall.domain.planner import chase_due_after

    tz = session.get(CallRow, sent.call_id)
    if tz is None:
        return
    waiting = session.scalars(
        select(FollowUpRow).where(
            col(FollowUpRow.call_id) == sent.call_id,
            col(FollowUpRow.action) == FollowUpAction.CHASE_PLAN.value,
            col(FollowUpRow.status) == FollowUpStatus.PLANNED.value,
            col(FollowUpRow.computed_due).is_(None),
            col(FollowUpRow.rule_id).is_not(None),
        )
    ).all()
    for chase in waiting:
        due = chase_due_after(chase.rule_id or "", sent.action, at, tz.tz)
        if due is not None:
            chase.computed_due = due
            session.add(chase)


def _check_planned(item: PlannedFollowUp) -> None:
    _require_aware(item.computed_due, "The computed due date")
    _require_aware(item.due_override, "The due date")
    _reason(item.due_override, item.computed_due, item.override_reason)
    if len(item.note) > MAX_NOTE:
        raise _store_error(f"A follow-up note is kept under {MAX_NOTE} characters.")


def _reason(due: datetime | None, computed: datetime | None, reason: str) -> str:
    try:
        return user_date_reason(due, computed, reason)
    except DeadlineInputError as exc:
        raise _store_error(str(exc)) from None


def _row(session: Session, followup_id: int) -> FollowUpRow:
    row = session.get(FollowUpRow, followup_id)
    if row is None:
        raise _store_error(f"There is no follow-up number {followup_id}.")
    return row


class _WrapUpStore(Protocol):
    def followups_for(self, call_id: int) -> list[FollowUp]: ...
    def add_followups(self, call_id: int, planned: Iterable[PlannedFollowUp]) -> list[FollowUp]: ...


def save_wrap_up(
    store: _WrapUpStore, call_id: int, planned: list[PlannedFollowUp]
) -> list[FollowUp]:
    """The wrap-up's follow-ups, minus any the call already has (same action and note)."""
    existing = {(f.action, f.note) for f in store.followups_for(call_id)}
    fresh = [item for item in planned if (item.action, item.note) not in existing]
    return store.add_followups(call_id, fresh) if fresh else []
