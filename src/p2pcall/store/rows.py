"""Rows -> domain objects: the one converter of each concept, for every way a row is read.

A row is anything with the table's column names as attributes: a plain `sqlite3` row made
by `named_rows` (times as stored text) or an ORM row of `tables` (times already read by
`types.UTCDateTime`). `author` is read where the row has one (a server's rows; see
`queries.cursor.AUTHOR`), else None. Booleans are stored as 0/1 and become bool here:
the chain hashes them. Standard library and the domain only: the read-only commands
convert with these too.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar, cast

from p2pcall.domain.models import Call, CallSummary, Draft, FollowUp, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus, NoteKind, Outcome
from p2pcall.store.timetext import required_time, time_of

Row = Any  # a row with the columns as attributes (see the module text)
E = TypeVar("E", bound=Enum)


def member(kind: type[E], value: str) -> E:
    """The member of `kind` stored as `value`; ValueError for a value p2pcall never writes."""
    found = kind._value2member_map_.get(value)
    if found is None:
        raise ValueError(f"{value!r} is not a stored {kind.__name__}")
    return cast(E, found)


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> type:
    return namedtuple("Row", names)


def named_rows(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Any:
    """A `row_factory` giving rows whose columns are attributes, like an ORM row's."""
    return _row_type(tuple(column[0] for column in cursor.description))(*row)


def call_of(row: Row, fields: Iterable[Row]) -> Call:
    """A call from its `call` row and its `call_field` rows."""
    fields = list(fields)
    return Call(
        id=row.id or 0,
        created_at=required_time(row.created_at),
        tz=row.tz,
        started_at=time_of(row.started_at),
        ended_at=time_of(row.ended_at),
        outcome=Outcome.parse(row.outcome),
        values={f.key: f.value for f in fields if f.value},
        declined={f.key for f in fields if f.declined},
        finalized_at=time_of(row.finalized_at),
        chain_head=row.chain_head,
        author=getattr(row, "author", None),
    )


def note_of(row: Row) -> Note:
    return Note(
        id=row.id or 0,
        call_id=row.call_id,
        section=member(Section, row.section),
        kind=member(NoteKind, row.kind),
        body=row.body,
        started_at=required_time(row.started_at),
        saved_at=required_time(row.saved_at),
        late=bool(row.late),
        reason=row.reason,
        corrects=row.corrects_id,
        author=getattr(row, "author", None),
    )


def draft_of(row: Row) -> Draft:
    return Draft(
        call_id=row.call_id,
        section=member(Section, row.section),
        kind=member(NoteKind, row.kind),
        body=row.body,
        started_at=required_time(row.started_at),
        updated_at=required_time(row.updated_at),
    )


def followup_of(row: Row) -> FollowUp:
    action = FollowUpAction.parse(row.action)
    status = FollowUpStatus.parse(row.status)
    return FollowUp(
        id=row.id or 0,
        call_id=row.call_id,
        action=action or FollowUpAction.OTHER,
        status=status or FollowUpStatus.PLANNED,
        created_at=required_time(row.created_at),
        rule_id=row.rule_id,
        computed_due=time_of(row.computed_due),
        due_override=time_of(row.due_override),
        override_reason=row.override_reason,
        done_at=time_of(row.done_at),
        note=row.note,
        legal_due=time_of(row.legal_due),
        author=getattr(row, "author", None),
    )


def summary_of(row: Row) -> CallSummary:
    """A row of `queries.calls.SUMMARIES`: one line of a call list."""
    return CallSummary(
        id=row.id,
        created_at=required_time(row.created_at),
        started_at=time_of(row.started_at),
        ended_at=time_of(row.ended_at),
        outcome=Outcome.parse(row.outcome),
        patient_ref=row.patient or "",
        insurer=row.insurer or "",
        review_type=row.review or "",
        note_count=row.notes or 0,
        finalized=row.finalized_at is not None,
    )


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
    # The server role that wrote it (None in a laptop's file); not compared (see Note).
    author: str | None = field(default=None, compare=False)


def letter_file_of(row: Row) -> LetterFile:
    return LetterFile(
        id=row.id or 0,
        call_id=row.call_id,
        kind=row.kind,
        format=row.format,
        path=row.path,
        edited=bool(row.edited),
        written_at=required_time(row.written_at),
        author=getattr(row, "author", None),
    )


def letter_edit_of(row: Row) -> LetterEdit:
    return LetterEdit(row.kind, row.body, required_time(row.updated_at))
