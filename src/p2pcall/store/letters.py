"""Letters kept with a call: the user's edited text, and the files written.

A mixin of ``Store`` for the writes (the reads are `ReadApi`'s, over `queries.letters`).
Neither table is part of the record or its hash chain: editing a
letter never changes what was noted, and the record's guards do not apply to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, col

from p2pcall.domain.timefmt import now_utc
from p2pcall.store.errors import StoreError
from p2pcall.store.rows import LetterEdit, LetterFile
from p2pcall.store.rows import letter_file_of as _file
from p2pcall.store.tables import CallRow, LetterEditRow, LetterFileRow

__all__ = ["MAX_LETTER", "LetterEdit", "LetterFile", "LettersMixin"]

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

MAX_LETTER = 200_000  # characters: a long letter is a few thousand


def _store_error(message: str) -> StoreError:
    return StoreError(message)


class LettersMixin:
    if TYPE_CHECKING:

        def _session(self) -> AbstractContextManager[Session]: ...
        def _call_row(self, session: Session, call_id: int) -> CallRow: ...
        def upsert(self, table: type[SQLModel]) -> Any: ...

    def save_letter_edit(self, call_id: int, kind: str, body: str) -> LetterEdit:
        """Keep the user's text of a letter; empty text goes back to the draft from the record."""
        if len(body) > MAX_LETTER:
            raise _store_error(f"A letter is kept under {MAX_LETTER:,} characters.")
        now = now_utc()
        with self._session() as session:
            self._call_row(session, call_id)
            if not body.strip():
                session.execute(
                    delete(LetterEditRow).where(
                        col(LetterEditRow.call_id) == call_id, col(LetterEditRow.kind) == kind
                    )
                )
            else:
                values = {"body": body, "updated_at": now}
                session.execute(
                    self.upsert(LetterEditRow)
                    .values(call_id=call_id, kind=kind, **values)
                    .on_conflict_do_update(index_elements=["call_id", "kind"], set_=values)
                )
            session.commit()
        return LetterEdit(kind, body, now)

    def add_letter_file(
        self, call_id: int, kind: str, fmt: str, path: str, *, edited: bool
    ) -> LetterFile:
        with self._session() as session:
            self._call_row(session, call_id)
            row = LetterFileRow(
                call_id=call_id,
                kind=kind,
                format=fmt,
                path=path,
                edited=edited,
                written_at=now_utc(),
            )
            session.add(row)
            session.commit()
            return _file(row)
