"""`p2pcall db init`, `db upgrade` and `db copy`: a practice's PostgreSQL server.

`init` creates the roles, the schema (owned by p2pcall_owner) and every table, guard and
row-level security policy; run again it changes nothing and checks the roles. `upgrade`
applies what a newer p2pcall adds, in one transaction. `copy --from local` brings the
clinician's history from this computer's data folder onto the server (commands/db_copy.py).
All connect with libpq's own password sources (see store/postgres/connection.py) and print
the database without secrets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.store.postgres.schema import Outcome

EXIT_PROBLEM = 1
EXTRA_HINT = 'install the PostgreSQL extra first: pip install "p2pcall[postgres]"'


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    db = sub.add_parser(
        "db",
        help="set up or upgrade a practice's PostgreSQL server (db init, db upgrade)",
        description="Set up or upgrade the p2pcall schema on a PostgreSQL server. The "
        "password comes from ~/.pgpass, a service file or PGPASSWORD, or is asked for; "
        "never from the command line.",
    )
    actions = db.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    for name, text in (
        ("init", "create the roles, the schema and its guards (safe to run again)"),
        ("upgrade", "bring the server's schema to this version of p2pcall"),
        ("copy", "copy your calls from this computer's data folder onto the server"),
    ):
        # init and upgrade have no --data-dir: they touch the server only, never the
        # local records; copy reads the data folder (never writes it).
        action = actions.add_parser(
            name, help=text, description=text, parents=parents if name == "copy" else []
        )
        if name != "copy":  # copy has it from `parents`, with --data-dir
            action.add_argument(
                "--database",
                metavar="URL",
                help="postgresql://user@host/database?sslmode=verify-full "
                "(default: $P2PCALL_DATABASE_URL); no password in it",
            )
        if name == "copy":
            action.add_argument(
                "--from",
                dest="source",
                choices=["local"],
                required=True,
                help="local: the calls in the data folder (--data-dir, $P2PCALL_DATA_DIR, "
                "else your user data folder), copied as the clinician you connect as",
            )


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import error_line, shown

    prefix = f"p2pcall db {args.db_action}"
    if args.db_action == "copy":
        from p2pcall.commands import _db_copy as db_copy

        return db_copy.run(args, data_dir)
    try:
        import psycopg
    except ImportError:
        print(error_line(prefix, f"psycopg is not installed; {EXTRA_HINT}"), file=sys.stderr)
        return EXIT_PROBLEM
    from p2pcall.store.postgres import connection, schema

    try:
        url = connection.database_url(args.database)
        warning = connection.tls_warning(url)
        if warning:
            print(error_line(prefix, warning), file=sys.stderr)
        conn = connection.connect(url)
    except connection.ConnectionProblem as exc:
        print(error_line(prefix, str(exc)), file=sys.stderr)
        return EXIT_PROBLEM
    where = shown(connection.shown_connected(conn))
    try:
        with conn:
            step = schema.init if args.db_action == "init" else schema.upgrade
            outcome = step(conn)
    except schema.ServerSchemaError as exc:
        print(error_line(prefix, f"{exc} (nothing was changed)"), file=sys.stderr)
        return EXIT_PROBLEM
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(
            error_line(prefix, f"the server refused: {first} (nothing was changed)"),
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    print(_said(args.db_action, outcome, where))
    return 0


def _said(action: str, outcome: Outcome, where: str) -> str:
    if outcome.before == outcome.after:
        done = "nothing to change" if action == "upgrade" else "already set up; roles checked"
        return f"{where}: server schema {outcome.after} is current, {done}"
    if outcome.before == 0:
        return f"{where}: set up at server schema {outcome.after} (roles, tables, guards)"
    return f"{where}: upgraded from server schema {outcome.before} to {outcome.after}"
