"""The numbers a call's record carries: its own row numbers, or those of the laptop it came from.

The hash chain hashes the number of the call, of each field-history row and of each note
(and which note a correction corrects); exports print them, and the follow-ups' numbers.
A call made where it is stored carries the numbers of its rows. A call brought onto a
practice server by `p2pcall db copy` keeps the numbers it had on the laptop (the server
numbers its rows its own way), kept in the server's `copied_call` and `copied_number`
tables: so the chain recomputed on the server gives the head stamped on the laptop, and an
export is the same file from either database. A row added on the server to a copied call
later (an addendum, a follow-up) has no laptop number: it is numbered after the copied rows
of its kind, in the order the server stored them, so numbers never collide.

Applied only where the record is read as evidence (`queries.records.read_inputs`: the
chain, exports, verify, finalizing); the app's screens keep the store's own numbers, which
are what its writes (a correction, a follow-up marked done) name.

Standard library and the domain only, like `queries`.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from p2pcall.domain import chain
from p2pcall.store.queries.cursor import Db, on_server, one, rows

if TYPE_CHECKING:
    from p2pcall.domain.models import Call, FollowUp, Note

CALL_NUMBER = "SELECT local_id FROM copied_call WHERE call_id = ?"
ROW_NUMBERS = "SELECT kind, server_id, local_id FROM copied_number WHERE call_id = ?"
# Which server numbers a record number may name: the call of that number, and the copied
# calls that had it on their laptop (several laptops each had a call 7).
CALLS_NUMBERED = (
    "SELECT id FROM call WHERE id = ? AND id NOT IN (SELECT call_id FROM copied_call) "
    "UNION SELECT call_id FROM copied_call WHERE local_id = ? ORDER BY 1"
)
_HAS_TABLES = "SELECT to_regclass('p2pcall.copied_call') IS NOT NULL"

# Whether a server connection has the copy tables (a server set up before them has none).
_tables_known: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _has_copies(db: Db) -> bool:
    if not on_server(db):
        return False  # a laptop's file: every call was made there
    conn = getattr(db, "conn", db)
    known = _tables_known.get(conn)
    if known is None:
        known = bool(db.execute(_HAS_TABLES).fetchone()[0])
        _tables_known[conn] = known
    return known


@dataclass(frozen=True)
class Renumbering:
    """Store number -> record number, for one copied call."""

    call: int
    copied: dict[str, dict[int, int]]  # kind -> {server id: laptop id}

    def numbers(self, kind: str, server_ids: Sequence[int]) -> dict[int, int]:
        """Every server id of `kind` in the call -> its record number (see the module text)."""
        copied = self.copied.get(kind, {})
        found = dict(copied)
        after = max(copied.values(), default=0)
        for server_id in sorted(set(server_ids) - copied.keys()):
            after += 1
            found[server_id] = after
        return found


def renumbering(db: Db, call_id: int) -> Renumbering | None:
    """The laptop numbers of a copied call; None for a call made where it is stored."""
    if not _has_copies(db):
        return None
    row = one(db, CALL_NUMBER, (call_id,))
    if row is None:
        return None
    copied: dict[str, dict[int, int]] = {}
    for number in rows(db, ROW_NUMBERS, (call_id,)):
        copied.setdefault(number.kind, {})[number.server_id] = number.local_id
    return Renumbering(call=row.local_id, copied=copied)


def calls_numbered(db: Db, number: int) -> list[int]:
    """The store numbers of the calls whose record carries `number` (see CALLS_NUMBERED)."""
    if not _has_copies(db):
        found = one(db, "SELECT id FROM call WHERE id = ?", (number,))
        return [] if found is None else [number]
    return [row.id for row in rows(db, CALLS_NUMBERED, (number, number))]


def renumbered_call(call: Call, numbers: Renumbering) -> Call:
    return replace(call, id=numbers.call, laptop_number=numbers.call)


def renumbered_history(
    history: list[chain.FieldEntry], numbers: Renumbering
) -> list[chain.FieldEntry]:
    ids = numbers.numbers("field_edit", [e.id or 0 for e in history])
    return [replace(e, id=ids[e.id or 0]) for e in history]


def renumbered_notes(notes: list[Note], numbers: Renumbering) -> list[Note]:
    ids = numbers.numbers("note", [n.id for n in notes])
    return [
        replace(
            n,
            id=ids[n.id],
            call_id=numbers.call,
            corrects=None if n.corrects is None else ids.get(n.corrects, n.corrects),
        )
        for n in notes
    ]


def renumbered_followups(followups: list[FollowUp], numbers: Renumbering) -> list[FollowUp]:
    ids = numbers.numbers("followup", [f.id for f in followups])
    return [replace(f, id=ids[f.id], call_id=numbers.call) for f in followups]
