"""`p2pcall letter CALL [-o FILE] [--force]`: a draft of the written confirmation to the insurer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from p2pcall.commands._records import add_call_argument, emit, load_record, run_guarded, shown


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "letter",
        parents=parents,
        help="draft the follow-up letter confirming a call to the insurer",
        description="Draft, as plain text, the letter confirming the call to the insurer. Blanks "
        "(________) mark what the record does not hold; read and complete it before sending.",
    )
    add_call_argument(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    def action() -> int:
        from p2pcall.domain.export import render_letter
        from p2pcall.domain.timefmt import now_utc

        record = load_record(data_dir, args.call)
        written = emit(render_letter(record, now_utc()), args.output, args.force, data_dir)
        if written:
            print(f"Wrote {shown(written)}", file=sys.stderr)
        return 0

    return run_guarded(action)
