"""The record as plain text: for a reader who never saw the app, a pager, or an appeal packet.

User text is printed with control characters made visible (``domain.text.visible``) and
indented under its label, so nothing typed into a note can pass for part of the layout: every
line a user wrote starts with spaces, and only the app's own lines start at column 0.
"""

from __future__ import annotations

import textwrap
from datetime import datetime

from p2pcall.domain.export import common as c
from p2pcall.domain.export.digest import seal_text
from p2pcall.domain.models import CallRecord
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible

LABEL_WIDTH = 20


def user(text: str) -> str:
    return visible(text)


def _indent(text: str, prefix: str) -> str:
    """Every line after the first lines up under the first one."""
    return text.replace("\n", "\n" + prefix)


def _row(label: str, value: str, indent: str = "  ") -> str:
    pad = indent + " " * LABEL_WIDTH
    return f"{indent}{label:<{LABEL_WIDTH - 1}} {_indent(value, pad)}".rstrip()


def _field_rows(views: list[c.FieldView]) -> list[str]:
    return [_row(view.spec.label, user(view.shown)) for view in views]


def _para(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=78, initial_indent=indent, subsequent_indent=indent)


def _heading(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def render_text(record: CallRecord, generated_at: datetime, redact: bool) -> str:
    call = record.call
    tz = call.tz
    meta = c.export_meta("text", call.id, generated_at, redact)
    title = f"{c.TEXT_TITLE}{call.id}"
    lines = [title, meta.line(), "", _para(c.INTRO)]
    if redact:
        lines += ["", _para("REDACTED COPY. " + c.REDACTION_NOTICE)]

    lines += _heading("CALL")
    lines.append(_row("Call id", str(call.id)))
    if c.clinician(call):
        lines.append(_row(c.CLINICIAN_LABEL, user(c.clinician(call) or "")))
    lines += _field_rows(c.header_fields(call, redact))
    lines += [
        _row("Started", c.local_stamp(call.started_at, tz)),
        _row("Ended", c.local_stamp(call.ended_at, tz)),
        _row("Duration", c.duration_text(call)),
        _row("Time zone", user(tz)),
        _row("Outcome", c.outcome_text(call)),
    ]

    lines += _heading("REVIEWER")
    lines.append(_row("In short", user(c.reviewer_summary(call, redact))))
    lines += _field_rows(c.reviewer_fields(call, redact))

    lines += _heading("BEFORE THE CALL (preparation)")
    lines += _field_rows(c.preparation_fields(call, redact))

    grouped = c.notes_by_section(c.note_views(record))
    for section in Section:
        lines += _heading(section.title.upper())
        fields = c.section_fields(call, section, redact)
        if section is Section.B:
            lines.append("  Fields: see REVIEWER above.")
        lines += _field_rows(fields)
        lines.append("  Notes:" if grouped[section] else "  Notes: none")
        for view in grouped[section]:
            note = view.note
            kind = c.KIND_MARKS[note.kind]
            lines.append(f"  [{view.number}] {c.local_stamp(note.saved_at, tz)}  {kind}")
            # Status lines start "    * "; every line of a note body starts with six spaces,
            # so a note cannot pass itself off as a correction or late-entry mark.
            lines += [f"    * {status}" for status in view.statuses(user)]
            body = c.quoted(note.kind, user(note.body))
            lines.append(("      " + _indent(body, "      ")).rstrip())

    lines += _heading("OUTCOME")
    lines.append("  " + c.outcome_text(call))

    lines += _heading("FOLLOW-UPS")
    followups = c.followup_views(record)
    if not followups:
        lines.append("  None recorded.")
    for number, fu in enumerate(followups, start=1):
        lines.append(f"  {number}. {fu.action} - {fu.status}")
        lines += [_row(label, user(value), indent="     ") for label, value in fu.rows()]
    if followups:
        lines += ["", _para(c.DEADLINE_REMINDER, "  ")]

    lines += _heading("RECORD STATUS")
    lines.append(
        _row("Finalized", c.local_stamp(call.finalized_at, tz) if call.finalized else "no")
    )
    lines.append(_row("Hash-chain head", call.chain_head or c.NOT_FINALIZED))
    lines += [
        "",
        f"Generated {c.local_stamp(meta.generated_at, tz)} ({c.iso_utc(meta.generated_at)}).",
        "",
    ]
    return seal_text("\n".join(lines) + "\n")
