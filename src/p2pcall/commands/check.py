"""`p2pcall check`: walk every page and index of the database, and compare its schema.

The app and the read-only commands do not walk the whole file on every start (it grows with
the history); this is the check on request. It only reads: nothing is created or changed.
Fails closed: a check that could not be made says NOT CHECKED and exits non-zero.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

EXIT_DAMAGED = 1


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "check",
        parents=parents,
        help="check the whole database file for damage and schema changes (reads only)",
    )


def problems_in(path: Path) -> list[str]:
    """SQLite's integrity_check and p2pcall's schema comparison: empty when both are clean."""
    from p2pcall.store import integrity, reading, schema

    db = reading.connect(path)
    try:
        db.execute("BEGIN")  # one snapshot for both checks
        verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
        version = schema.version_of(db)
        rows = db.execute(integrity._MASTER).fetchall()
        db.execute("ROLLBACK")
    finally:
        db.close()
    found = [] if verdict == ["ok"] else [f"SQLite: {line}" for line in verdict]
    if not 0 < version <= schema.CURRENT_VERSION:
        return [*found, f"schema version {version} is not one p2pcall writes"]
    objects = integrity._objects(rows)
    expected = integrity.expected_objects(version)
    return found + [f"schema: {p}" for p in integrity.differences(objects, expected)]


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import error_line, shown
    from p2pcall.store import reading

    if args.database is not None:  # a practice server
        from p2pcall.commands import _check_server

        return _check_server.run(args.database)
    try:
        path = reading.database_to_read(data_dir)
    except reading.ReadError as exc:
        print(error_line("p2pcall check", f"NOT CHECKED: {exc}"), file=sys.stderr)
        return EXIT_DAMAGED
    if path is None:
        print(f"nothing to check: there are no records in {shown(data_dir)} yet")
        return _check_outbox(data_dir)
    try:
        problems = problems_in(path)
    except sqlite3.DatabaseError as exc:
        if not _is_damage(exc):
            return _not_checked(exc, path)
        problems = [f"SQLite: {exc}"]  # it stopped at a page it could not read: damage found
    except (sqlite3.Error, OSError) as exc:
        return _not_checked(exc, path)
    if problems:
        print(f"DAMAGED: {shown(path)}")
        for line in problems[:20]:
            print(f"  {shown(line)}")
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more")
        _check_outbox(data_dir)  # notes kept there matter most when the database is damaged
        return EXIT_DAMAGED
    print(f"ok: {shown(path)}: every page and index read back, schema as p2pcall wrote it")
    return _check_outbox(data_dir)


def _check_outbox(data_dir: Path) -> int:
    """Notes kept in the outbox, waiting to be sent: said, never an error; an outbox that
    cannot be read is NOT CHECKED (it may hold notes)."""
    from p2pcall.commands._records import error_line, shown
    from p2pcall.outbox import Outbox, OutboxError, outbox_path

    try:
        outbox = Outbox.open(data_dir, create=False)
        if outbox is None:
            return 0
        try:
            notes = outbox.pending()
        finally:
            outbox.close()
    except OutboxError as exc:
        print(error_line("p2pcall check", f"NOT CHECKED: {exc}"), file=sys.stderr)
        return EXIT_DAMAGED
    for call_id in sorted({note.call_id for note in notes}):
        of_call = [note for note in notes if note.call_id == call_id]
        count = len(of_call)
        errors = [note.last_error for note in of_call if note.last_error]
        last_try = f"; last try: {errors[-1]}" if errors else ""
        print(
            shown(
                f"outbox: {count} note{'s' if count != 1 else ''} of call #{call_id} "
                f"{'wait' if count != 1 else 'waits'} in {outbox_path(data_dir)}: the app sends "
                f"them at its next start, in the order typed{last_try}"
            )
        )
    return 0


def _is_damage(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def _not_checked(exc: BaseException, path: Path) -> int:
    from p2pcall.commands._records import error_line
    from p2pcall.store import reading

    reason = reading.describe(exc, path)
    print(error_line("p2pcall check", f"NOT CHECKED: {reason}"), file=sys.stderr)
    return EXIT_DAMAGED
