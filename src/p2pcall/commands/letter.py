"""`p2pcall letter CALL [--kind K] [--format F] [-o FILE] [--force]`: a letter after a call.

Kinds: confirmation (default), expedited-appeal, records-request, complaint. Formats: text
(default), markdown, pdf (needs -o). Your edited text, saved in the app, is used when there
is one (`--from-record` ignores it). A file written is listed on the call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from p2pcall.commands._records import (
    EXIT_USAGE,
    CommandError,
    add_call_argument,
    emit,
    open_for_reading,
    parse_call_id,
    run_guarded,
    shown,
)
from p2pcall.domain.formats import LETTER_FORMATS

if TYPE_CHECKING:
    from p2pcall.store.readapi import ReadApi

KIND_CHOICES = ("confirmation", "expedited-appeal", "records-request", "complaint")
FORMAT_CHOICES = LETTER_FORMATS


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "letter",
        parents=parents,
        help="a letter after the call: confirmation, expedited appeal, records request, complaint",
        description="Make a letter from the call's record. Blanks ([to fill in: ...]) mark what "
        "the record does not hold, [check: ...] what to act on; read and complete it before "
        "sending. Your edited text, saved in the app, is used when there is one.",
    )
    add_call_argument(parser)
    parser.add_argument("--kind", choices=KIND_CHOICES, default="confirmation")
    parser.add_argument(
        "--format", choices=[*FORMAT_CHOICES, "md"], default="text", help="pdf needs -o FILE"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.add_argument(
        "--from-record", action="store_true", help="ignore your edited text: draft from the record"
    )
    parser.add_argument(
        "--config-dir",
        metavar="PATH",
        help="settings folder (default: $P2PCALL_CONFIG_DIR, else your user config folder)",
    )


def run(args: argparse.Namespace, data_dir: Path) -> int:
    def action() -> int:
        from p2pcall.config import load_practice, resolve_config_dir
        from p2pcall.domain.letters import LetterUnavailable
        from p2pcall.domain.letters.practice import PracticeError
        from p2pcall.domain.timefmt import now_utc
        from p2pcall.exportfile import ExportFileError
        from p2pcall.paths import database_path
        from p2pcall.store import StoreError
        from p2pcall.store.opening import open_store

        fmt = "markdown" if args.format == "md" else args.format
        call_id = parse_call_id(args.call)
        if fmt == "pdf" and args.output in (None, "-"):
            raise CommandError("A PDF needs a file: add -o FILE.", EXIT_USAGE)
        try:
            practice = load_practice(resolve_config_dir(args.config_dir))
        except PracticeError as exc:
            raise CommandError(str(exc)) from None
        to_stdout = args.output in (None, "-")
        store: ReadApi
        if to_stdout:  # only reads: no write lock, works on a read-only copy
            reader = open_for_reading(data_dir, args.database)
            if reader is None:
                raise CommandError(f"There are no records in {data_dir} yet (no database file).")
            store = reader
        else:  # a file written is listed on the call: a write
            if args.database is None and not database_path(data_dir).exists():
                raise CommandError(f"There are no records in {data_dir} yet (no database file).")
            try:
                store = open_store(data_dir, args.database)
            except StoreError as exc:
                raise CommandError(str(exc)) from None
        try:
            return _make(store, call_id, fmt, args, practice, now_utc())
        except (StoreError, LetterUnavailable, ExportFileError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            store.close()

    return run_guarded(action)


def _make(store, call_id: int, fmt: str, args, practice, generated_at) -> int:
    from p2pcall.letterjob import load_source, render, write_letter

    use_edit = not args.from_record
    if args.output in (None, "-"):
        content, edited = render(
            load_source(store, call_id), args.kind, fmt, practice, generated_at, use_edit=use_edit
        )
        if edited:
            print(
                "p2pcall: your edited text of this letter (--from-record: the draft)",
                file=sys.stderr,
            )
        assert isinstance(content, str)  # a PDF without -o FILE was refused in run()
        emit(content, None, False)
        return 0
    written = write_letter(
        store,
        call_id,
        args.kind,
        fmt,
        Path(args.output),
        practice,
        generated_at,
        force=args.force,
        use_edit=use_edit,
    )
    mark = " (your edited text)" if written.edited else ""
    print(f"Wrote {shown(written.path)}{mark}", file=sys.stderr)
    return 0
