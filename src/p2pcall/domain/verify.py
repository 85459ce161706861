"""What `p2pcall verify` compares, as pure functions over text (no files, no database).

Everything quoted back to the terminal from a file goes through `one_line`: an edited export
may hold escape sequences, and a verifier must not replay them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from p2pcall.domain.export.common import FOOTER_PREFIX, NOT_FINALIZED
from p2pcall.domain.text import one_line
from p2pcall.domain.vocab import FollowUpStatus

_HEX64 = re.compile(r"[0-9a-f]{64}")
QUOTE_WIDTH = 100

OK, FAIL, UNCHECKED = "ok", "fail", "unchecked"
_MARKS = {OK: "ok  ", FAIL: "FAIL", UNCHECKED: "----"}


@dataclass
class Finding:
    state: str  # OK, FAIL or UNCHECKED (a check that could not be made)
    what: str  # "digest", "structure", "guards", "call", "chain", "database"
    message: str

    @property
    def ok(self) -> bool:
        return self.state == OK


@dataclass
class Report:
    """Every check asked for, and whether it was made and passed. Fails closed: the record
    is verified only when every finding is OK, and one that could not be made is reported
    as such, never as passed."""

    findings: list[Finding] = field(default_factory=list)
    digest_only: bool = False  # --no-database: the file alone was asked for

    def add(self, ok: bool, what: str, message: str) -> None:
        self.findings.append(Finding(OK if ok else FAIL, what, message))

    def unchecked(self, what: str, message: str) -> None:
        self.findings.append(Finding(UNCHECKED, what, message))

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def lines(self) -> list[str]:
        return [f"{_MARKS[f.state]} {f.what}: {f.message}" for f in self.findings]

    def verdict(self, name: str) -> str:
        if any(f.state == FAIL for f in self.findings):
            return f"NOT VERIFIED: {name} differs from the record (see FAIL above)"
        if not self.ok:
            return f"NOT VERIFIED: {name}: not every check could be made (see ---- above)"
        if self.digest_only:
            return (
                f"DIGEST MATCHES: {name} (the file alone, as asked; it was not compared "
                "with the database, so this does not show it matches the record)"
            )
        return f"VERIFIED: {name}"


# -- where an export says what: parsed from its layout, never from the first matching line ----

# Text and Markdown exports end with their record status, then the generation line and the
# digest. Only p2pcall's own lines start at column 0 (user text is indented in text exports
# and escaped at the start of a line in Markdown), so these lines cannot come from a note.
_STATUS_BLOCK = {
    "text": ("RECORD STATUS", "-------------", "  Finalized           ", "  Hash-chain head     "),
    "markdown": ("## Record status", "", "- **Finalized:** ", "- **Hash-chain head:** "),
}


def printed_head(text: str, fmt: str) -> tuple[bool, str | None]:
    """(found, head) for the chain head an export prints; head None when it says not finalized.

    `found` is False when the export has no record status where its format puts it (text and
    Markdown: exactly one status block, at column 0; JSON: `call.chain_head`), or when the
    value there is neither a head nor "not finalized".
    """
    if fmt == "json":
        from p2pcall.domain.export.strict_json import JSONStructureError, loads_strict

        try:
            head = loads_strict(text)["call"]["chain_head"]
        except (JSONStructureError, KeyError, TypeError):
            return False, None
        if head is None:
            return True, None
        return (True, head) if isinstance(head, str) and _HEX64.fullmatch(head) else (False, None)
    block = _STATUS_BLOCK.get(fmt)
    if block is None:
        return False, None
    heading, rule, finalized, head_label = block
    lines = text.split("\n")
    starts = [
        i
        for i in range(len(lines) - 3)
        if lines[i] == heading and lines[i + 1] == rule and lines[i + 2].startswith(finalized)
    ]
    if len(starts) != 1 or not lines[starts[0] + 3].startswith(head_label):
        return False, None
    value = lines[starts[0] + 3][len(head_label) :]
    if value == NOT_FINALIZED:
        return True, None
    return (True, value) if _HEX64.fullmatch(value) else (False, None)


# -- follow-up status: work tracking, left out of what verify compares -------------------------

_STATUS_LABELS = "|".join(re.escape(status.label) for status in FollowUpStatus)
_FOLLOWUPS = {
    "text": ("FOLLOW-UPS", "RECORD STATUS"),
    "markdown": ("## Follow-ups", "## Record status"),
}
_TITLE = {
    "text": re.compile(rf"^(  \d+\. .*) - ({_STATUS_LABELS})$"),
    "markdown": re.compile(rf"^(\d+\. \*\*.*\*\* \u00b7 )({_STATUS_LABELS})$"),
}
# The rows of a follow-up's status: when it was done and, on a server, who last changed it
# (someone other than the call's clinician: export.common.changed_by).
_DONE_ROW = {
    "text": re.compile(r"^     (Done {16}|Last change by {6})\S"),
    "markdown": re.compile(r"^ +- \*\*(Done|Last change by):\*\* "),
}
_JSON_STATUS = re.compile(r'^      "(status|status_label|done_at)": .*?(,?)$')
_JSON_CHANGED_BY = re.compile(r'^      "changed_by": ')
# The member before "changed_by" (a follow-up's last) ends with a comma only when it follows.
_JSON_NOTE = re.compile(r'^(      "note": .*?),?$')
_JSON_DIGEST = re.compile(r'^    "value": "[0-9a-f]{64}"$')
STATUS_MASK = "(status not compared)"


def without_followup_status(text: str, fmt: str) -> str:
    """The export with each follow-up's status and done time taken out, and its digest (which
    covers them; the file's own digest is checked on its own). Both sides of a comparison go
    through this: marking a follow-up done after exporting is work on the to-do list, not a
    change of the record, and must not make an export differ."""
    return "\n".join(line for _, line in masked_lines(text, fmt))


def masked_lines(text: str, fmt: str) -> list[tuple[int, str]]:
    """`without_followup_status` line by line, each with its 1-based number in `text`."""
    lines = list(enumerate(text.split("\n"), start=1))
    if fmt == "json":
        # Exports are compared byte for byte, so the layout is json.dumps(indent=2): members
        # of follow-ups sit at six spaces, the digest's at four (no other object at that depth
        # has a "value"), and JSON strings never hold a raw line break.
        return [
            (
                number,
                _JSON_NOTE.sub(
                    r"\1",
                    _JSON_DIGEST.sub(
                        f'    "value": "{STATUS_MASK}"',
                        _JSON_STATUS.sub(rf'      "\1": "{STATUS_MASK}"\2', line),
                    ),
                ),
            )
            for number, line in lines
            if not _JSON_CHANGED_BY.match(line)
        ]
    if len(lines) >= 2 and lines[-2][1].startswith(FOOTER_PREFIX):
        lines = lines[:-2]
    if fmt not in _FOLLOWUPS:
        return lines
    start_heading, end_heading = _FOLLOWUPS[fmt]
    texts = [line for _, line in lines]
    try:
        start = texts.index(start_heading)
        end = texts.index(end_heading, start)
    except ValueError:
        return lines
    masked = [
        (number, _TITLE[fmt].sub(rf"\1{STATUS_MASK}", line))
        for number, line in lines[start:end]
        if not _DONE_ROW[fmt].match(line)
    ]
    return lines[:start] + masked + lines[end:]


def first_difference_but_followup_status(
    found: str, expected: str, fmt: str
) -> LineDifference | None:
    """The first line that differs once follow-up status is left aside, with the file's own
    line number and both lines as they are."""
    found_lines, expected_lines = found.split("\n"), expected.split("\n")
    mine, theirs = masked_lines(found, fmt), masked_lines(expected, fmt)
    for (number, a), (other, b) in zip(mine, theirs, strict=False):
        if a != b:
            return LineDifference(
                number, _quote(found_lines[number - 1]), _quote(expected_lines[other - 1])
            )
    if len(mine) == len(theirs):
        return None
    if len(mine) > len(theirs):
        number = mine[len(theirs)][0]
        return LineDifference(number, _quote(found_lines[number - 1]), "(end of file)")
    number = mine[-1][0] + 1 if mine else 1
    return LineDifference(number, "(end of file)", _quote(expected_lines[theirs[len(mine)][0] - 1]))


@dataclass(frozen=True)
class LineDifference:
    number: int  # 1-based line number in the export file
    found: str  # the file's line, made visible and cut
    expected: str  # what the database renders there, made visible and cut


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
