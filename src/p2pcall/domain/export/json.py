"""The record as JSON: stable field names (``record.schema.json``), ISO 8601 times with offset.

Text is exported exactly as stored. JSON already escapes C0 control characters; the characters
a terminal could still act on (DEL, C1 controls such as the one-byte CSI, bidi and invisible
marks) are written as ``\\uXXXX`` escapes too, which decode to the same text, so ``cat`` of the
file never sends an escape sequence to the terminal.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from p2pcall.domain.export import common as c
from p2pcall.domain.export.digest import seal_json
from p2pcall.domain.fields import FIELDS
from p2pcall.domain.models import CallRecord
from p2pcall.domain.text import visible


@cache
def _terminal_safe() -> dict[int, str]:
    """Every character `visible` would replace, outside what JSON already escapes."""
    candidates = [*range(0x7F, 0xA0), 0x061C, 0xFEFF, *range(0x2000, 0x2070)]
    return {code: f"\\u{code:04x}" for code in candidates if visible(chr(code)) != chr(code)}


def build_document(record: CallRecord, generated_at: datetime, redact: bool) -> dict[str, Any]:
    """The export as plain data, before its digest is added."""
    call = record.call
    tz = call.tz
    meta = c.export_meta("json", call.id, generated_at, redact)
    fields = []
    for spec in FIELDS:
        view = c.field_view(call, spec, redact)
        fields.append(
            {
                "key": spec.key,
                "label": spec.label,
                "group": spec.group.value,
                "value": c.REDACTED if view.redacted else view.value,
                "display": view.shown,
                "declined": view.declined,
                "redacted": view.redacted,
            }
        )
    notes = []
    for note_view in c.note_views(record):
        note = note_view.note
        notes.append(
            {
                "number": note_view.number,
                "id": note.id,
                "section": note.section.value,
                "section_title": note.section.title,
                "kind": note.kind.value,
                "kind_label": note.kind.label,
                "text": note.body,
                "started_at": c.local_iso(note.started_at, tz),
                "saved_at": c.local_iso(note.saved_at, tz),
                "late": note.late,
                "late_reason": note.reason if note.late else None,
                "corrects_note_number": note_view.corrects_number,
                "corrected_by_note_numbers": list(note_view.corrected_by),
            }
        )
    followups = []
    for followup_view in c.followup_views(record):
        fu = followup_view.followup
        followups.append(
            {
                "id": fu.id,
                "action": fu.action.value,
                "action_label": fu.action.label,
                "status": fu.status.value,
                "status_label": fu.status.label,
                "created_at": c.local_iso(fu.created_at, tz),
                "due": c.local_iso(fu.due, tz),
                "rule_id": fu.rule_id,
                "rule": followup_view.rule_title or None,
                "rule_citation": followup_view.citation or None,
                "computed_due": c.local_iso(fu.computed_due, tz),
                "due_override": c.local_iso(fu.due_override, tz),
                "override_reason": fu.override_reason if fu.due_override else None,
                "done_at": c.local_iso(fu.done_at, tz),
                "note": fu.note,
            }
        )
        if followup_view.changed_by:  # only when someone else is named (common.changed_by)
            followups[-1]["changed_by"] = followup_view.changed_by
    call_part: dict[str, Any] = {
        "id": call.id,
        "time_zone": tz,
        "created_at": c.local_iso(call.created_at, tz),
        "started_at": c.local_iso(call.started_at, tz),
        "ended_at": c.local_iso(call.ended_at, tz),
        "duration_seconds": c.duration_seconds(call),
        "outcome": call.outcome.value if call.outcome else None,
        "outcome_label": call.outcome.label if call.outcome else None,
        "finalized_at": c.local_iso(call.finalized_at, tz),
        "chain_head": call.chain_head,
    }
    if c.clinician(call):  # only for a call recorded on a server (common.clinician)
        call_part["clinician"] = c.clinician(call)
    return {
        "schema_version": c.EXPORT_FORMAT_VERSION,
        "export": {
            "format": "json",
            "generated_at": c.iso_utc(meta.generated_at),
            "generated_at_local": c.local_iso(meta.generated_at, tz),
            "redacted": redact,
            "redaction_notice": c.REDACTION_NOTICE if redact else None,
            "generator": "p2pcall",
        },
        "call": call_part,
        "fields": fields,
        "notes": notes,
        "followups": followups,
        "deadline_reminder": c.DEADLINE_REMINDER,
    }


def render_json(record: CallRecord, generated_at: datetime, redact: bool) -> str:
    sealed = seal_json(build_document(record, generated_at, redact))
    text = json.dumps(sealed, indent=2, ensure_ascii=False) + "\n"
    return text.translate(_terminal_safe())
