"""`p2pcall db copy --from local`: this computer's calls onto the practice server.

Reads the data folder's database read-only (never upgraded, never locked for writing),
connects as the clinician (libpq's password sources, or a prompt; never the command line),
copies every call not on the server yet in one transaction (store/postgres/copy.py), reads
every call back in that transaction and compares it with the laptop before committing, then
reads them all again through a new connection after the commit. One line per call, then the
counts; exit 0 only when every call is on the server and was verified there.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from p2pcall.store.postgres.copy import CallOutcome, Checked

EXIT_OK, EXIT_PROBLEM = 0, 1
PREFIX = "p2pcall db copy"
NOTHING = "nothing was copied"


EXIT_INTERRUPTED = 130


class Stop(Exception):
    """One line for stderr; the command ends with EXIT_PROBLEM."""


class _Phase:
    """Whether the commit was under way when the copy was interrupted."""

    committing = False


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import error_line

    try:
        return _run(args, data_dir)
    except Stop as exc:
        print(error_line(PREFIX, str(exc)), file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:  # Ctrl+C: the open transaction dies with the connection
        if _Phase.committing:
            said = (
                "interrupted while committing: the copy may or may not have been saved; run "
                "`p2pcall db copy` again to see (calls already copied are never copied twice)"
            )
        else:
            said = f"interrupted before the copy was committed: {NOTHING}"
        print(error_line(PREFIX, said), file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import shown

    reader = _open_laptop(data_dir)
    try:
        conn, url, where = _connect(args.database)
        try:
            print(f"{PREFIX}: from {shown(str(reader.path))} to {shown(where)}")
            return _copy(reader, conn, url, where)
        finally:
            conn.close()
    finally:
        reader.close()


# -- the two ends -----------------------------------------------------------------------------


def _open_laptop(data_dir: Path) -> Any:
    """The laptop's database, opened read-only by `store.reader.Reader`."""
    from p2pcall.paths import data_dir_problem, database_path
    from p2pcall.store.errors import StoreError
    from p2pcall.store.reader import Reader

    problem = data_dir_problem(data_dir)
    if problem is not None:
        raise Stop(f"{problem} {NOTHING}.")
    path = database_path(data_dir)
    if os.path.islink(path):
        # The file p2pcall writes is a regular file in the data folder; a link there points
        # at some other file, which is not this laptop's history as p2pcall kept it.
        raise Stop(
            f"{path} is a symbolic link to {os.readlink(path)}, not the database file p2pcall "
            f"keeps: give --data-dir the folder that holds the file itself; {NOTHING}."
        )
    try:
        return Reader.open(data_dir)
    except StoreError as exc:
        raise Stop(f"{exc} {NOTHING.capitalize()}.") from None


def _connect(given: str | None) -> tuple[Any, str, str]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        from p2pcall.store.opening import EXTRA_HINT

        raise Stop(f"psycopg is not installed; {EXTRA_HINT}") from None
    from p2pcall.store.errors import DatabaseError
    from p2pcall.store.postgres import connection
    from p2pcall.store.postgres import dialect as pg
    from p2pcall.store.postgres.store import checked_role, prepared

    try:
        url = connection.database_url(given)
        warning = connection.tls_warning(url)
        if warning:
            from p2pcall.commands._records import error_line

            print(error_line(PREFIX, warning), file=sys.stderr)
        conn = prepared(connection.connect(url, settings=pg.SESSION_SETTINGS))
    except connection.ConnectionProblem as exc:
        raise Stop(f"{exc}; {NOTHING}.") from None
    where = connection.shown_connected(conn)
    try:
        role = checked_role(conn, where)
        found = conn.execute(
            "SELECT session_user, to_regclass('p2pcall.copied_call') IS NOT NULL"
        ).fetchone()
        assert found is not None  # one row, always
        user, ready = str(found[0]), bool(found[1])
        conn.rollback()  # the copy's transaction is the next one, a top-level one
    except DatabaseError as exc:
        conn.close()
        raise Stop(f"{str(exc).rstrip('.')}; {NOTHING}.") from None
    except Exception as exc:  # psycopg.Error: in the server's words, never a row
        conn.close()
        raise Stop(f"{pg.describe_read(exc, where).rstrip('.')}; {NOTHING}.") from None
    if role != "clinician":
        conn.close()
        raise Stop(
            f"{user} is a{'n' if role == 'admin' else ''} {role} on the server: db copy brings "
            "a clinician's own calls, which become theirs on the server; connect as the "
            f"clinician whose calls these are; {NOTHING}."
        )
    if not ready:
        conn.close()
        raise Stop(
            f"{where}: the server's p2pcall schema has no place yet for calls copied from a "
            f"laptop; whoever runs the server runs `p2pcall db upgrade`; {NOTHING}."
        )
    return conn, url, where


# -- the copy, checked twice ------------------------------------------------------------------


def _copy(reader: Any, conn: Any, url: str, where: str) -> int:
    import psycopg

    from p2pcall.store.errors import StoreError
    from p2pcall.store.postgres import dialect as pg
    from p2pcall.store.postgres.copy import CopyRefused, copy_history
    from p2pcall.store.postgres.dbapi import PgDb

    try:
        with reader.reading() as laptop:  # one snapshot of the laptop for all of it
            try:
                outcomes = copy_history(laptop, conn)
                # The record itself before committing; the exports too once committed
                # (`_check_again`): rendering is most of the time a check takes.
                inside = {
                    o.local_id: _compare(laptop, PgDb(conn), o, exports=False) for o in outcomes
                }
            except CopyRefused as exc:
                conn.rollback()
                raise Stop(f"{exc}.") from None
            except psycopg.Error as exc:
                _rollback(conn)
                raise Stop(f"{pg.describe_write(exc, where).rstrip('.')}; {NOTHING}.") from None
            # A call copied now that reads back otherwise: nothing is kept. A call copied
            # before that differs now (typed on afterwards, on one side) is left as it is,
            # never copied twice, and reported below as differing.
            if any(inside[o.local_id].problems for o in outcomes if o.copied_now):
                conn.rollback()
                for outcome in outcomes:
                    _say(outcome, inside[outcome.local_id], after_commit=False)
                raise Stop(
                    "read back from the server before committing, the calls above differ "
                    f"from this laptop's; {NOTHING} (the transaction was rolled back)."
                )
            try:
                _Phase.committing = True
                conn.commit()
                _Phase.committing = False
            except psycopg.Error as exc:
                raise Stop(
                    f"the connection to {where} failed while committing "
                    f"({pg.connection_error(exc)}): the copy may or may not have been saved; "
                    "run `p2pcall db copy` again: calls already copied are recognized and "
                    "checked, never copied twice."
                ) from None
            after, unchecked = _check_again(laptop, url, conn, outcomes)
    except StoreError as exc:  # the laptop's file could not be read (busy, damaged)
        _rollback(conn)
        raise Stop(f"{exc} {NOTHING.capitalize()}.") from None
    for outcome in outcomes:
        _say(outcome, after.get(outcome.local_id), after_commit=True)
    return _summary(outcomes, after, unchecked)


def _rollback(conn: Any) -> None:
    import contextlib

    import psycopg

    # A connection that is gone: the server rolls its transaction back itself.
    with contextlib.suppress(psycopg.Error):
        conn.rollback()


def _compare(laptop: Any, server: Any, outcome: CallOutcome, *, exports: bool) -> Checked:
    """A call copied now: the same on both sides; one copied before: still all there."""
    from p2pcall.store.postgres.copy import Checked, compare_call, compare_copied_before

    try:
        if outcome.copied_now:
            return compare_call(
                laptop, server, outcome.local_id, outcome.server_id, exports=exports
            )
        return compare_copied_before(laptop, server, outcome.local_id, outcome.server_id)
    except (ValueError, TypeError, LookupError):  # the laptop's rows were read before
        return Checked(
            ("its record on the server cannot be read back: a stored value there is not one "
             "p2pcall writes (changed outside p2pcall)",),
            None,
        )  # fmt: skip


def _check_again(
    laptop: Any, url: str, first: Any, outcomes: list[CallOutcome]
) -> tuple[dict[int, Checked], str | None]:
    """Every call read back through a new connection, in a new read-only snapshot: what
    others will read. (results, why it could not be made or None)."""
    import psycopg

    from p2pcall.store.errors import StoreError
    from p2pcall.store.postgres import connection
    from p2pcall.store.postgres import dialect as pg
    from p2pcall.store.postgres.reader import PgReader
    from p2pcall.store.postgres.store import prepared

    try:
        conn = prepared(
            connection.connect(
                url,
                autocommit=True,
                password=first.info.password or None,
                settings=pg.SESSION_SETTINGS,
            )
        )
    except connection.ConnectionProblem as exc:
        return {}, str(exc)
    server = PgReader(conn, connection.shown_connected(conn), "clinician")
    try:
        with server.reading() as db:
            return {o.local_id: _compare(laptop, db, o, exports=True) for o in outcomes}, None
    except (StoreError, psycopg.Error) as exc:
        return {}, str(exc)
    finally:
        server.close()


def _say(outcome: CallOutcome, check: Checked | None, *, after_commit: bool) -> None:
    if outcome.copied_now:
        what = f"call {outcome.local_id}: copied as server call {outcome.server_id}"
        if not after_commit:
            what = f"call {outcome.local_id}: would be server call {outcome.server_id}"
    else:
        when = outcome.copied_at.astimezone(UTC) if outcome.copied_at else None
        stamp = f" on {when:%Y-%m-%d %H:%M} UTC" if when else ""
        what = (
            f"call {outcome.local_id}: already on the server as call {outcome.server_id} "
            f"(copied{stamp}), not copied again"
        )
    if check is None:
        print(f"{what}; NOT CHECKED on the server")
    elif check.problems:
        print(f"{what}; DIFFERS on the server: {'; '.join(check.problems)}")
    elif not outcome.copied_now:
        head = f", chain head {check.head} recomputed" if check.head else ""
        print(f"{what}; checked: all of it on this laptop is there{head}")
    elif outcome.finalized:
        print(f"{what}; verified, chain head {check.head} recomputed on the server")
    else:
        print(f"{what}; verified (not finalized)")


def _summary(outcomes: list[CallOutcome], after: dict[int, Checked], unchecked: str | None) -> int:
    copied = sum(1 for o in outcomes if o.copied_now)
    before = len(outcomes) - copied
    verified = sum(1 for o in outcomes if o.local_id in after and not after[o.local_id].problems)
    differ = sum(1 for o in outcomes if o.local_id in after and after[o.local_id].problems)
    finalized = sum(1 for o in outcomes if o.finalized and o.local_id in after)
    if not outcomes:
        print("no calls on this laptop: nothing to copy")
        return EXIT_OK
    print(
        f"{copied} copied, {before} already on the server; {verified} of {len(outcomes)} "
        f"verified on the server (chain heads of {finalized} finalized recomputed there), "
        f"{differ} differ"
    )
    if unchecked is not None:
        print(
            "NOT VERIFIED: the copy was committed, but reading it back through a new "
            f"connection could not be done ({unchecked}); run `p2pcall db copy` again to check"
        )
        return EXIT_PROBLEM
    if verified != len(outcomes):
        print("NOT VERIFIED: the calls marked DIFFERS above are not the laptop's record")
        return EXIT_PROBLEM
    print(f"VERIFIED: all {len(outcomes)} calls of this laptop are on the server, as recorded")
    return EXIT_OK
