"""Reading a packet back for `p2pcall verify`: its header, the values it states for each
call, its summary, and each embedded export, found by the packet's layout (markers and
headings at column 0, where no user text starts), never by the first line that looks right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from p2pcall.domain.packet.kind import packet_format
from p2pcall.domain.packet.model import PacketFilter
from p2pcall.domain.packet.render import (
    export_text,
    markdown_record_markers,
    parse_filter_line,
    parse_meta_line,
    text_record_markers,
)

_HEX = "[0-9a-f]{64}"
_TEXT_CALL = re.compile(r"^  (\d+)\. Call (\d+)  ")
_TEXT_HEAD = re.compile(rf"^     Chain head +({_HEX})$")
_TEXT_DIGEST = re.compile(rf"^     Export digest +({_HEX})$")
_MD_CALL = re.compile(r"^(\d+)\. Call (\d+)  ")
_MD_HEAD = re.compile(rf"^ +Chain head: `({_HEX})`\\$")
_MD_DIGEST = re.compile(rf"^ +Export digest: `({_HEX})`$")
_TEXT_START = re.compile(r"^=== Record (\d+) of (\d+): call (\d+) ===$")
_MD_START = re.compile(r"^<!-- p2pcall packet: record (\d+) of (\d+): call (\d+) -->$")


@dataclass(frozen=True)
class StatedCall:
    number: int
    call_id: int
    chain_head: str | None  # None when the packet's list has no readable head for it
    export_digest: str | None


@dataclass
class ReadPacket:
    format: str  # "text", "markdown" or "json"
    meta: dict[str, Any] | None  # from the header line or member; None when damaged
    stated: list[StatedCall] = field(default_factory=list)
    records: list[tuple[int, str]] = field(default_factory=list)  # (call id, export text)
    summary: Any = None  # text/Markdown: the summary's lines; JSON: the summary object
    document: dict[str, Any] | None = None  # JSON: the whole packet
    filter: PacketFilter | None = None  # the filter it states; None when unreadable
    problems: list[str] = field(default_factory=list)  # layout problems found on the way


def read_packet(text: str) -> ReadPacket | None:
    fmt = packet_format(text)
    if fmt is None:
        return None
    if fmt == "json":
        return _read_json(text)
    return _read_lines(text, fmt)


def _read_json(text: str) -> ReadPacket:
    from p2pcall.domain.export.strict_json import JSONStructureError, loads_strict

    found = ReadPacket("json", None)
    try:
        document = loads_strict(text)
    except JSONStructureError as exc:
        found.problems.append(str(exc))
        return found
    if not isinstance(document, dict):
        found.problems.append("the top level is not an object")
        return found
    found.document = document
    try:
        packet = document["packet"]
        found.meta = parse_meta_line(
            f"p2pcall-packet: version={int(document['packet_version'])} "
            f"format={packet['format']} generated_at={packet['generated_at']} "
            f"redact={'yes' if packet['redacted'] is True else 'no'} "
            f"calls={len(document['calls'])}"
        )
        found.filter = PacketFilter.from_json(packet.get("filter"), packet.get("time_zone"))
    except (KeyError, TypeError, ValueError, AttributeError):
        found.meta = None
    calls = document.get("calls")
    records = document.get("records")
    if not isinstance(calls, list) or not isinstance(records, list):
        found.problems.append("the packet has no list of calls or no records")
        return found
    for index, entry in enumerate(calls, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("call_id"), int):
            found.problems.append(f"entry {index} of the list of calls is damaged")
            continue
        head, digest = entry.get("chain_head"), entry.get("export_digest")
        number = entry.get("number")
        found.stated.append(
            StatedCall(
                number=number if isinstance(number, int) else -1,
                call_id=entry["call_id"],
                chain_head=head if isinstance(head, str) else None,
                export_digest=digest if isinstance(digest, str) else None,
            )
        )
    for index, record in enumerate(records, start=1):
        call = record.get("call") if isinstance(record, dict) else None
        call_id = call.get("id") if isinstance(call, dict) else None
        if not isinstance(call_id, int):
            found.problems.append(f"record {index} is damaged (no call number)")
            continue
        found.records.append((call_id, export_text(record)))
    found.summary = document.get("summary")
    return found


def _read_lines(text: str, fmt: str) -> ReadPacket:
    lines = text.lstrip("\ufeff").split("\n")
    meta_at = 1 if fmt == "text" else 2
    found = ReadPacket(fmt, parse_meta_line(lines[meta_at]) if len(lines) > meta_at else None)
    filter_at = 2 if fmt == "text" else 4
    found.filter = parse_filter_line(lines[filter_at]) if len(lines) > filter_at else None
    headings = (
        ("SUMMARY", "-------", "CALLS", "-----", "RECORDS", "-------")
        if fmt == "text"
        else ("## Summary", "", "## Calls", "", "## Records", None)
    )
    start_re = _TEXT_START if fmt == "text" else _MD_START
    first = next((i for i, line in enumerate(lines) if start_re.match(line)), len(lines))
    own = lines[:first]  # the packet's own part: user text in records cannot reach it
    summary_at = _heading(own, headings[0], headings[1])
    calls_at = _heading(own, headings[2], headings[3])
    records_at = _heading(own, headings[4], headings[5])
    if summary_at is None or calls_at is None or records_at is None:
        found.problems.append("the summary, list of calls or records heading is missing")
        return found
    if not summary_at < calls_at < records_at:
        found.problems.append("the packet's parts are out of order")
        return found
    found.summary = [line for line in lines[summary_at + 2 : calls_at] if line != ""]
    found.stated = _stated(lines[calls_at + 2 : records_at], fmt)
    found.records, problems = _records(lines[records_at + 1 :], fmt)
    found.problems += problems
    return found


def _heading(lines: list[str], title: str, rule: str | None) -> int | None:
    """The first line `title` at column 0 followed by `rule` (lines: the packet's own part,
    before the first record)."""
    for i, line in enumerate(lines[:-1]):
        if line == title and (rule is None or lines[i + 1] == rule):
            return i
    return None


def _stated(lines: list[str], fmt: str) -> list[StatedCall]:
    call_re, head_re, digest_re = (
        (_TEXT_CALL, _TEXT_HEAD, _TEXT_DIGEST)
        if fmt == "text"
        else (_MD_CALL, _MD_HEAD, _MD_DIGEST)
    )
    stated: list[StatedCall] = []
    current: dict[str, Any] | None = None
    for line in lines:
        if match := call_re.match(line):
            if current is not None:
                stated.append(StatedCall(**current))
            current = {
                "number": int(match[1]),
                "call_id": int(match[2]),
                "chain_head": None,
                "export_digest": None,
            }
        elif current is not None and (match := head_re.match(line)):
            current["chain_head"] = match[1]
        elif current is not None and (match := digest_re.match(line)):
            current["export_digest"] = match[1]
    if current is not None:
        stated.append(StatedCall(**current))
    return stated


def _records(lines: list[str], fmt: str) -> tuple[list[tuple[int, str]], list[str]]:
    start_re = _TEXT_START if fmt == "text" else _MD_START
    markers = text_record_markers if fmt == "text" else markdown_record_markers
    records: list[tuple[int, str]] = []
    problems: list[str] = []
    index = 0
    while index < len(lines):
        match = start_re.match(lines[index])
        if not match:
            index += 1
            continue
        number, total, call_id = int(match[1]), int(match[2]), int(match[3])
        _start, end = markers(number, total, call_id)
        try:
            stop = lines.index(end, index + 1)
        except ValueError:
            problems.append(f"record {number} (call {call_id}) has no end marker")
            break
        body = lines[index + 1 : stop]
        if fmt == "markdown":  # a blank line after the start marker and before the end one
            if len(body) < 2 or body[0] != "" or body[-1] != "":
                problems.append(f"record {number} (call {call_id}) is not laid out as packed")
            body = body[1:-1]
        records.append((call_id, "\n".join(body) + "\n"))
        index = stop + 1
    return records, problems
