"""What `p2pcall verify` compares, as pure functions over text (no files, no database).

Everything quoted back to the terminal from a file goes through `one_line`: an edited export
may hold escape sequences, and a verifier must not replay them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from p2pcall.domain.text import one_line

_HEAD_LINE = re.compile(r"Hash-chain head\W*(?P<value>[^\n]*)")
_HEX64 = re.compile(r"\b([0-9a-f]{64})\b")
QUOTE_WIDTH = 100


@dataclass
class Finding:
    ok: bool
    what: str  # "digest", "chain", "database"
    message: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, ok: bool, what: str, message: str) -> None:
        self.findings.append(Finding(ok, what, message))

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def lines(self) -> list[str]:
        return [f"{'ok  ' if f.ok else 'FAIL'} {f.what}: {f.message}" for f in self.findings]


def printed_head(text: str) -> tuple[bool, str | None]:
    """(found, head) for the chain head an export prints; head None if it says not finalized.

    `found` is False when the export has no chain-head entry at all.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
            head = document["call"]["chain_head"]
        except (ValueError, KeyError, TypeError):
            return False, None
        return True, head if isinstance(head, str) and _HEX64.fullmatch(head) else None
    match = _HEAD_LINE.search(text)
    if match is None:
        return False, None
    value = _HEX64.search(match["value"])
    return True, value.group(1) if value else None


@dataclass(frozen=True)
class LineDifference:
    number: int  # 1-based line number in the export file
    found: str  # the file's line, made visible and cut
    expected: str  # what the database renders there, made visible and cut


def first_difference(found: str, expected: str) -> LineDifference | None:
    """The first line where the file differs from the rendering from the database."""
    found_lines = found.split("\n")
    expected_lines = expected.split("\n")
    for number, (mine, theirs) in enumerate(zip(found_lines, expected_lines, strict=False), 1):
        if mine != theirs:
            return LineDifference(number, _quote(mine), _quote(theirs))
    if len(found_lines) != len(expected_lines):
        number = min(len(found_lines), len(expected_lines)) + 1
        extra = found_lines[number - 1] if len(found_lines) >= number else "(end of file)"
        wanted = expected_lines[number - 1] if len(expected_lines) >= number else "(end of file)"
        return LineDifference(number, _quote(extra), _quote(wanted))
    return None


def first_json_difference(found: object, expected: object, path: str = "") -> str | None:
    """Where two JSON documents first differ, as a path (`notes[0].text`), or None."""
    where = path or "(top level)"
    if isinstance(found, dict) and isinstance(expected, dict):
        for key in sorted(set(found) | set(expected)):
            inner = f"{path}.{key}" if path else str(key)
            if key not in found:
                return f"{_quote(inner)}: missing in the file"
            if key not in expected:
                return f"{_quote(inner)}: in the file but not in the database's rendering"
            difference = first_json_difference(found[key], expected[key], inner)
            if difference:
                return difference
        return None
    if isinstance(found, list) and isinstance(expected, list):
        for index, (mine, theirs) in enumerate(zip(found, expected, strict=False)):
            difference = first_json_difference(mine, theirs, f"{path}[{index}]")
            if difference:
                return difference
        if len(found) != len(expected):
            return f"{where}: the file has {len(found)} items, the database {len(expected)}"
        return None
    if found != expected or type(found) is not type(expected):
        return (
            f"{_quote(where)} differs: the file has {_quote(json.dumps(found))!r}, "
            f"the database gives {_quote(json.dumps(expected))!r}"
        )
    return None


def _quote(line: str) -> str:
    return one_line(line, QUOTE_WIDTH)


def describe(difference: LineDifference) -> str:
    return (
        f"line {difference.number} differs: the file has {difference.found!r}, "
        f"the database gives {difference.expected!r}"
    )
