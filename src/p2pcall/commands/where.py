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
    print(f"database:    {shown(database_path(data_dir))}")
    return 0
