"""`p2pcall where`: the data folder and database path."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    sub.add_parser("where", parents=parents, help="print the data folder and database path")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import shown
    from p2pcall.paths import database_path

    # Shown, not raw: a folder name holding an escape sequence must not reach the terminal.
    print(f"data folder: {shown(data_dir)}")
    database = getattr(args, "database", None)
    if database is None:
        print(f"database:    {shown(database_path(data_dir))}")
        return 0
    from p2pcall.store.postgres.connection import shown as server_shown

    try:  # the server, as it may be printed: never a password
        server = server_shown(database)
    except ImportError:
        server = "(install the PostgreSQL extra to read this URL)"
    print(f"database:    practice server {shown(server)}")
    return 0
