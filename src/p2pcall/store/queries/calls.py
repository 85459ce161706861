"""A call and what belongs to it: the call row, its fields and their history, notes, drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from p2pcall.domain.models import CallRecord, CallSummary
from p2pcall.store.errors import NoSuchCallError, StoreError
from p2pcall.store.queries import followups
from p2pcall.store.queries.cursor import Db, on_server, one, rows
from p2pcall.store.rows import call_of, draft_of, note_of, summary_of
from p2pcall.store.timetext import required_time

CALL = (
    "SELECT id, created_at, tz, started_at, ended_at, outcome, finalized_at, chain_head, "
    "{author} FROM call WHERE id = ?"
)
FIELDS = (
    "SELECT call_id, key, value, declined, updated_at, late FROM call_field "
    "WHERE call_id = ? ORDER BY key"
)
FIELD_HISTORY = (
    "SELECT id, call_id, key, value, declined, edited_at, late FROM field_edit "
    "WHERE call_id = ? ORDER BY id"
)
FIELD_HISTORY_OF_KEY = (
    "SELECT value, declined, edited_at, late FROM field_edit "
    "WHERE call_id = ? AND key = ? ORDER BY id"
)
_NOTE_COLUMNS = (
    "id, call_id, section, kind, body, started_at, saved_at, late, reason, corrects_id, {author}"
)
NOTES_IN_TIME_ORDER = f"SELECT {_NOTE_COLUMNS} FROM note WHERE call_id = ? ORDER BY saved_at, id"
NOTES_IN_ID_ORDER = f"SELECT {_NOTE_COLUMNS} FROM note WHERE call_id = ? ORDER BY id"
DRAFTS = (
    "SELECT call_id, section, kind, body, started_at, updated_at FROM draft "
    "WHERE call_id = ? ORDER BY section"
)


def _field(key: str) -> str:
    return f"(SELECT value FROM call_field WHERE call_id = c.id AND key = '{key}')"


NEWEST_FIRST = " ORDER BY c.created_at DESC, c.id DESC"  # lists of calls `c`, newest first

# The home screen's lists: unfinished calls, and the latest ended ones (newest first).
SUMMARIES = f"""
    SELECT c.id, c.created_at, c.started_at, c.ended_at, c.outcome, c.finalized_at,
        {_field("patient_ref")} AS patient, {_field("insurer")} AS insurer,
        {_field("review_type")} AS review,
        (SELECT count(*) FROM note WHERE call_id = c.id) AS notes
    FROM call c WHERE (c.ended_at IS NULL) = ?
    ORDER BY c.created_at DESC, c.id DESC LIMIT ?
"""

MAX_CALL_ID = 2**63  # SQLite cannot even be asked about a larger number (OverflowError)


def call_row(db: Db, call_id: int) -> Any:
    """The call's row; NoSuchCallError when there is none."""
    if not 0 < call_id < MAX_CALL_ID:
        raise StoreError(f"There is no call number {call_id}.")
    row = one(db, CALL, (call_id,))
    if row is None:
        raise NoSuchCallError(f"There is no call number {call_id}.")
    return row


def fields(db: Db, call_id: int) -> list[Any]:
    return rows(db, FIELDS, (call_id,))


def load_call(db: Db, call_id: int) -> CallRecord:
    """The call with its notes (in time order), drafts and follow-ups, with the store's own
    numbers (a call copied from a laptop says its number there in `laptop_number`)."""
    from p2pcall.store import numbering

    row = call_row(db, call_id)
    call = call_of(row, fields(db, call_id))
    copied = numbering.renumbering(db, call_id)
    if copied is not None:
        call.laptop_number = copied.call
    return CallRecord(
        call=call,
        notes=[note_of(n) for n in rows(db, NOTES_IN_TIME_ORDER, (call_id,))],
        # A server keeps no drafts (they stay on the laptop: store/postgres/local_drafts.py).
        drafts=[] if on_server(db) else [draft_of(d) for d in rows(db, DRAFTS, (call_id,))],
        followups=followups.of_call(db, call_id),
    )


def summaries(db: Db, *, unfinished: bool, limit: int) -> list[CallSummary]:
    return [summary_of(row) for row in rows(db, SUMMARIES, (unfinished, limit))]


def field_history(db: Db, call_id: int, key: str) -> list[tuple[str, bool, datetime, bool]]:
    return [
        (r.value, bool(r.declined), required_time(r.edited_at), bool(r.late))
        for r in rows(db, FIELD_HISTORY_OF_KEY, (call_id, key))
    ]


def field_first_times(db: Db, call_id: int) -> dict[str, datetime]:
    """When each field first took the value it holds now (from its history)."""
    current: dict[str, tuple[str, bool]] = {}
    since: dict[str, datetime] = {}
    for row in rows(db, FIELD_HISTORY, (call_id,)):
        state = (row.value, bool(row.declined))
        if current.get(row.key) != state:
            current[row.key] = state
            since[row.key] = required_time(row.edited_at)
    return since
