"""The record checks `verify` makes for an export, shared with the evidence packet's checks
(`verify_packet`): the chain against the database, and the bytes against a fresh rendering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from p2pcall.store.readapi import ReadApi


def against_database(
    data_dir: Path,
    database: str | None,
    report: Any,
    compare: Callable[[ReadApi], None],
    offline: str,
) -> None:
    """Run `compare` on the database, opened read-only; what could not be compared (no
    database, busy, damaged) is reported as not compared, never as passed. `offline`: what
    `--no-database` checks instead, for the message."""
    from p2pcall.paths import database_path

    db = database_path(data_dir)
    if database is None and not db.exists():
        report.unchecked(
            "database",
            f"not compared: there is no database at {db} (on another computer, "
            f"`--no-database` checks {offline} alone)",
        )
        return
    from p2pcall.store import StoreError
    from p2pcall.store.opening import open_reader

    try:
        store = open_reader(data_dir, database)
    except StoreError as exc:
        report.unchecked("database", f"not compared: {exc}")
        return
    if store is None:  # the file went between the look and the open
        report.unchecked("database", f"not compared: there is no database at {db}")
        return
    try:
        compare(store)
    except StoreError as exc:  # busy, disk error: whatever was not compared says so
        report.unchecked("database", f"not compared: {exc}")
    finally:
        store.close()


def compare_record(text: str, meta: Any, store: ReadApi, report: Any) -> None:
    """The call the export names, against its chain and a fresh rendering.

    The export names the call by the number its record carries. On a practice server a call
    copied from a laptop keeps its laptop number (`store.numbering`), and several laptops
    each had a call 7: every call of the server whose record carries the number is compared,
    and the export verifies when one of them is, byte for byte, what it says."""
    from p2pcall.domain.verify import Report
    from p2pcall.store.exporting import RecordUnreadableError, calls_numbered, read_record

    candidates = calls_numbered(store, meta.call_id)
    if not candidates:
        report.add(
            False,
            "call",
            f"call {meta.call_id} is not in the database {store.path}: it was deleted, or the "
            "export comes from another database",
        )
        return
    tried: list[Report] = []
    for call_id in candidates:
        scratch = Report()
        try:
            record, inputs = read_record(store, call_id)
        except RecordUnreadableError:
            scratch.add(
                False,
                "call",
                f"the record of call {meta.call_id} cannot be read back: a stored time or "
                "value is not one p2pcall writes (the database was edited outside p2pcall)",
            )
        else:
            check_chain(text, meta.format, inputs, scratch)
            check_lines(text, meta, record, scratch)
        tried.append(scratch)
        if scratch.ok:
            break
    chosen = next((scratch for scratch in tried if scratch.ok), tried[0])
    report.findings.extend(chosen.findings)


def check_chain(text: str, fmt: str, inputs: Any, report: Any) -> None:
    from p2pcall.domain.verify import printed_head

    call = inputs.call
    found, printed = printed_head(text, fmt)
    if call.finalized_at is None:
        ok = found and printed is None
        report.add(
            ok,
            "chain",
            "call not finalized yet: the export and the database agree it has no chain head"
            if ok
            else "the export prints a chain head but the database has the call not finalized"
            if found
            else "the export's record status (chain head) is missing or damaged",
        )
        return
    recomputed = inputs.head()
    if recomputed != call.chain_head:
        report.add(
            False,
            "chain",
            f"the record has been changed since it was finalized: the database now hashes to "
            f"{recomputed}, the head stamped at finalizing is {call.chain_head}",
        )
    if not found:
        report.add(False, "chain", "the export's record status (chain head) is missing or damaged")
    elif printed is None:
        report.add(
            False,
            "chain",
            "the export was made before the call was finalized (it says not finalized); "
            "export the call again",
        )
    elif printed != call.chain_head:
        report.add(
            False,
            "chain",
            f"the head printed in the export ({printed}) is not the one stamped at finalizing "
            f"({call.chain_head})",
        )
    elif printed == recomputed:
        report.add(True, "chain", f"head {printed} recomputed from the database")


def check_lines(text: str, meta: Any, record: Any, report: Any) -> None:
    from datetime import timedelta

    from p2pcall.domain.export import ExportError, render

    try:
        expected = render(record, meta.format, meta.generated_at, meta.redact)
    except ExportError as exc:
        report.add(False, "database", f"cannot re-render this export: {exc}")
        return
    if text == expected:
        report.add(True, "database", "every byte matches a fresh rendering from the database")
        return
    # Notes added since the export (addenda, late entries) are not an edit of the file. The
    # export time is cut to the second, so a note from that same second was already in it.
    cutoff = meta.generated_at + timedelta(seconds=1)
    later = [n for n in record.notes if n.saved_at >= cutoff]
    if later:
        record.notes = [n for n in record.notes if n.saved_at < cutoff]
        expected = render(record, meta.format, meta.generated_at, meta.redact)
    if text == expected or _same_but_followup_status(text, expected, meta.format):
        since = []
        if later:
            since.append(f"{len(later)} note(s) were added since (shown in a new export)")
        if text != expected:
            since.append("follow-up status changed since (work tracking, not compared)")
        report.add(
            True, "database", "matches the database as it was at export; " + "; ".join(since)
        )
        return
    report.add(False, "database", _where(text, expected, meta.format))


def _same_but_followup_status(text: str, expected: str, fmt: str) -> bool:
    from p2pcall.domain.verify import without_followup_status

    return without_followup_status(text, fmt) == without_followup_status(expected, fmt)


def _where(text: str, expected: str, fmt: str) -> str:
    """The first place the file and the database's rendering differ, for the user (follow-up
    status aside, as in the comparison itself)."""
    from p2pcall.domain.verify import (
        describe,
        first_difference_but_followup_status,
        first_json_difference,
    )

    if fmt == "json":
        from p2pcall.domain.export.strict_json import JSONStructureError, loads_strict

        try:
            found = loads_strict(text)
        except JSONStructureError:
            found = None
        if isinstance(found, dict):
            wanted = loads_strict(expected)
            for document in (found, wanted):
                document.pop("digest", None)
                for followup in document.get("followups") or []:
                    if isinstance(followup, dict):
                        for key in ("status", "status_label", "done_at", "changed_by"):
                            followup.pop(key, None)
            where = first_json_difference(found, wanted)
            if where is not None:
                return where
            layout = first_difference_but_followup_status(text, expected, fmt)
            at = f" ({describe(layout)})" if layout else ""
            return (
                "same values, but not byte for byte the file p2pcall wrote (re-indented or "
                f"re-encoded?){at}"
            )
    difference = first_difference_but_followup_status(text, expected, fmt)
    return describe(difference) if difference else "differs"
