"""Letters kept with a call: the user's edited text, and the files written.

A mixin of ``Store``. Neither table is part of the record or its hash chain: editing a
letter never changes what was noted, and the record's guards do not apply to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from p2pcall.domain.timefmt import now_utc
from p2pcall.store.tables import CallRow, FieldEditRow, LetterEditRow, LetterFileRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

MAX_LETTER = 200_000  # characters: a long letter is a few thousand


@dataclass(frozen=True)
class LetterEdit:
    kind: str
    body: str
    updated_at: datetime


@dataclass(frozen=True)
class LetterFile:
    id: int
    call_id: int
    kind: str
    format: str
    path: str
    edited: bool
    written_at: datetime


def _store_error(message: str) -> Exception:
    from p2pcall.store.store import StoreError

    return StoreError(message)


class LettersMixin:
    if TYPE_CHECKING:

        def _session(self) -> AbstractContextManager[Session]: ...
        def _call_row(self, session: Session, call_id: int) -> CallRow: ...

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
                    sqlite_insert(LetterEditRow)
                    .values(call_id=call_id, kind=kind, **values)
                    .on_conflict_do_update(index_elements=["call_id", "kind"], set_=values)
                )
            session.commit()
        return LetterEdit(kind, body, now)

    def letter_edit(self, call_id: int, kind: str) -> LetterEdit | None:
        with self._session() as session:
            row = session.get(LetterEditRow, (call_id, kind))
            return LetterEdit(row.kind, row.body, row.updated_at) if row else None

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

    def letter_files(self, call_id: int) -> list[LetterFile]:
        with self._session() as session:
            rows = session.scalars(
                select(LetterFileRow)
                .where(LetterFileRow.call_id == call_id)
                .order_by(col(LetterFileRow.id))
            ).all()
            return [_file(row) for row in rows]

    def field_first_times(self, call_id: int) -> dict[str, datetime]:
        """When each field first took the value it holds now (from its history)."""
        with self._session() as session:
            rows = session.scalars(
                select(FieldEditRow)
                .where(FieldEditRow.call_id == call_id)
                .order_by(col(FieldEditRow.id))
            ).all()
        current: dict[str, tuple[str, bool]] = {}
        since: dict[str, datetime] = {}
        for row in rows:
            state = (row.value, row.declined)
            if current.get(row.key) != state:
                current[row.key] = state
                since[row.key] = row.edited_at
        return since


def _file(row: LetterFileRow) -> LetterFile:
    return LetterFile(
        id=row.id or 0,
        call_id=row.call_id,
        kind=row.kind,
        format=row.format,
        path=row.path,
        edited=row.edited,
        written_at=row.written_at,
    )
