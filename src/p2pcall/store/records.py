"""The record as evidence: finalizing with a hash-chain head, corrections before that.

A mixin of `Store`. The database triggers in `schema._v2_records` are the real guard; these
methods add clear messages and do the work in one transaction each.

Finalizing is idempotent: finalizing a finalized call changes nothing and returns it as it
is (same stamp, same head), so a wrap-up screen may retry after a lost answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from p2pcall.domain import chain
from p2pcall.domain.models import Call, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.store.tables import CallRow, FieldEditRow, FieldRow, NoteRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from datetime import datetime


CORRECTION_AFTER_FINALIZE = (
    "This call is finalized: its notes can no longer be corrected. "
    "Add an addendum (a new note with a reason) instead."
)


def _errors() -> type[Exception]:
    # store.py imports this module for Store's bases: take StoreError late to avoid a cycle.
    from p2pcall.store.store import StoreError

    return StoreError


class ChainInputs:
    """Everything the chain hashes for one call, read in one transaction."""

    def __init__(
        self,
        call: Call,
        fields: list[chain.FieldEntry],
        history: list[chain.FieldEntry],
        notes: list[Note],
    ) -> None:
        self.call = call
        self.fields = fields
        self.history = history
        self.notes = notes

    def head(self) -> str:
        return chain.chain_head(self.call, self.fields, self.history, self.notes)


class RecordsMixin:
    if TYPE_CHECKING:

        def _session(self) -> AbstractContextManager[Session]: ...
        def _call_row(self, session: Session, call_id: int) -> CallRow: ...

    def finalize_call(self, call_id: int) -> Call:
        """Stamp finalized_at and the chain head, in one transaction; the call must have ended.

        From then on the database refuses any change to the call, its fields and notes;
        only addenda (late notes with a reason) can be added. Finalizing again is a no-op.
        """
        from p2pcall.store.store import _call  # row -> Call, kept with the other converters

        store_error = _errors()
        with self._session() as session:
            row = self._call_row(session, call_id)
            if row.finalized_at is None:
                if row.ended_at is None:
                    raise store_error("End the call before finalizing its record.")
                now = now_utc()
                inputs = _read_inputs(session, row)
                latest = max(
                    [n.saved_at for n in inputs.notes]
                    + [f.at for f in inputs.fields + inputs.history],
                    default=row.ended_at,
                )
                if latest > now:
                    raise store_error(
                        "The computer's clock is behind the last saved entry of this call; "
                        "check the date and time, then finalize again."
                    )
                row.finalized_at = now
                inputs.call.finalized_at = now
                row.chain_head = inputs.head()
                session.add(row)
                session.commit()
            fields = session.scalars(select(FieldRow).where(FieldRow.call_id == call_id)).all()
            return _call(row, list(fields))

    def chain_inputs(self, call_id: int) -> ChainInputs:
        """What the chain of a call hashes, as the database holds it now."""
        with self._session() as session:
            return _read_inputs(session, self._call_row(session, call_id))

    def recompute_head(self, call_id: int) -> str | None:
        """The head recomputed from the database now (None if the call is not finalized)."""
        inputs = self.chain_inputs(call_id)
        if inputs.call.finalized_at is None:
            return None
        return inputs.head()

    def correct_note(self, note_id: int, new_body: str, started_at: datetime | None = None) -> Note:
        """Save a correction of a note as a new note; the original stays as it was.

        Refused after finalizing (the database refuses it too): add an addendum then.
        """
        store_error = _errors()
        if not new_body.strip():
            raise store_error("An empty correction is not saved.")
        with self._session() as session:
            original = session.get(NoteRow, note_id)
            if original is None:
                raise store_error(f"There is no note number {note_id}.")
            call = self._call_row(session, original.call_id)
            if call.finalized_at is not None:
                raise store_error(CORRECTION_AFTER_FINALIZE)
            if new_body == original.body:
                raise store_error("The correction is the same as the note: nothing to save.")
            call_id, section, kind = original.call_id, original.section, original.kind
        return self.add_note(  # type: ignore[attr-defined]  (Store's hot path, in store.py)
            call_id,
            Section(section),
            NoteKind(kind),
            new_body,
            started_at or now_utc(),
            corrects=note_id,
        )


def _read_inputs(session: Session, row: CallRow) -> ChainInputs:
    from p2pcall.store.store import _call, _note

    call_id = row.id
    fields = session.scalars(
        select(FieldRow).where(FieldRow.call_id == call_id).order_by(col(FieldRow.key))
    ).all()
    history = session.scalars(
        select(FieldEditRow).where(FieldEditRow.call_id == call_id).order_by(col(FieldEditRow.id))
    ).all()
    notes = session.scalars(
        select(NoteRow).where(NoteRow.call_id == call_id).order_by(col(NoteRow.id))
    ).all()
    return ChainInputs(
        call=_call(row, list(fields)),
        fields=[chain.FieldEntry(f.key, f.value, f.declined, f.late, f.updated_at) for f in fields],
        history=[
            chain.FieldEntry(e.key, e.value, e.declined, e.late, e.edited_at, id=e.id)
            for e in history
        ],
        notes=[_note(n) for n in notes],
    )


__all__ = ["CORRECTION_AFTER_FINALIZE", "ChainInputs", "RecordsMixin"]
