"""`p2pcall verify PACKET`: an evidence packet checked like an export, record by record.

Not a subcommand itself (`verify` hands a packet here). The checks, each printed ok, FAIL or
---- (not made), as for an export:

  digest      the packet's own digest (edited since it was made?)
  header      the packet's header line or member can be read
  structure   the list of calls and the records agree (same calls, same order, same count)
  call N ...  each record: its own export digest; the head and digest the packet's list
              states for it; it was made with the packet (same time and redaction); then,
              against the database, the guards once, the record's chain (recomputed and
              equal to the head stamped at finalizing and printed in it) and its bytes (a
              fresh rendering, as `verify` does for an export)
  summary     JSON: the summary's counts recounted from the records in the packet; every
              format: the summary recomputed from the database for exactly these calls, at
              the packet's time (follow-through that moved on since is said, not compared)

VERIFIED only when every check was made and passed; with --no-database the verdict says that
only the packet itself was checked.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from p2pcall.domain.verify import FAIL, OK, UNCHECKED, Finding, Report

if TYPE_CHECKING:
    from p2pcall.domain.export.common import ExportMeta
    from p2pcall.domain.packet.read import ReadPacket
    from p2pcall.store.readapi import ReadApi

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2


def is_packet(text: str) -> bool:
    from p2pcall.domain.packet.kind import packet_format

    return packet_format(text) is not None


def run(text: str, args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import shown
    from p2pcall.domain.export.digest import check_digest
    from p2pcall.domain.packet.read import read_packet

    report = Report(digest_only=args.no_database)
    packet = read_packet(text)
    assert packet is not None, "run is called for packets only"
    ok, message = check_digest(text)
    report.add(ok, "digest", f"the packet's own {message}" if ok else message)
    report.add(
        packet.meta is not None and packet.meta["format"] == packet.format,
        "header",
        f"a {packet.format} packet of {packet.meta['calls']} call(s), made "
        f"{packet.meta['generated_at'].isoformat()}"
        if packet.meta is not None and packet.meta["format"] == packet.format
        else "the packet's header is missing or damaged",
    )
    _check_structure(packet, report)
    metas = _check_records(packet, report)
    if packet.format == "json":
        _check_summary_against_records(packet, report)
    if not args.no_database:
        _check_database(packet, metas, data_dir, args.database, report)
    for line in report.lines():
        print(line)
    print(report.verdict(shown(args.file)))
    return EXIT_OK if report.ok else EXIT_DIFFERS


def _check_structure(packet: ReadPacket, report: Report) -> None:
    problems = list(packet.problems)
    listed = [stated.call_id for stated in packet.stated]
    packed = [call_id for call_id, _text in packet.records]
    numbers = [stated.number for stated in packet.stated]
    if listed != packed:
        problems.append(
            f"the list of calls names calls {_ids(listed)} but the records are of calls "
            f"{_ids(packed)}"
        )
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append("the list of calls is not numbered 1, 2, 3, ... in order")
    if len(set(packed)) != len(packed):
        problems.append("a call's record appears twice")
    if packet.meta is not None and packet.meta["calls"] != len(packed):
        problems.append(
            f"the header says {packet.meta['calls']} call(s), the packet holds {len(packed)}"
        )
    if problems:
        report.add(False, "structure", "; ".join(problems))
    else:
        report.add(True, "structure", f"{len(packed)} record(s), the same calls as the list")


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:12])
    return f"[{shown}{', ...' if len(ids) > 12 else ''}]"


def _check_records(packet: ReadPacket, report: Report) -> dict[int, ExportMeta | None]:
    """Each record's own digest and what the packet states for it; its export metadata."""
    from p2pcall.domain.export.digest import check_digest, read_meta
    from p2pcall.domain.packet.render import export_digest
    from p2pcall.domain.verify import printed_head

    stated = {entry.call_id: entry for entry in packet.stated}
    metas: dict[int, ExportMeta | None] = {}
    for call_id, export in packet.records:
        what = f"call {call_id}"
        ok, message = check_digest(export)
        report.add(ok, f"{what} digest", f"the record's own {message}" if ok else message)
        meta = read_meta(export)
        metas[call_id] = meta
        fits = (
            meta is not None
            and meta.call_id == call_id
            and meta.format == packet.format
            and packet.meta is not None
            and meta.generated_at == packet.meta["generated_at"]
            and meta.redact == packet.meta["redact"]
        )
        report.add(
            fits,
            f"{what} export",
            "made with the packet (same time, format and redaction)"
            if fits
            else "the record's export header does not match the packet's (another export "
            "pasted in, or a damaged header)",
        )
        entry = stated.get(call_id)
        found, head = printed_head(export, packet.format)
        own_digest = export_digest(export) if ok else None
        if entry is None:
            report.add(False, f"{what} stated", "the list of calls does not name this call")
        elif entry.export_digest != own_digest and ok:
            report.add(
                False,
                f"{what} stated",
                f"the list states export digest {entry.export_digest}, the record's own is "
                f"{own_digest}",
            )
        elif not found or head is None or entry.chain_head != head:
            report.add(
                False,
                f"{what} stated",
                f"the list states chain head {entry.chain_head}, the record prints "
                f"{head if found else 'none readable'}",
            )
        elif not ok:
            report.add(False, f"{what} stated", "not compared: the record's own digest fails")
        else:
            report.add(True, f"{what} stated", "the list's chain head and export digest match")
    return metas


def _check_summary_against_records(packet: ReadPacket, report: Report) -> None:
    """JSON: the summary's counts, recounted from the records' own fields."""
    from p2pcall.domain.packet.recount import summary_difference

    try:
        difference = summary_difference(packet.summary, packet.document or {})
    except (KeyError, TypeError, ValueError, AttributeError):
        difference = "the summary or a record is damaged (a member is missing or of the wrong type)"
    report.add(
        difference is None,
        "summary",
        "its counts match the records in the packet (calls, outcomes, overturned, same "
        "specialty, declined to identify, criteria, dates)"
        if difference is None
        else f"does not match the records in the packet: {difference}",
    )


def _check_database(
    packet: ReadPacket,
    metas: dict[int, ExportMeta | None],
    data_dir: Path,
    database: str | None,
    report: Report,
) -> None:
    from p2pcall.commands._verify_checks import against_database

    against_database(
        data_dir,
        database,
        report,
        lambda store: _compare(packet, metas, store, report),
        "the packet's digests",
    )


def _compare(
    packet: ReadPacket, metas: dict[int, ExportMeta | None], store: ReadApi, report: Report
) -> None:
    from p2pcall.commands._verify_checks import check_chain, check_lines
    from p2pcall.store.exporting import RecordUnreadableError, read_record
    from p2pcall.store.integrity import schema_check
    from p2pcall.store.store import NoSuchCallError

    _version, problems = schema_check(store)
    report.add(
        not problems,
        "guards",
        "the database's tables, indexes and guards are p2pcall's own"
        if not problems
        else "the database's structure was changed outside p2pcall: " + "; ".join(problems[:4]),
    )
    records = []
    for call_id, export in packet.records:
        what = f"call {call_id}"
        meta = metas.get(call_id)
        if meta is None:
            report.unchecked(f"{what} database", "not compared: the record's header is damaged")
            continue
        try:
            record, inputs = read_record(store, call_id)
        except RecordUnreadableError:
            report.add(False, f"{what} database", "the record cannot be read back")
            continue
        except NoSuchCallError:
            report.add(False, f"{what} database", f"call {call_id} is not in the database")
            continue
        records.append(record)
        own = Report()
        check_chain(export, meta.format, inputs, own)
        check_lines(export, meta, record, own)
        report.findings += [
            Finding(finding.state, f"{what} {finding.what}", finding.message)
            for finding in own.findings
        ]
    _check_selection(packet, store, report)
    if len(records) != len(packet.records):
        report.unchecked("summary", "not compared with the database: not every record was read")
        return
    _check_summary_against_database(packet, records, store, report)


def _check_selection(packet: ReadPacket, store: ReadApi, report: Report) -> None:
    """The packet holds every call its filter selected when it was made, and no other."""
    from datetime import timedelta

    from p2pcall.store.packet import select_calls

    flt = packet.filter
    if flt is None or packet.meta is None:
        report.add(False, "selection", "the packet's filter (or its time) cannot be read")
        return
    # The packet's time is cut to the second: a call finalized in that same second, before
    # the packet was made, was in it.
    cutoff = packet.meta["generated_at"] + timedelta(seconds=1)
    selected = select_calls(store, flt, as_of=cutoff).call_ids
    packed = [call_id for call_id, _text in packet.records]
    if selected == packed:
        report.add(
            True,
            "selection",
            f"its filter selects exactly these {len(packed)} call(s) among those finalized "
            "before the packet was made",
        )
        return
    missing = [i for i in selected if i not in packed]
    extra = [i for i in packed if i not in selected]
    parts = []
    if missing:
        parts.append(f"the filter selects calls left out of the packet: {_ids(missing)}")
    if extra:
        parts.append(f"the packet holds calls its filter does not select: {_ids(extra)}")
    if not parts:
        parts.append("the calls are not in the order the filter gives (oldest first)")
    if flt.vendor.strip() or flt.reviewer.strip():
        parts.append("(or reviewer links or merges changed since the packet was made)")
    report.add(False, "selection", "; ".join(parts))


def _check_summary_against_database(
    packet: ReadPacket, records: list[Any], store: ReadApi, report: Report
) -> None:
    from p2pcall.domain.packet.summary import FOLLOW_THROUGH_KEYS, summary_json, summary_rows
    from p2pcall.domain.timefmt import to_local
    from p2pcall.store.packet import packet_summary

    if packet.meta is None:
        report.unchecked("summary", "not compared with the database: the header is damaged")
        return
    days = [to_local(r.call.created_at, r.call.tz).date().isoformat() for r in records]
    first, last = (min(days), max(days)) if days else (None, None)
    ids = [record.call.id for record in records]
    stats = packet_summary(store, ids, "UTC", packet.meta["generated_at"])
    expected: Any
    found: Any = packet.summary
    if packet.format == "json":
        expected = summary_json(stats, first, last)
        mask_keys = FOLLOW_THROUGH_KEYS

        def masked(summary: Any) -> Any:
            if not isinstance(summary, dict):
                return summary
            return {key: value for key, value in summary.items() if key not in mask_keys}
    else:
        from p2pcall.domain.packet.render import markdown_summary_block, text_summary_block

        rows = summary_rows(stats, first, last)
        block = text_summary_block if packet.format == "text" else markdown_summary_block
        expected = [line for line in block(rows) if line != ""]

        def masked(summary: Any) -> Any:
            return [line for line in summary or [] if _not_moving(line)]

    if found == expected:
        report.add(True, "summary", "matches the database's figures for exactly these calls")
    elif masked(found) == masked(expected):
        report.add(
            True,
            "summary",
            "matches the database for these calls; follow-through (documents received, "
            "decisions chased) changed since (work tracking, not compared)",
        )
    else:
        report.add(False, "summary", "differs from the database's figures for these calls")


def _not_moving(line: str) -> bool:
    """A summary line that is not one of the follow-through rows (any value)."""
    from p2pcall.domain.packet.summary import FOLLOW_THROUGH

    text = line.strip().removeprefix("- **")
    return not any(text.startswith(label) for label in FOLLOW_THROUGH)


__all__ = ["FAIL", "OK", "UNCHECKED", "is_packet", "run"]
