"""`p2pcall export CALL --format text|markdown|json [--redact] [-o FILE] [--force]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from p2pcall.commands._records import (
    EXIT_USAGE,
    CommandError,
    add_call_argument,
    emit,
    load_record,
    run_guarded,
    shown,
)
from p2pcall.domain.formats import EXPORT_FORMATS

FORMATS = EXPORT_FORMATS
ALIASES = {"txt": "text", "md": "markdown"}


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "export",
        parents=parents,
        help="write a call's record as text, Markdown or JSON",
        description="Write a call's record to standard output or a file (0600, written "
        "atomically, never replacing a file without --force). Every export ends with the "
        "SHA-256 digest of its own content.",
    )
    add_call_argument(parser)
    parser.add_argument(
        "-f",
        "--format",
        default="text",
        metavar="FORMAT",
        help="text (default), markdown (md) or json",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace patient identifiers (reference, age, gender, diagnosis) by [redacted]; "
        "note text is not searched for names",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    def action() -> int:
        fmt = args.format.strip().lower()
        fmt = ALIASES.get(fmt, fmt)
        if fmt not in FORMATS:
            raise CommandError(
                f"unknown format {args.format!r}: choose text, markdown or json.", EXIT_USAGE
            )
        from p2pcall.domain.export import render
        from p2pcall.domain.timefmt import now_utc

        record = load_record(data_dir, args.database, args.call)
        text = render(record, fmt, now_utc(), args.redact)
        written = emit(text, args.output, args.force, data_dir)
        if written:
            print(f"Wrote {shown(written)}", file=sys.stderr)
        return 0

    return run_guarded(action)
