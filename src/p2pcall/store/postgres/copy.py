"""A clinician's laptop history (the SQLite file) copied onto the practice server.

`p2pcall db copy --from local` (commands/db.py) runs `copy_history`: the local file read in
one read-only snapshot (`store.reader.Reader`: never upgraded, never locked for writing),
the server written in one transaction, connected as the clinician, so the server's guard
makes them the author of every row. Each call goes in as it was made: inserted unfinalized,
its fields, field history and notes saved up to finalizing (corrections pointing at the new
numbers of the notes they correct), then stamped with its own finalize time and chain head,
then its addenda, drafts, follow-ups, letters and reviewer link. The server's guards check
order and times on the way, as they do for the app.

A copied call keeps the numbers its record had on the laptop (`copied_call`,
`copied_number`, see sql/v2.sql and store/numbering.py): the chain recomputed from the
server gives the head stamped on the laptop, and exports are the same bytes.

Recognizing a call copied before: the laptop's call number with the instant it was created
(to the microsecond), unique on the server. Copying the same file again (or a copy of it)
finds every call and adds nothing; another laptop's call 1 was created at another instant.
A call copied before is compared again, never copied twice.

Before committing, every call (copied now or before) is read back from the server in the
same transaction and compared with the laptop (`compare_call`); any difference, or any call
that cannot be copied, and nothing is committed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from p2pcall.store.queries.cursor import Db, rows
from p2pcall.store.timetext import time_of, to_utc


class CopyRefused(Exception):
    """The history cannot be copied as it is; one line, nothing was written."""


# -- the laptop's rows ----------------------------------------------------------------------

# Columns copied from each table, as the SQLite store names them; times and booleans are
# converted (stored text -> an aware UTC time; 0/1 -> bool), the rest goes as it is.
_TIMES = {
    "created_at", "started_at", "ended_at", "finalized_at", "updated_at", "edited_at",
    "saved_at", "computed_due", "due_override", "done_at", "legal_due", "written_at",
    "merged_at", "linked_at", "at",
}  # fmt: skip
_BOOLS = {"declined", "late", "edited"}
COLUMNS = {
    "call": "id, created_at, tz, started_at, ended_at, outcome, finalized_at, chain_head",
    "call_field": "call_id, key, value, declined, updated_at, late",
    "field_edit": "id, call_id, key, value, declined, edited_at, late",
    "note": "id, call_id, section, kind, body, started_at, saved_at, late, reason, corrects_id",
    "draft": "call_id, section, kind, body, started_at, updated_at",
    "followup": "id, call_id, action, status, created_at, rule_id, computed_due, due_override, "
    "override_reason, done_at, note, legal_due, received, received_on",
    "letter_edit": "call_id, kind, body, updated_at",
    "letter_file": "id, call_id, kind, format, path, edited, written_at",
    "reviewer": "id, name, name_key, credentials, specialty, board, license_states, npi, "
    "vendor, created_at, merged_into, merged_at",
    "call_reviewer": "call_id, reviewer_id, linked_at",
    "reviewer_link_log": "id, action, call_id, reviewer_id, other_id, at",
}
_ORDER = {
    "call_field": "call_id, key",
    "draft": "call_id, section",
    "letter_edit": "call_id, kind",
    "call_reviewer": "call_id",
}


def _value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _TIMES:
        moment = time_of(value)
        return None if moment is None else to_utc(moment)
    if column in _BOOLS:
        return bool(value)
    return value


Row = dict[str, Any]


@dataclass
class Laptop:
    """Every row of the laptop's file that is copied, read in one snapshot."""

    tables: dict[str, list[Row]]
    _by_call: dict[str, dict[int, list[Row]]] = field(default_factory=dict)

    def of_call(self, table: str, call_id: int) -> list[Row]:
        """The table's rows of one call, in the order read (grouped once per table)."""
        grouped = self._by_call.get(table)
        if grouped is None:
            grouped = {}
            for row in self.tables[table]:
                grouped.setdefault(row["call_id"], []).append(row)
            self._by_call[table] = grouped
        return grouped.get(call_id, [])


def read_laptop(db: Db) -> Laptop:
    """Every table `COLUMNS` names, rows as dicts with times and booleans converted.
    ValueError/TypeError: a stored value p2pcall never writes (the caller says so)."""
    tables: dict[str, list[Row]] = {}
    for table, columns in COLUMNS.items():
        order = _ORDER.get(table, "id")
        names = [c.strip() for c in columns.split(",")]
        found = db.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
        tables[table] = [
            {name: _value(name, value) for name, value in zip(names, row, strict=True)}
            for row in found
        ]
    return Laptop(tables)


# -- writing on the server ---------------------------------------------------------------------

Conn = psycopg.Connection[Any]


def _insert(conn: Conn, table: str, row: Row, *, returning: bool = True) -> int | None:
    names = list(row)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})" + (
        " RETURNING id" if returning else ""
    )
    cursor = conn.execute(sql.encode(), [row[n] for n in names])
    if not returning:
        return None
    made = cursor.fetchone()
    assert made is not None
    return int(made[0])


def _without(row: Row, *names: str) -> Row:
    return {k: v for k, v in row.items() if k not in names}


def _number(conn: Conn, call_id: int, kind: str, server_id: int, local_id: int) -> None:
    conn.execute(
        "INSERT INTO copied_number (call_id, kind, server_id, local_id) VALUES (%s, %s, %s, %s)",
        (call_id, kind, server_id, local_id),
    )


@dataclass
class Reviewers:
    """Laptop reviewer number -> server reviewer number; which were added now."""

    server_of: dict[int, int] = field(default_factory=dict)
    added: set[int] = field(default_factory=set)


_REVIEWER_SAME = (
    "SELECT id FROM reviewer WHERE name = %s AND name_key = %s AND credentials = %s "
    "AND specialty = %s AND board = %s AND license_states = %s AND npi = %s AND vendor = %s "
    "AND created_at = %s ORDER BY id LIMIT 1"
)
_REVIEWER_KEYS = (
    "name", "name_key", "credentials", "specialty", "board", "license_states", "npi", "vendor",
    "created_at",
)  # fmt: skip


def copy_reviewers(conn: Conn, laptop: Laptop) -> Reviewers:
    """The laptop's reviewer registry: one already on the server with the same details and
    creation instant is the same entry (copied before); any other is added, with its
    merges."""
    found = Reviewers()
    for row in laptop.tables["reviewer"]:
        same = conn.execute(_REVIEWER_SAME, [row[k] for k in _REVIEWER_KEYS]).fetchone()
        if same is not None:
            found.server_of[row["id"]] = int(same[0])
            continue
        new = _insert(conn, "reviewer", _without(row, "id", "merged_into", "merged_at"))
        assert new is not None
        found.server_of[row["id"]] = new
        found.added.add(row["id"])
    for row in laptop.tables["reviewer"]:
        if row["id"] in found.added and row["merged_into"] is not None:
            conn.execute(
                "UPDATE reviewer SET merged_into = %s, merged_at = %s WHERE id = %s",
                (found.server_of[row["merged_into"]], row["merged_at"], found.server_of[row["id"]]),
            )
    return found


def copy_call(conn: Conn, laptop: Laptop, call: Row, reviewers: Reviewers) -> int:
    """One laptop call onto the server (see the module text); its server number."""
    local_id = call["id"]
    server_id = _insert(
        conn, "call", _without(call, "id", "finalized_at", "chain_head"), returning=True
    )
    assert server_id is not None
    conn.execute(
        "INSERT INTO copied_call (call_id, local_id, local_created_at) VALUES (%s, %s, %s)",
        (server_id, local_id, call["created_at"]),
    )
    for row in laptop.of_call("call_field", local_id):
        _insert(conn, "call_field", {**row, "call_id": server_id}, returning=False)
    for row in laptop.of_call("field_edit", local_id):
        new = _insert(conn, "field_edit", {**_without(row, "id"), "call_id": server_id})
        assert new is not None
        _number(conn, server_id, "field_edit", new, row["id"])
    stamp = call["finalized_at"]
    notes = laptop.of_call("note", local_id)
    sealed = [n for n in notes if stamp is None or n["saved_at"] <= stamp]
    addenda = [n for n in notes if stamp is not None and n["saved_at"] > stamp]
    note_of: dict[int, int] = {}
    for batch in (sealed, addenda):
        if batch is addenda and stamp is not None:
            conn.execute(
                "UPDATE call SET finalized_at = %s, chain_head = %s WHERE id = %s",
                (stamp, call["chain_head"], server_id),
            )
        for row in batch:
            corrects = row["corrects_id"]
            if corrects is not None and corrects not in note_of:
                raise CopyRefused(
                    f"call {local_id}: note {row['id']} corrects note {corrects}, which is not "
                    "an earlier note of the same call on this laptop"
                )
            new = _insert(
                conn,
                "note",
                {
                    **_without(row, "id"),
                    "call_id": server_id,
                    "corrects_id": None if corrects is None else note_of[corrects],
                },
            )
            assert new is not None
            note_of[row["id"]] = new
            _number(conn, server_id, "note", new, row["id"])
    for row in laptop.of_call("draft", local_id):
        _insert(conn, "draft", {**row, "call_id": server_id}, returning=False)
    for row in laptop.of_call("followup", local_id):
        new = _insert(conn, "followup", {**_without(row, "id"), "call_id": server_id})
        assert new is not None
        _number(conn, server_id, "followup", new, row["id"])
    for row in laptop.of_call("letter_edit", local_id):
        _insert(conn, "letter_edit", {**row, "call_id": server_id}, returning=False)
    for row in laptop.of_call("letter_file", local_id):
        _insert(conn, "letter_file", {**_without(row, "id"), "call_id": server_id})
    for row in laptop.of_call("call_reviewer", local_id):
        link = {**row, "call_id": server_id, "reviewer_id": reviewers.server_of[row["reviewer_id"]]}
        _insert(conn, "call_reviewer", link, returning=False)
    return server_id


def copy_link_log(conn: Conn, laptop: Laptop, calls: dict[int, int], reviewers: Reviewers) -> None:
    """The reviewer link log: entries of the calls copied now, and merges of reviewers
    added now (entries copied before are not added again)."""
    for row in laptop.tables["reviewer_link_log"]:
        call = row["call_id"]
        if call is not None and call not in calls:
            continue
        if call is None and row["reviewer_id"] not in reviewers.added:
            continue
        other = row["other_id"]
        _insert(
            conn,
            "reviewer_link_log",
            {
                **_without(row, "id"),
                "call_id": None if call is None else calls[call],
                "reviewer_id": reviewers.server_of[row["reviewer_id"]],
                "other_id": None if other is None else reviewers.server_of[other],
            },
        )


# -- what was copied before -------------------------------------------------------------------


def copied_before(conn: Conn, call: Row) -> tuple[int, datetime] | None:
    """(server number, when) of the laptop call copied before by this role, else None.
    CopyRefused when another role copied it (row-level security hides their rows)."""
    found = conn.execute(
        "SELECT call_id, copied_at FROM copied_call WHERE local_id = %s AND local_created_at = %s",
        (call["id"], call["created_at"]),
    ).fetchone()
    if found is not None:
        return int(found[0]), found[1]
    other = conn.execute("SELECT copied_by(%s, %s)", (call["id"], call["created_at"])).fetchone()
    if other is not None and other[0] is not None:
        raise CopyRefused(
            f"call {call['id']} of this laptop is on the server already, copied by {other[0]}: "
            "a laptop's history is copied by the clinician whose calls they are"
        )
    return None


# -- comparing the laptop with the server -----------------------------------------------------

VERIFY_AT = datetime(2000, 1, 1, tzinfo=UTC)  # any fixed time: both renderings use it


@dataclass(frozen=True)
class Checked:
    """What was compared for one call; `problems` empty means every check passed."""

    problems: tuple[str, ...]
    head: str | None  # the chain head recomputed from the server (finalized calls)


def compare_call(
    local: Db, server: Db, local_id: int, server_id: int, *, exports: bool = True
) -> Checked:
    """The laptop's call `local_id` and the server's `server_id` (copied just now), read
    back and compared: the chain's entries (call, fields, field history, every note, with
    the laptop's numbers), the chain head recomputed from the server against the one stamped
    on the laptop, follow-ups, drafts, letters, the reviewer link, and (`exports`) the text,
    Markdown and JSON exports byte for byte."""
    from p2pcall.domain import chain
    from p2pcall.domain.export import FORMATS, render
    from p2pcall.domain.models import CallRecord
    from p2pcall.store import numbering
    from p2pcall.store.queries import followups
    from p2pcall.store.queries.records import read_inputs

    problems: list[str] = []
    mine, theirs = read_inputs(local, local_id), read_inputs(server, server_id)

    def entries(inputs: Any) -> list[bytes]:
        return [
            chain.canonical(e)
            for e in chain.entries(inputs.call, inputs.fields, inputs.history, inputs.notes)
        ]

    if entries(mine) != entries(theirs):
        problems.append(_first_difference(entries(mine), entries(theirs)))
    head = None
    if mine.call.finalized_at is not None:
        head = theirs.head()
        if theirs.call.chain_head != mine.call.chain_head:
            problems.append("the chain head stamped on the server is not the laptop's")
        elif head != mine.call.chain_head:
            problems.append(
                f"the chain recomputed from the server is {head}, the laptop's head is "
                f"{mine.call.chain_head}"
            )
    numbers = numbering.renumbering(server, server_id)
    planned_here = followups.of_call(local, local_id)
    planned_there = followups.of_call(server, server_id)
    if numbers is not None:
        planned_there = numbering.renumbered_followups(planned_there, numbers)
    if planned_here != planned_there:  # who changed them is not compared (FollowUp.author)
        problems.append("the follow-ups differ")
    for what, sql in _SIDE_TABLES:
        if _side(local, sql, local_id) != _side(server, sql, server_id):
            problems.append(f"the {what} differ")
    if exports and not problems:
        for fmt in FORMATS:
            rendered = []
            for inputs, planned in ((mine, planned_here), (theirs, planned_there)):
                call = replace(inputs.call, chain_head=head)
                notes = sorted(inputs.notes, key=lambda n: (n.saved_at, n.id))
                record = CallRecord(call=call, notes=notes, followups=planned)
                rendered.append(render(record, fmt, VERIFY_AT, False))
            if rendered[0] != rendered[1]:
                problems.append(f"its {fmt} export differs")
    return Checked(tuple(problems), head)


def _key(entry: dict[str, Any]) -> bytes:
    from p2pcall.domain import chain

    return chain.canonical(entry)


_CALL_KEYS = ("created_at", "tz", "started_at", "ended_at", "outcome", "finalized_at")


def compare_copied_before(local: Db, server: Db, local_id: int, server_id: int) -> Checked:
    """A call copied by an earlier run: is the laptop's record still on the server?

    The call lives on the server since: notes, field changes, addenda, its finalizing and
    every follow-up, draft and letter may have been added there. What must hold is that
    nothing of the laptop's record is missing or different there: each of its field
    changes and notes (by laptop number), the call's times and outcome where the laptop
    has them, and for a call finalized on the laptop the head recomputed from the server.
    Something typed on the laptop after the copy is found here (a call is copied once)."""
    from p2pcall.domain import chain
    from p2pcall.store.queries.records import read_inputs

    problems: list[str] = []
    mine, theirs = read_inputs(local, local_id), read_inputs(server, server_id)
    here, there = chain.call_entry(mine.call), chain.call_entry(theirs.call)
    changed = [k for k in _CALL_KEYS if here[k] is not None and here[k] != there[k]]
    if changed:
        problems.append(f"its {', '.join(changed)} differ on the server")
    edits_there = {_key(chain.field_edit_entry(e)) for e in theirs.history}
    notes_there = {_key(chain.note_entry(n)) for n in theirs.notes}
    for what, missing in (
        (
            "field changes",
            [e for e in mine.history if _key(chain.field_edit_entry(e)) not in edits_there],
        ),
        ("notes", [n for n in mine.notes if _key(chain.note_entry(n)) not in notes_there]),
    ):
        if missing:
            problems.append(
                f"{len(missing)} of its {what} on this laptop are not on the server as they "
                "are here (typed on the laptop after it was copied?)"
            )
    head = None
    if mine.call.finalized_at is not None and not problems:
        head = theirs.head()
        if head != mine.call.chain_head:
            problems.append(
                f"the chain recomputed from the server is {head}, the laptop's head is "
                f"{mine.call.chain_head}"
            )
    return Checked(tuple(problems), head)


_SIDE_TABLES = (
    ("drafts", "SELECT section, kind, body, started_at, updated_at FROM draft "
     "WHERE call_id = ? ORDER BY section"),
    ("letter edits", "SELECT kind, body, updated_at FROM letter_edit WHERE call_id = ? "
     "ORDER BY kind"),
    ("letter files", "SELECT kind, format, path, edited, written_at FROM letter_file "
     "WHERE call_id = ? ORDER BY written_at, id"),
    ("reviewer links", "SELECT r.name, r.credentials, r.specialty, r.board, r.license_states, "
     "r.npi, r.vendor, r.created_at, cr.linked_at FROM call_reviewer cr "
     "JOIN reviewer r ON r.id = cr.reviewer_id WHERE cr.call_id = ?"),
)  # fmt: skip


def _side(db: Db, sql: str, call_id: int) -> list[tuple[Any, ...]]:
    """The rows as comparable values: times as instants, booleans as bool."""
    found = []
    for row in rows(db, sql, (call_id,)):
        found.append(
            tuple(_value(name, value) for name, value in zip(row._fields, row, strict=True))
        )
    return found


def _first_difference(mine: list[bytes], theirs: list[bytes]) -> str:
    """Where the laptop's record and the server's part, in words (never the text)."""
    import json
    from collections import Counter

    here = [json.loads(e) for e in mine]
    there = [json.loads(e) for e in theirs]
    if len(here) == len(there):
        for one, other in zip(here, there, strict=True):
            if one != other:
                which = one.get("id", one.get("key", ""))
                return f"its {one.get('type', 'entry')} {which} differs on the server"
    names = {"note": "notes", "field_edit": "field changes", "field": "fields"}
    count_here = Counter(e.get("type") for e in here)
    count_there = Counter(e.get("type") for e in there)
    counts = [
        f"{name}: {count_here[kind]} on this laptop, {count_there[kind]} on the server"
        for kind, name in names.items()
        if count_here[kind] != count_there[kind]
    ]
    return "its record differs (" + "; ".join(counts or ["entries"]) + ")"


# -- the whole copy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallOutcome:
    local_id: int
    server_id: int
    copied_now: bool
    copied_at: datetime | None  # when it was copied before (copied_now False)
    finalized: bool


def copy_history(laptop_db: sqlite3.Connection, conn: Conn) -> list[CallOutcome]:
    """Copy every laptop call not on the server yet, inside the caller's transaction on
    `conn`; the outcome of each call. CopyRefused (nothing written that the caller should
    keep: roll back) when a call cannot be copied as it is."""
    from p2pcall.store.queries.records import read_inputs

    try:
        laptop = read_laptop(laptop_db)
    except (ValueError, TypeError) as exc:
        raise CopyRefused(
            "a stored time or value in this laptop's file is not one p2pcall writes (the "
            f"file was edited outside p2pcall): nothing copied ({type(exc).__name__})"
        ) from None
    from p2pcall.store.queries import followups

    for call in laptop.tables["call"]:
        # Read as the app reads it: a value p2pcall never writes stops the copy here,
        # before anything is written.
        try:
            inputs = read_inputs(laptop_db, call["id"])
            followups.of_call(laptop_db, call["id"])
        except (ValueError, TypeError, LookupError):
            raise CopyRefused(
                f"call {call['id']} on this laptop holds a stored time or value p2pcall never "
                "writes (the file was edited outside p2pcall): nothing copied"
            ) from None
        if call["finalized_at"] is None:
            continue
        if inputs.head() != call["chain_head"]:
            raise CopyRefused(
                f"call {call['id']} on this laptop no longer matches the chain head stamped "
                "when it was finalized (the file was changed outside p2pcall); run "
                f"`p2pcall verify` on an export of it: nothing copied"
            )
    outcomes: list[CallOutcome] = []
    before: dict[int, tuple[int, datetime]] = {}
    for call in laptop.tables["call"]:
        found = copied_before(conn, call)
        if found is not None:
            before[call["id"]] = found
    reviewers = copy_reviewers(conn, laptop)
    copied: dict[int, int] = {}
    for call in laptop.tables["call"]:
        local_id = call["id"]
        finalized = call["finalized_at"] is not None
        if local_id in before:
            server_id, when = before[local_id]
            outcomes.append(CallOutcome(local_id, server_id, False, when, finalized))
            continue
        server_id = copy_call(conn, laptop, call, reviewers)
        copied[local_id] = server_id
        outcomes.append(CallOutcome(local_id, server_id, True, None, finalized))
    copy_link_log(conn, laptop, copied, reviewers)
    return outcomes
