"""The hash chain over a finalized call: a SHA-256 head that changes if any recorded byte does.

Canonical form (version "p2pcall-chain-1"), the contract `p2pcall verify` and the README rely on:

* Entries, in this order:
  1. the call: id, created_at, tz, started_at, ended_at, outcome, finalized_at
     (created_at: the record was made, for a call prepared ahead when preparation began;
     started_at: the reviewer was on the line, null if never marked connected. Records made
     before prepared calls existed have both stamped at once; the bytes hashed are the same,
     so their heads still verify and the format name stays p2pcall-chain-1);
  2. the current value of every field (`call_field`), by key: key, value, declined, late,
     updated_at;
  3. the history of field values (`field_edit`), by id: id, key, value, declined, late,
     edited_at;
  4. the notes saved up to finalizing, by id: id, section, kind, body, started_at, saved_at,
     late, reason, corrects (the id of the note it corrects, or null).
* Each entry is one JSON object with a "type" member ("call", "field", "field_edit", "note"),
  keys sorted, no whitespace (separators "," and ":"), non-ASCII characters kept as they are
  and the whole encoded as UTF-8 (lone surrogates, which SQLite cannot hold anyway, with
  "surrogatepass"). Times are UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly as stored.
* Links: h0 is 64 "0" characters; h(i) = lowercase hex SHA-256 of the ASCII bytes of h(i-1)
  followed by the bytes of entry i. The head is the last h. The previous hash has a fixed
  length, so link boundaries are unambiguous.
* Addenda (notes saved after finalizing) are not in the finalized head: `extend` continues the
  chain over them for an export that wants one hash covering everything.

What it proves: the record read back now is byte for byte the one hashed at finalizing. What
it does not: whoever can rewrite the database can recompute the chain; only a head kept away
from the laptop (printed, e-mailed, in an export sent to the insurer) anchors it.

Pure: no Textual, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from p2pcall.domain.models import Call, Note

CHAIN_FORMAT = "p2pcall-chain-1"
GENESIS = "0" * 64
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class FieldEntry:
    """One field value as recorded: the current value (id None) or one history row."""

    key: str
    value: str
    declined: bool
    late: bool
    at: datetime  # updated_at for a current value, edited_at for a history row
    id: int | None = None


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: the chain hashes aware UTC times only")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def call_entry(call: Call) -> dict[str, Any]:
    return {
        "type": "call",
        "format": CHAIN_FORMAT,
        "id": call.id,
        "created_at": utc_text(call.created_at),
        "tz": call.tz,
        "started_at": utc_text(call.started_at),
        "ended_at": utc_text(call.ended_at),
        "outcome": call.outcome.value if call.outcome else None,
        "finalized_at": utc_text(call.finalized_at),
    }


def field_entry(field: FieldEntry) -> dict[str, Any]:
    return {
        "type": "field",
        "key": field.key,
        "value": field.value,
        "declined": field.declined,
        "late": field.late,
        "updated_at": utc_text(field.at),
    }


def field_edit_entry(edit: FieldEntry) -> dict[str, Any]:
    return {
        "type": "field_edit",
        "id": edit.id,
        "key": edit.key,
        "value": edit.value,
        "declined": edit.declined,
        "late": edit.late,
        "edited_at": utc_text(edit.at),
    }


def note_entry(note: Note) -> dict[str, Any]:
    return {
        "type": "note",
        "id": note.id,
        "section": note.section.value,
        "kind": note.kind.value,
        "body": note.body,
        "started_at": utc_text(note.started_at),
        "saved_at": utc_text(note.saved_at),
        "late": note.late,
        "reason": note.reason,
        "corrects": note.corrects,
    }


def canonical(entry: dict[str, Any]) -> bytes:
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def link(previous: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(previous.encode("ascii") + canonical(entry)).hexdigest()


def notes_at_finalize(notes: Iterable[Note], finalized_at: datetime) -> list[Note]:
    """The notes the finalized head covers: saved no later than the finalize stamp.

    The database refuses a note after finalizing unless its saved_at is later, so this split
    is exact.
    """
    return sorted((n for n in notes if n.saved_at <= finalized_at), key=lambda n: n.id)


def addenda(notes: Iterable[Note], finalized_at: datetime) -> list[Note]:
    return sorted((n for n in notes if n.saved_at > finalized_at), key=lambda n: n.id)


def entries(
    call: Call,
    fields: Sequence[FieldEntry],
    history: Sequence[FieldEntry],
    notes: Sequence[Note],
) -> Iterator[dict[str, Any]]:
    yield call_entry(call)
    for field in sorted(fields, key=lambda f: f.key):
        yield field_entry(field)
    for edit in sorted(history, key=lambda e: e.id or 0):
        yield field_edit_entry(edit)
    for note in sorted(notes, key=lambda n: n.id):
        yield note_entry(note)


def fold(start: str, items: Iterable[dict[str, Any]]) -> str:
    head = start
    for entry in items:
        head = link(head, entry)
    return head


def chain_head(
    call: Call,
    fields: Sequence[FieldEntry],
    history: Sequence[FieldEntry],
    notes: Sequence[Note],
) -> str:
    """The head over the call as it is being finalized (`call.finalized_at` must be set).

    Notes saved after `call.finalized_at` (addenda) are left out.
    """
    if call.finalized_at is None:
        raise ValueError("the chain covers a finalized call: stamp finalized_at first")
    covered = notes_at_finalize(notes, call.finalized_at)
    return fold(GENESIS, entries(call, fields, history, covered))


def extend(head: str, later_notes: Sequence[Note]) -> str:
    """The chain continued over addenda: one hash for the record with everything added since."""
    return fold(head, (note_entry(n) for n in sorted(later_notes, key=lambda n: n.id)))


def short(head: str | None) -> str:
    """The first 16 hex digits, grouped, for a call bar: enough to compare by eye."""
    if not head:
        return ""
    return " ".join(head[i : i + 4] for i in range(0, 16, 4))
