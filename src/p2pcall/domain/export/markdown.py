"""The record as CommonMark, with the same content as the plain-text export.

Everything a user typed goes through `md_text`: control characters made visible, then every
character with an inline meaning backslash-escaped (``\\ ` * _ [ ] < > & ~ |``), and the first
character of each line too when it could open a block (``# > - + =``, ``1.``), so ``[link](x)``,
``*``, ``#``, ``<b>`` and backticks come out literally and no line of user text can start a
heading, list, quote, fence, table or HTML block. Whitespace at the start or end of a line
becomes character references (``&#32;``) so it is neither stripped nor turned into code blocks
or hard breaks; line breaks inside a note become hard breaks.
"""

from __future__ import annotations

import re
from datetime import datetime

from p2pcall.domain.export import common as c
from p2pcall.domain.export.digest import seal_text
from p2pcall.domain.models import CallRecord
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible

# Characters with an inline meaning anywhere in a line (CommonMark, plus GFM's ~ and |).
_INLINE = {ord(ch): "\\" + ch for ch in "\\`*_[]<>&~|"}
# Characters that start a block (heading, quote, list, setext underline) at a line's start.
_BLOCK_START = "#>-+="
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")


def _entities(chars: str) -> str:
    return "".join(f"&#{ord(ch)};" for ch in chars)


def _line(line: str) -> str:
    # Parsers strip whitespace at the edges of a line (markdown-it: any Unicode space), so
    # edge whitespace is written as character references, which survive.
    core = line.strip()
    if not core:
        return _entities(line)
    start = line.index(core[0])
    lead, trail = line[:start], line[start + len(core) :]
    escaped = core.translate(_INLINE)
    if escaped[0] in _BLOCK_START:
        escaped = "\\" + escaped
    elif match := _ORDERED_START.match(escaped):
        escaped = match[1] + "\\" + escaped[len(match[1]) :]
    return _entities(lead) + escaped + _entities(trail)


def md_text(text: str, indent: str = "") -> str:
    """User text as inline CommonMark that renders to exactly `visible(text)`.

    `indent` prefixes continuation lines (to stay inside a list item). An empty line between
    others is just a hard break; an empty last line becomes a space, because a hard break at
    the end of a block would print its backslash.
    """
    if not text:
        return ""
    lines = [_line(line) for line in visible(text).split("\n")]
    if not lines[-1]:
        lines[-1] = _entities(" ")
    return ("\\\n" + indent).join(lines)


def _item(label: str, value: str) -> str:
    return f"- **{label}:** {md_text(value, '  ')}"


def _fields(views: list[c.FieldView]) -> list[str]:
    return [_item(view.spec.label, view.shown) for view in views]


def render_markdown(record: CallRecord, generated_at: datetime, redact: bool) -> str:
    call = record.call
    tz = call.tz
    meta = c.export_meta("markdown", call.id, generated_at, redact)
    lines = [f"{c.MARKDOWN_TITLE}{call.id}", "", f"`{meta.line()}`", "", c.INTRO]
    if redact:
        lines += ["", f"**Redacted copy.** {md_text(c.REDACTION_NOTICE)}"]

    lines += ["", "## Call", "", f"- **Call id:** {call.id}"]
    if c.clinician(call):
        lines.append(_item(c.CLINICIAN_LABEL, c.clinician(call) or ""))
    lines += _fields(c.header_fields(call, redact))
    lines += [
        _item("Started", c.local_stamp(call.started_at, tz)),
        _item("Ended", c.local_stamp(call.ended_at, tz)),
        _item("Duration", c.duration_text(call)),
        _item("Time zone", tz),
        _item("Outcome", c.outcome_text(call)),
    ]

    lines += ["", "## Reviewer", "", _item("In short", c.reviewer_summary(call, redact))]
    lines += _fields(c.reviewer_fields(call, redact))

    lines += ["", "## Before the call (preparation)", ""]
    lines += _fields(c.preparation_fields(call, redact))

    grouped = c.notes_by_section(c.note_views(record))
    for section in Section:
        lines += ["", f"## {md_text(section.title)}", ""]
        if section is Section.B:
            lines.append("Fields: see Reviewer above.")
        else:
            lines += _fields(c.section_fields(call, section, redact))
        lines += ["", "### Notes" if grouped[section] else "No notes."]
        if grouped[section]:
            lines.append("")
        for view in grouped[section]:
            note = view.note
            head = f"{c.local_stamp(note.saved_at, tz)} \u00b7 {view.mark(lambda s: s)}"
            body = c.quoted(note.kind, visible(note.body))
            lines.append(f"- **Note {view.number}** \u00b7 {md_text(head)}\\")
            lines.append("  " + md_text(body, "  "))

    lines += ["", "## Outcome", "", md_text(c.outcome_text(call))]

    lines += ["", "## Follow-ups", ""]
    followups = c.followup_views(record)
    if not followups:
        lines.append("None recorded.")
    for number, fu in enumerate(followups, start=1):
        lines.append(f"{number}. **{md_text(fu.action)}** \u00b7 {md_text(fu.status)}")
        pad = " " * len(f"{number}. ")  # nested items sit under the item's text
        lines += [f"{pad}- **{label}:** {md_text(value, pad + '  ')}" for label, value in fu.rows()]
    if followups:
        lines += ["", md_text(c.DEADLINE_REMINDER)]

    lines += [
        "",
        "## Record status",
        "",
        _item("Finalized", c.local_stamp(call.finalized_at, tz) if call.finalized else "no"),
        _item("Hash-chain head", call.chain_head or c.NOT_FINALIZED),
        "",
        md_text(
            f"Generated {c.local_stamp(meta.generated_at, tz)} ({c.iso_utc(meta.generated_at)})."
        ),
        "",
    ]
    return seal_text("\n".join(lines) + "\n")
