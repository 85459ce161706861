"""`p2pcall show CALL`: the call's record as plain text on standard output."""

from __future__ import annotations

import argparse
from pathlib import Path

from p2pcall.commands._records import add_call_argument, emit, load_record, run_guarded


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "show",
        parents=parents,
        help="print a call's record as plain text",
        description="Print a call's whole record as plain text (the same as `export --format "
        "text`), ending with its SHA-256 digest line.",
    )
    add_call_argument(parser)


def run(args: argparse.Namespace, data_dir: Path) -> int:
    def action() -> int:
        from p2pcall.domain.export import render
        from p2pcall.domain.timefmt import now_utc

        record = load_record(data_dir, args.database, args.call)
        emit(render(record, "text", now_utc(), redact=False), None, force=False)
        return 0

    return run_guarded(action)
