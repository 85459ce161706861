"""The record as evidence: finalizing with a hash-chain head, corrections before that.

A mixin of `Store` (writes; the reads are `ReadApi.chain_inputs` / `recompute_head`). The
database triggers in `schema._v2_records` are the real guard; these methods add clear
messages and do the work in one transaction each.

Finalizing is idempotent: finalizing a finalized call changes nothing and returns it as it
is (same stamp, same head), so a wrap-up screen may retry after a lost answer.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from p2pcall.domain.models import Call, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.store.errors import StoreError
from p2pcall.store.queries.cursor import Db
from p2pcall.store.queries.records import ChainInputs, read_inputs
from p2pcall.store.rows import call_of, member
from p2pcall.store.tables import CallRow, FieldRow, NoteRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from datetime import datetime


CORRECTION_AFTER_FINALIZE = (
    "This call is finalized: its notes can no longer be corrected. "
    "Add an addendum (a new note with a reason) instead."
)


def dbapi_of(session: Session) -> Db:
    """The DB-API connection under `session`, inside the session's transaction: the plain
    SQL of `queries` reads what the write is about to change, in the same snapshot."""
    db = session.connection().connection.driver_connection
    if isinstance(db, sqlite3.Connection):
        return db
    from p2pcall.store.postgres.dbapi import PgDb

    assert db is not None  # a session's connection is open
    return PgDb(db)


class RecordsMixin:
    if TYPE_CHECKING:

        def _session(self) -> AbstractContextManager[Session]: ...
        def _call_row(self, session: Session, call_id: int, *, lock: bool = False) -> CallRow: ...
        def add_note(
            self,
            call_id: int,
            section: Section,
            kind: NoteKind,
            body: str,
            started_at: datetime,
            *,
            reason: str = "",
            corrects: int | None = None,
        ) -> Note: ...

    def finalize_call(self, call_id: int) -> Call:
        """Stamp finalized_at and the chain head, in one transaction; the call must have ended.

        From then on the database refuses any change to the call, its fields and notes;
        only addenda (late notes with a reason) can be added. Finalizing again is a no-op.
        """
        with self._session() as session:
            row = self._call_row(session, call_id, lock=True)  # before reading what it seals
            if row.finalized_at is None:
                if row.ended_at is None:
                    raise StoreError("End the call before finalizing its record.")
                now = now_utc()
                inputs = read_inputs(dbapi_of(session), call_id)
                latest = max(
                    [n.saved_at for n in inputs.notes]
                    + [f.at for f in inputs.fields + inputs.history],
                    default=row.ended_at,
                )
                if latest > now:
                    raise StoreError(
                        "The computer's clock is behind the last saved entry of this call; "
                        "check the date and time, then finalize again."
                    )
                row.finalized_at = now
                inputs.call.finalized_at = now
                row.chain_head = inputs.head()
                session.add(row)
                session.commit()
            fields = session.scalars(select(FieldRow).where(col(FieldRow.call_id) == call_id)).all()
            return call_of(row, fields)

    def correct_note(self, note_id: int, new_body: str, started_at: datetime | None = None) -> Note:
        """Save a correction of a note as a new note; the original stays as it was.

        Refused after finalizing (the database refuses it too): add an addendum then.
        """
        if not new_body.strip():
            raise StoreError("An empty correction is not saved.")
        with self._session() as session:
            original = session.get(NoteRow, note_id)
            if original is None:
                raise StoreError(f"There is no note number {note_id}.")
            call = self._call_row(session, original.call_id)
            if call.finalized_at is not None:
                raise StoreError(CORRECTION_AFTER_FINALIZE)
            if new_body == original.body:
                raise StoreError("The correction is the same as the note: nothing to save.")
            call_id, section, kind = original.call_id, original.section, original.kind
        return self.add_note(
            call_id,
            member(Section, section),
            member(NoteKind, kind),
            new_body,
            started_at or now_utc(),
            corrects=note_id,
        )


__all__ = ["CORRECTION_AFTER_FINALIZE", "ChainInputs", "RecordsMixin", "dbapi_of"]
