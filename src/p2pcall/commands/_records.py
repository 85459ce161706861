"""What `show`, `export` and `letter` share: finding the call, and where the text goes.

Not a subcommand itself (not in NAMES). Every problem becomes one line on stderr and a
non-zero exit code; nothing here prints a traceback or any of the record's content.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.domain.models import CallRecord
    from p2pcall.store.readapi import ReadApi

EXIT_PROBLEM = 1  # the call, the database or the file
EXIT_USAGE = 2  # the command line itself (like argparse)


class CommandError(Exception):
    """One line for stderr, and the exit code to leave with."""

    def __init__(self, message: str, code: int = EXIT_PROBLEM) -> None:
        super().__init__(message)
        self.code = code


def add_call_argument(parser) -> None:
    parser.add_argument(
        "call", metavar="CALL", help="the call's number, as `p2pcall list` shows it"
    )


MAX_CALL_ID = 2**63 - 1  # SQLite's largest row id: no call can have a larger number


def parse_call_id(text: str) -> int:
    """'12', '#12' or 'call-12' -> 12."""
    from p2pcall.domain.text import one_line

    cleaned = text.strip().removeprefix("#").lower().removeprefix("call-").removeprefix("call")
    # Digits only, and few enough of them: int() of a 5,000-digit string is refused by Python.
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 19:
        number = None
    else:
        number = int(cleaned)
    if number is None or not 0 < number <= MAX_CALL_ID:
        raise CommandError(
            f"{one_line(text, 40)!r} is not a call number (see `p2pcall list` for the numbers).",
            EXIT_USAGE,
        )
    return number


def load_record(data_dir: Path, database: str | None, call_text: str) -> CallRecord:
    """The call with notes and follow-ups, read without creating anything when there is none."""
    call_id = parse_call_id(call_text)
    store = open_for_reading(data_dir, database)
    if store is None:
        raise CommandError(f"There are no records in {data_dir} yet (no database file).")
    from p2pcall.store import StoreError
    from p2pcall.store.exporting import load_for_export

    try:
        return load_for_export(store, call_id)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    finally:
        store.close()


def open_for_reading(data_dir: Path, database: str | None) -> ReadApi | None:
    """The records opened to read only: the local file (`store.reader.Reader`: plain
    sqlite3, no SQLAlchemy), None when there is no database file yet, or the server at
    `database` (`PgReader`); CommandError when they cannot be read.

    Every command that only reads comes in here: nothing is created, upgraded or locked.
    """
    from p2pcall.store import StoreError
    from p2pcall.store.opening import open_reader

    try:
        return open_reader(data_dir, database)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def emit(text: str, output: str | None, force: bool, data_dir: Path | None = None) -> str | None:
    """Write to FILE (atomically, 0600, no replacing without force) or to stdout as UTF-8.

    Never into `data_dir`, the records' folder. Returns the path written, or None for stdout.
    """
    if output is None or output == "-":
        _to_stdout(text)
        return None
    from p2pcall.exportfile import ExportFileError, write_export
    from p2pcall.paths import database_path

    records = database_path(data_dir) if data_dir is not None else None
    try:
        return str(write_export(output, text, force=force, records=records))
    except ExportFileError as exc:
        raise CommandError(str(exc)) from None


def _to_stdout(text: str) -> None:
    # Bytes, not text: the digest is over the UTF-8 bytes, whatever the locale or platform.
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # `p2pcall show 3 | head`: the reader left; stop quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run_guarded(action) -> int:
    """Run `action()`; a CommandError becomes `p2pcall: message` on stderr and its code."""
    try:
        return action()
    except CommandError as exc:
        print(error_line("p2pcall", str(exc)), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("p2pcall: interrupted", file=sys.stderr)
        return 130


def error_line(prefix: str, message: str) -> str:
    """`prefix: message` as exactly one visible line (paths may hold newlines or escapes)."""
    return f"{prefix}: {shown(message)}"


def shown(text: object) -> str:
    """A path or message for the terminal: one line, control characters made visible."""
    from p2pcall.domain.text import one_line

    return one_line(str(text))
