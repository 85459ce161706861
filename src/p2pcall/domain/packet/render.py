"""The packet as text, Markdown or JSON (the PDF is drawn from the same parts elsewhere).

Every call's record is embedded exactly as `p2pcall export` renders it in that format (the
PDF uses the text export), with the packet's own generation time, so `p2pcall verify` can
re-render each one from the database and compare it byte for byte. Between the markers
that surround a record only the export's own lines appear; the markers and the packet's
headings start at column 0, where no user text starts in an export. The packet ends with
its own digest, the same way an export does.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime
from typing import Any

from p2pcall.domain.export import common as c
from p2pcall.domain.export import render
from p2pcall.domain.export.digest import DIGEST_KEY, seal_json, seal_text
from p2pcall.domain.export.json import _terminal_safe
from p2pcall.domain.export.markdown import md_text
from p2pcall.domain.models import CallRecord
from p2pcall.domain.packet.kind import MARKDOWN_TITLE, TEXT_TITLE
from p2pcall.domain.packet.model import (
    INTRO,
    LEFT_OUT_REASON,
    PACKET_FORMAT_VERSION,
    Packet,
    PacketCall,
    PacketFilter,
)
from p2pcall.domain.packet.summary import summary_json, summary_rows
from p2pcall.domain.text import one_line, visible

LABEL_WIDTH = 28
_META_RE = re.compile(
    r"^p2pcall-packet: version=(?P<version>\d+) format=(?P<format>[a-z]+) "
    r"generated_at=(?P<generated>\S+) redact=(?P<redact>yes|no) calls=(?P<calls>\d+)$"
)


def packet_call(record: CallRecord, fmt: str, generated_at: datetime, redact: bool) -> PacketCall:
    """One call as packed: its export in `fmt` (text for a PDF) and the export's digest."""
    from p2pcall.domain.export.digest import check_digest
    from p2pcall.domain.timefmt import to_local

    call = record.call
    if call.chain_head is None:  # the store packs finalized records only
        raise ValueError(f"call {call.id} is not finalized: it has no chain head to pack")
    export = render(record, "text" if fmt == "pdf" else fmt, generated_at, redact)
    ok, _message = check_digest(export)
    assert ok, "a fresh export always matches its own digest"
    return PacketCall(
        call_id=call.id,
        day=to_local(call.created_at, call.tz).date().isoformat(),
        insurer=call.value("insurer").strip(),
        reviewer=c.reviewer_summary(call, redact),
        outcome=c.outcome_text(call),
        chain_head=call.chain_head,
        export_digest=export_digest(export),
        export=export,
    )


def export_digest(export: str) -> str:
    """The digest an export states for itself (its footer line, or its digest member)."""
    if export.lstrip().startswith("{"):
        return str(json.loads(export)[DIGEST_KEY]["value"])
    last = export.rstrip("\n").rsplit("\n", 1)[-1]
    return last.removeprefix(c.FOOTER_PREFIX)


def meta_line(fmt: str, packet: Packet) -> str:
    return (
        f"p2pcall-packet: version={PACKET_FORMAT_VERSION} format={fmt} "
        f"generated_at={c.iso_utc(packet.generated_at)} redact={'yes' if packet.redact else 'no'} "
        f"calls={len(packet.calls)}"
    )


FILTER_PREFIX = "p2pcall-packet-filter: "


def filter_line(packet: Packet) -> str:
    """The filter as one line of ASCII JSON, so `verify` can select the calls again. `<`,
    `>` and backquotes are escaped too: the line sits in an HTML comment in Markdown."""
    data = {"filter": packet.filter.as_json(), "time_zone": packet.time_zone}
    text = json.dumps(data, sort_keys=True, ensure_ascii=True)
    for char in "<>`":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return FILTER_PREFIX + text


def parse_filter_line(line: str) -> PacketFilter | None:
    line = line.strip()
    if line.startswith("<!-- ") and line.endswith(" -->"):
        line = line[5:-4]
    if not line.startswith(FILTER_PREFIX):
        return None
    try:
        data = json.loads(line.removeprefix(FILTER_PREFIX))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return PacketFilter.from_json(data.get("filter"), data.get("time_zone"))


def parse_meta_line(line: str) -> dict[str, Any] | None:
    match = _META_RE.match(line.strip().strip("`").strip())
    if match is None:
        return None
    try:
        generated = datetime.fromisoformat(match["generated"])
        calls = int(match["calls"])
    except ValueError:
        return None
    if generated.tzinfo is None:
        return None
    return {
        "version": int(match["version"]),
        "format": match["format"],
        "generated_at": generated,
        "redact": match["redact"] == "yes",
        "calls": calls,
    }


def left_out_text(packet: Packet) -> str:
    count = packet.not_finalized
    if not count:
        return "none: every call that matched the filter is finalized and packed"
    calls = "call" if count == 1 else "calls"
    return f"{count} {calls} that matched the filter, {LEFT_OUT_REASON}"


def render_packet(packet: Packet, fmt: str) -> str:
    if fmt == "text":
        return render_text(packet)
    if fmt == "markdown":
        return render_markdown(packet)
    if fmt == "json":
        return render_json(packet)
    raise ValueError(f"unknown packet format {fmt!r}")


# -- text ---------------------------------------------------------------------------------


def text_record_markers(number: int, total: int, call_id: int) -> tuple[str, str]:
    return (
        f"=== Record {number} of {total}: call {call_id} ===",
        f"=== End of record {number} of {total}: call {call_id} ===",
    )


def _row(label: str, value: str, indent: str = "  ") -> str:
    """`label  value`, the value wrapped at 78 columns under itself (one line of it given)."""
    head = f"{indent}{label:<{LABEL_WIDTH - 1}} "
    return textwrap.fill(
        value, width=78, initial_indent=head, subsequent_indent=" " * len(head),
        break_on_hyphens=False,
        break_long_words=False,
    ) or head.rstrip()  # fmt: skip


def _para(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=78, initial_indent=indent, subsequent_indent=indent)


def text_summary_block(packet_summary: list[tuple[str, str]]) -> list[str]:
    """One line per row, never wrapped: `verify` compares the rows line by line."""
    return [f"  {label:<{LABEL_WIDTH - 1}} {value}".rstrip() for label, value in packet_summary]


def call_line(call: PacketCall) -> str:
    """The call's line in the list (user text on one line, made visible)."""
    insurer = one_line(visible(call.insurer), 40) or c.NOT_RECORDED
    return f"Call {call.call_id}  {call.day}  {insurer}  {call.outcome}"


def render_text(packet: Packet) -> str:
    lines = [TEXT_TITLE, meta_line("text", packet), filter_line(packet), "", _para(INTRO)]
    if packet.redact:
        lines += ["", _para("REDACTED COPY. " + c.REDACTION_NOTICE)]
    lines += ["", "FILTER", "------"]
    lines += [_row(label, value) for label, value in packet.filter.described()]
    lines.append(_row("Left out", left_out_text(packet)))
    lines += ["", "SUMMARY", "-------"]
    rows = summary_rows(packet.summary, packet.first_day, packet.last_day)
    lines += text_summary_block(rows)
    lines += ["", "CALLS", "-----"]
    if not packet.calls:
        lines.append("  None.")
    for number, call in enumerate(packet.calls, start=1):
        lines.append(f"  {number}. {call_line(call)}")
        lines.append(_row("Reviewer", one_line(call.reviewer), "     "))
        lines.append(_row("Chain head", call.chain_head, "     "))
        lines.append(_row("Export digest", call.export_digest, "     "))
    lines += ["", "RECORDS", "-------"]
    for number, call in enumerate(packet.calls, start=1):
        start, end = text_record_markers(number, len(packet.calls), call.call_id)
        lines += ["", start, call.export + end]
    lines += [
        "",
        f"Packet generated {c.iso_utc(packet.generated_at)} "
        f"(times in each record are in its call's time zone).",
        "",
    ]
    return seal_text("\n".join(lines) + "\n")


# -- Markdown -------------------------------------------------------------------------------


def markdown_record_markers(number: int, total: int, call_id: int) -> tuple[str, str]:
    return (
        f"<!-- p2pcall packet: record {number} of {total}: call {call_id} -->",
        f"<!-- p2pcall packet: end of record {number} of {total}: call {call_id} -->",
    )


def markdown_summary_block(rows: list[tuple[str, str]]) -> list[str]:
    return [f"- **{label}:** {md_text(value)}" for label, value in rows]


def render_markdown(packet: Packet) -> str:
    lines = [MARKDOWN_TITLE, "", f"`{meta_line('markdown', packet)}`", ""]
    lines += [f"<!-- {filter_line(packet)} -->", "", md_text(INTRO)]
    if packet.redact:
        lines += ["", f"**Redacted copy.** {md_text(c.REDACTION_NOTICE)}"]
    lines += ["", "## Filter", ""]
    lines += [f"- **{label}:** {md_text(value)}" for label, value in packet.filter.described()]
    lines.append(f"- **Left out:** {md_text(left_out_text(packet))}")
    lines += ["", "## Summary", ""]
    lines += markdown_summary_block(summary_rows(packet.summary, packet.first_day, packet.last_day))
    lines += ["", "## Calls", ""]
    if not packet.calls:
        lines.append("None.")
    for number, call in enumerate(packet.calls, start=1):
        lines.append(f"{number}. {md_text(call_line(call))}\\")
        pad = " " * len(f"{number}. ")
        lines.append(f"{pad}Reviewer: {md_text(one_line(call.reviewer))}\\")
        lines.append(f"{pad}Chain head: `{call.chain_head}`\\")
        lines.append(f"{pad}Export digest: `{call.export_digest}`")
    lines += ["", "## Records"]
    for number, call in enumerate(packet.calls, start=1):
        start, end = markdown_record_markers(number, len(packet.calls), call.call_id)
        lines += ["", start, "", call.export, end]
    lines += [
        "",
        md_text(
            f"Packet generated {c.iso_utc(packet.generated_at)} (times in each record are in "
            "its call's time zone)."
        ),
        "",
    ]
    return seal_text("\n".join(lines) + "\n")


# -- JSON -------------------------------------------------------------------------------------


def build_document(packet: Packet) -> dict[str, Any]:
    return {
        "packet_version": PACKET_FORMAT_VERSION,
        "packet": {
            "format": "json",
            "generated_at": c.iso_utc(packet.generated_at),
            "time_zone": packet.time_zone,
            "redacted": packet.redact,
            "redaction_notice": c.REDACTION_NOTICE if packet.redact else None,
            "generator": "p2pcall",
            "about": INTRO,
            "filter": packet.filter.as_json(),
            "left_out": {"not_finalized": packet.not_finalized, "reason": LEFT_OUT_REASON},
        },
        "summary": summary_json(packet.summary, packet.first_day, packet.last_day),
        "calls": [
            {
                "number": number,
                "call_id": call.call_id,
                "day": call.day,
                "insurer": call.insurer,
                "reviewer": call.reviewer,
                "outcome": call.outcome,
                "chain_head": call.chain_head,
                "export_digest": call.export_digest,
            }
            for number, call in enumerate(packet.calls, start=1)
        ],
        # Each record is the export's JSON document itself (parsed from the exact text
        # `p2pcall export --format json` writes; `export_text` gives that text back).
        "records": [json.loads(call.export) for call in packet.calls],
    }


def render_json(packet: Packet) -> str:
    sealed = seal_json(build_document(packet))
    return (json.dumps(sealed, indent=2, ensure_ascii=False) + "\n").translate(_terminal_safe())


def export_text(document: object) -> str:
    """An embedded JSON record back as the exact text `p2pcall export` wrote for it."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").translate(_terminal_safe())
