"""`p2pcall verify FILE`: is an exported record unchanged, and does it match the database?

Checks, in order: the export's own digest (edited since export?) and, for JSON, that it holds
exactly what the export schema allows (no key twice, nothing added); that the database's
tables and guards are p2pcall's own; that the call is there and still hashes to the head
stamped when it was finalized; that the export prints that head; and that the file is, byte
for byte, a fresh rendering from the database with the export's own format, time and
redaction (addenda saved since and follow-up status left aside).

Fails closed: the verdict is VERIFIED only when every one of those checks was made and
passed. A check that could not be made (no database, database busy or damaged, header
unreadable) is reported as not made, and the verdict is NOT VERIFIED. `--no-database` is the
explicit way to check the file's digest alone; the verdict then says only that.

Exit codes: 0 verified (or, with --no-database, digest matches), 1 not verified (the output
says what differs or what could not be checked), 2 usage or a file that is not an export.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2
MAX_BYTES = 50 * 1024 * 1024  # no export is this big; refuse rather than read a disk image


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "verify",
        parents=parents,
        help="check an exported record: unchanged since export, and matching the database",
        description=(
            "Check a text, Markdown or JSON export: its own digest, its hash-chain head against "
            "the database, and its bytes against a fresh rendering from the database. Exit "
            "status 0 verified, 1 not verified (differs, or a check could not be made), 2 usage "
            "or not an export."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the exported .txt, .md or .json file")
    parser.add_argument(
        "--no-database",
        action="store_true",
        help="check the file alone (its digest), without opening the database; the verdict "
        "then says only that",
    )


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import error_line, shown
    from p2pcall.domain.verify import Report

    text = _read(Path(args.file))
    if text is None:
        print(f"NOT VERIFIED: {shown(args.file)}: the file could not be read")
        return EXIT_USAGE
    from p2pcall.commands import verify_packet

    if verify_packet.is_packet(text):  # an evidence packet: its records one by one
        return verify_packet.run(text, args, data_dir)
    report = Report(digest_only=args.no_database)
    meta = _check_file(text, report)
    if meta is False:
        what = f"{args.file}: not a p2pcall export (no export header or digest found)."
        print(error_line("p2pcall verify", what), file=sys.stderr)
        name = shown(args.file)
        print(f"NOT VERIFIED: {name} is not a p2pcall export (no export header or digest).")
        return EXIT_USAGE
    if not args.no_database:
        _check_database(text, meta, data_dir, args.database, report)
    for line in report.lines():
        print(line)
    print(report.verdict(shown(args.file)))
    return EXIT_OK if report.ok else EXIT_DIFFERS


def _read(path: Path) -> str | None:
    """The export's text, or None after one line on stderr (usage: exit 2).

    Regular files only: a FIFO would block and /dev/zero never ends. The type is checked
    before opening (opening some devices does something) and again on what was opened
    (the name may have been swapped meanwhile); the size is counted while reading,
    since /proc and similar files report a size of 0.
    """
    from p2pcall.commands._records import error_line

    def refuse(reason: str) -> None:
        print(error_line("p2pcall verify", f"{path}: {reason}"), file=sys.stderr)

    try:
        if not stat.S_ISREG(path.stat().st_mode):
            refuse(_NOT_A_FILE)
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                refuse(_NOT_A_FILE)
                return None
            chunks: list[bytes] = []
            size = 0
            while chunk := os.read(fd, 1 << 20):
                size += len(chunk)
                if size > MAX_BYTES:
                    refuse("too large to be a p2pcall export.")
                    return None
                chunks.append(chunk)
        finally:
            os.close(fd)
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.object[:5] == b"%PDF-":  # a packet or letter as PDF: for reading, not checked
            refuse(
                "a PDF is for reading; verify checks the text, Markdown or JSON export or packet."
            )
        else:
            refuse(f"not UTF-8 text (byte {exc.start}); p2pcall exports are UTF-8.")
    except OSError as exc:
        refuse(f"cannot be read ({(exc.strerror or type(exc).__name__).lower()}).")
    return None


_NOT_A_FILE = "not a regular file (a folder, device, FIFO or socket); verify reads export files."


def _check_file(text: str, report: Any) -> Any:
    """The export's own digest (and, for JSON, its structure); returns its metadata, None if
    the header is unreadable, False if this is no export at all."""
    from p2pcall.domain.export.digest import check_digest, is_json_export, read_meta

    meta = read_meta(text)
    ok, message = check_digest(text)
    if meta is None and not ok:
        return False
    report.add(ok, "digest", message)
    if is_json_export(text):
        from p2pcall.domain.export.strict_json import structure_problem

        problem = structure_problem(text)
        if problem is None:
            report.add(True, "structure", "exactly the members of the export schema, none twice")
        elif problem != message:  # a key given twice is already the digest's finding
            report.add(False, "structure", problem)
    if meta is None:
        report.add(False, "header", "the export header line is missing or damaged")
    return meta


def _check_database(
    text: str, meta: Any, data_dir: Path, database: str | None, report: Any
) -> None:
    from p2pcall.commands._verify_checks import against_database

    if meta is None:
        report.unchecked(
            "database", "not compared: the export's header does not say which call it is"
        )
        return
    against_database(
        data_dir,
        database,
        report,
        lambda store: _compare(text, meta, store, report),
        "the file's digest",
    )


def _compare(text: str, meta: Any, store: Any, report: Any) -> None:
    from p2pcall.commands._verify_checks import compare_record
    from p2pcall.store import schema
    from p2pcall.store.integrity import schema_check

    version, problems = schema_check(store)
    older = (
        f" (schema {version}, written by an older p2pcall, compared with that version's)"
        if version < getattr(store, "schema_version_now", schema.CURRENT_VERSION)
        else ""
    )
    report.add(
        not problems,
        "guards",
        f"the database's tables, indexes and guards are p2pcall's own{older}"
        if not problems
        else "the database's structure was changed outside p2pcall (guards dropped or "
        f"added?): {'; '.join(problems[:4])}" + ("; ..." if len(problems) > 4 else ""),
    )
    compare_record(text, meta, store, report)
