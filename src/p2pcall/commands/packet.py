"""`p2pcall packet [filters] --format text|markdown|json|pdf [--redact] [-o FILE] [--force]`.

One document for a complaint or a regulator: a summary of the calls the filter selects (the
figures of `p2pcall stats`, over exactly the packed calls), the list of calls, then each
call's full record exactly as `p2pcall export` writes it, with its recomputed chain head and
that export's digest. Only finalized calls are packed; how many matched but were left out is
said in the packet. Fails closed like `export`: a record that no longer matches the chain
head stamped when it was finalized stops the packet (which call, exit 1), nothing written.

Reads only (`open_for_reading`): nothing is created, upgraded or locked.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.domain.packet.model import Packet, PacketFilter
    from p2pcall.store.readapi import ReadApi

FORMATS = ("text", "markdown", "json", "pdf")
ALIASES = {"txt": "text", "md": "markdown"}


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    parser = sub.add_parser(
        "packet",
        parents=parents,
        help="an evidence packet: summary, list and full records of the calls a filter selects",
        description="Write one document with a summary table, the list of calls and each "
        "finalized call's full record (as `p2pcall export` writes it, with its chain head and "
        "the export's digest), for the calls that pass every filter given. Dates are days in "
        "this computer's time zone, YYYY-MM-DD, both included. Files are 0600, written "
        "atomically, never replacing a file without --force; a PDF needs -o.",
    )
    parser.add_argument("--insurer", metavar="TEXT", default="", help="insurer name contains")
    parser.add_argument(
        "--vendor", metavar="TEXT", default="", help="UM vendor (or reviewer's employer) contains"
    )
    parser.add_argument(
        "--reviewer",
        metavar="NUMBER|NAME",
        default="",
        help="a reviewer's number (see `p2pcall reviewers`) or part of the reviewer's name",
    )
    parser.add_argument("--since", metavar="DATE", default="", help="calls on or after this day")
    parser.add_argument("--until", metavar="DATE", default="", help="calls on or before this day")
    parser.add_argument(
        "--not-same-specialty",
        action="store_true",
        help="only calls where the reviewer was noted as not of the same specialty",
    )
    parser.add_argument(
        "--declined-to-identify",
        action="store_true",
        help="only calls where the reviewer declined to give a name",
    )
    parser.add_argument(
        "--outcome",
        metavar="OUTCOME",
        default="",
        help="approved, partially_approved, denied, pending or educational_only",
    )
    parser.add_argument(
        "-f",
        "--format",
        default="text",
        metavar="FORMAT",
        help="text (default), markdown (md), json or pdf",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace patient identifiers (reference, age, gender, diagnosis) by [redacted] "
        "in every record; note text is not searched for names",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import run_guarded

    return run_guarded(lambda: _make(args, data_dir))


def _make(args: argparse.Namespace, data_dir: Path) -> int:
    from p2pcall.commands._records import EXIT_USAGE, CommandError, emit, shown

    written: str | None

    fmt = ALIASES.get(args.format.strip().lower(), args.format.strip().lower())
    if fmt not in FORMATS:
        raise CommandError(
            f"unknown format {args.format!r}: choose text, markdown, json or pdf.", EXIT_USAGE
        )
    if fmt == "pdf" and args.output in (None, "-"):
        raise CommandError("a PDF is written to a file: give -o FILE.", EXIT_USAGE)
    flt = _filter(args)
    from p2pcall.commands._records import open_for_reading
    from p2pcall.domain.timefmt import now_utc

    store = open_for_reading(data_dir, args.database)
    if store is None:
        raise CommandError(f"There are no records in {data_dir} yet (no database file).")
    try:
        packet = _gather(store, flt, fmt, now_utc(), args.redact)
    finally:
        store.close()
    if fmt == "pdf":
        from p2pcall.letterpdf import LetterPdfError
        from p2pcall.packetpdf import packet_pdf

        try:
            content: str | bytes = packet_pdf(packet)
        except LetterPdfError as exc:
            raise CommandError(str(exc)) from None
        written = _write_file(content, args.output, args.force, data_dir)
    else:
        from p2pcall.domain.packet.render import render_packet

        written = emit(render_packet(packet, fmt), args.output, args.force, data_dir)
    calls = len(packet.calls)
    said = f"{calls} call{'' if calls == 1 else 's'} packed"
    if packet.not_finalized:
        said += f"; {packet.not_finalized} left out (not finalized)"
    if written:
        print(f"Wrote {shown(written)} ({said})", file=sys.stderr)
    else:
        print(f"p2pcall packet: {said}", file=sys.stderr)
    return 0


def _filter(args: argparse.Namespace) -> PacketFilter:
    from p2pcall.commands._records import EXIT_USAGE, CommandError
    from p2pcall.domain.history import UNFINISHED, FilterError, parse_day, parse_outcome
    from p2pcall.domain.packet.model import PacketFilter
    from p2pcall.domain.timefmt import local_tz_name

    try:
        outcome = parse_outcome(args.outcome) if args.outcome else ""
        since = parse_day(args.since, "--since") if args.since else None
        until = parse_day(args.until, "--until") if args.until else None
    except FilterError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if outcome == UNFINISHED:
        raise CommandError(
            "a packet holds finalized records only: calls not ended are never in one.",
            EXIT_USAGE,
        )
    if since and until and since > until:
        raise CommandError("--since is after --until: no day is in that range", EXIT_USAGE)
    return PacketFilter(
        insurer=args.insurer,
        vendor=args.vendor,
        reviewer=args.reviewer,
        since=since,
        until=until,
        not_same_specialty=args.not_same_specialty,
        declined_to_identify=args.declined_to_identify,
        outcome=outcome,
        tz=local_tz_name(),
    )


def _gather(store: ReadApi, flt: PacketFilter, fmt: str, now: datetime, redact: bool) -> Packet:
    """Select, load (checked against each head) and summarize, in the store's read path."""
    from p2pcall.commands._records import CommandError
    from p2pcall.domain.export.common import normalize_generated_at
    from p2pcall.domain.packet.model import Packet
    from p2pcall.domain.packet.render import packet_call
    from p2pcall.domain.timefmt import local_tz_name
    from p2pcall.store import StoreError
    from p2pcall.store.packet import packet_records, packet_summary, select_calls

    generated_at = normalize_generated_at(now)
    tz = flt.tz or local_tz_name()
    try:
        selection = select_calls(store, flt)
        calls = [
            packet_call(record, fmt, generated_at, redact)
            for record in packet_records(store, selection.call_ids)
        ]
        summary = packet_summary(store, selection.call_ids, tz, generated_at)
    except StoreError as exc:  # RecordChangedError names the call: nothing is written
        raise CommandError(f"{exc} The packet was not made.") from None
    return Packet(
        filter=flt,
        generated_at=generated_at,
        time_zone=tz,
        redact=redact,
        summary=summary,
        calls=calls,
        not_finalized=selection.not_finalized,
    )


def _write_file(content: bytes | str, output: str, force: bool, data_dir: Path) -> str:
    from p2pcall.commands._records import CommandError
    from p2pcall.exportfile import ExportFileError, write_export
    from p2pcall.paths import database_path

    try:
        return str(write_export(output, content, force=force, records=database_path(data_dir)))
    except ExportFileError as exc:
        raise CommandError(str(exc)) from None
