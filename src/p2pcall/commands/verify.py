"""`p2pcall verify FILE`: is an exported record unchanged, and does it match the database?

Checks, in order: the export's own digest (edited since export?), the hash-chain head it
prints against the one recomputed from the database (the record rewritten since finalizing?),
and the file line by line against a fresh rendering from the database with the export's own
format, time and redaction (the first line that differs). Without a database (or without the
call in it) only the file's own digest is checked, and the output says so.

Exit codes: 0 verified, 1 something differs (the output says where), 2 usage or unreadable file.
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
            "the database, and its lines against a fresh rendering from the database. Exit "
            "status 0 verified, 1 differs, 2 usage or unreadable file."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the exported .txt, .md or .json file")
    parser.add_argument(
        "--no-database",
        action="store_true",
        help="check the file alone (its digest), without opening the database",
    )


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.domain.verify import Report

    text = _read(Path(args.file))
    if text is None:
        return EXIT_USAGE
    report = Report()
    meta = _check_file(text, report)
    if meta is False:
        from p2pcall.commands._records import error_line

        what = f"{args.file}: not a p2pcall export (no export header or digest found)."
        print(error_line("p2pcall verify", what), file=sys.stderr)
        return EXIT_USAGE
    if args.no_database:
        report.add(True, "database", "not compared (--no-database)")
    else:
        _check_database(text, meta, data_dir, report)
    for line in report.lines():
        print(line)
    verdict = "VERIFIED" if report.ok else "DIFFERS"
    print(f"{verdict}: {args.file}")
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
        refuse(f"not UTF-8 text (byte {exc.start}); p2pcall exports are UTF-8.")
    except OSError as exc:
        refuse(f"cannot be read ({(exc.strerror or type(exc).__name__).lower()}).")
    return None


_NOT_A_FILE = "not a regular file (a folder, device, FIFO or socket); verify reads export files."


def _check_file(text: str, report: Any) -> Any:
    """The export's own digest; returns its metadata, None if unreadable, False if no export."""
    from p2pcall.domain.export.digest import check_digest, read_meta

    meta = read_meta(text)
    ok, message = check_digest(text)
    if meta is None and not ok:
        return False
    report.add(ok, "digest", message)
    if meta is None:
        report.add(False, "header", "the export header line is missing or damaged")
    return meta


def _check_database(text: str, meta: Any, data_dir: Path, report: Any) -> None:
    from p2pcall.paths import database_path

    db = database_path(data_dir)
    if not db.exists():
        report.add(True, "database", f"not compared: no database at {db} (the file alone)")
        return
    if meta is None:
        report.add(False, "database", "not compared: the export does not say which call it is")
        return
    from p2pcall.store import Store, StoreError

    try:
        store = Store.open_read_only(data_dir)
    except StoreError as exc:
        report.add(False, "database", f"not compared: {exc}")
        return
    try:
        try:
            inputs = store.chain_inputs(meta.call_id)
        except StoreError:
            report.add(True, "database", f"not compared: call {meta.call_id} is not in {db}")
            return
        _check_chain(text, inputs, report)
        _check_lines(text, meta, store, report)
    finally:
        store.close()


def _check_chain(text: str, inputs: Any, report: Any) -> None:
    from p2pcall.domain.verify import printed_head

    call = inputs.call
    found, printed = printed_head(text)
    if call.finalized_at is None:
        ok = printed is None
        report.add(
            ok,
            "chain",
            "call not finalized yet: no chain head to compare"
            if ok
            else "the export prints a chain head but the database has the call not finalized",
        )
        return
    recomputed = inputs.head()
    if recomputed != call.chain_head:
        report.add(
            False,
            "chain",
            f"the database was changed after finalizing: its notes and fields now hash to "
            f"{recomputed}, the head stamped at finalizing is {call.chain_head}",
        )
    if not found:
        report.add(False, "chain", "the export prints no hash-chain head")
    elif printed is None:
        report.add(False, "chain", "the export says not finalized, the database has it finalized")
    elif printed != recomputed:
        report.add(
            False,
            "chain",
            f"the head printed in the export ({printed}) is not the one recomputed from the "
            f"database ({recomputed})",
        )
    else:
        report.add(True, "chain", f"head {printed} recomputed from the database")


def _check_lines(text: str, meta: Any, store: Any, report: Any) -> None:
    from datetime import timedelta

    from p2pcall.domain.export import ExportError, render
    from p2pcall.store.exporting import load_for_export

    record = load_for_export(store, meta.call_id)
    try:
        expected = render(record, meta.format, meta.generated_at, meta.redact)
    except ExportError as exc:
        report.add(False, "database", f"cannot re-render this export: {exc}")
        return
    if _same(text, expected, meta.format):
        report.add(True, "database", "every line matches a fresh rendering from the database")
        return
    # Notes added since the export (addenda, late entries) are not an edit of the file. The
    # export time is cut to the second, so a note from that same second was already in it.
    cutoff = meta.generated_at + timedelta(seconds=1)
    later = [n for n in record.notes if n.saved_at >= cutoff]
    if later:
        record.notes = [n for n in record.notes if n.saved_at < cutoff]
        as_exported = render(record, meta.format, meta.generated_at, meta.redact)
        if _same(text, as_exported, meta.format):
            report.add(
                True,
                "database",
                f"matches the database as it was at export; {len(later)} note(s) were added "
                "since (shown in a new export)",
            )
            return
        expected = as_exported
    report.add(False, "database", _where(text, expected, meta.format))


def _same(text: str, expected: str, fmt: str) -> bool:
    if text == expected:
        return True
    if fmt != "json":
        return False
    import json

    try:  # a re-indented JSON export holds the same record (its digest says so too)
        return json.loads(text) == json.loads(expected)
    except ValueError:
        return False


def _where(text: str, expected: str, fmt: str) -> str:
    """The first place the file and the database's rendering differ, for the user."""
    from p2pcall.domain.verify import describe, first_difference, first_json_difference

    if fmt == "json":
        import json

        try:
            found = json.loads(text)
        except ValueError:
            found = None
        if found is not None:
            # Re-indenting keeps the JSON digest valid: compare values, and name the member.
            found.pop("digest", None)
            wanted = json.loads(expected)
            wanted.pop("digest", None)
            return first_json_difference(found, wanted) or "only the layout differs"
    difference = first_difference(text, expected)
    return describe(difference) if difference else "differs"
