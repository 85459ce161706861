"""Exports of a call record: plain text, Markdown, JSON, and the follow-up letter draft.

Pure functions of (record, generated_at, redact): the same inputs give the same string, which
is what lets `p2pcall verify` re-render from the database and compare. Screens and the CLI only
call `render` / `render_letter` and write the result with `p2pcall.exportfile`.
"""

from __future__ import annotations

from datetime import datetime

from p2pcall.domain.export.common import (
    EXPORT_FORMAT_VERSION,
    FORMATS,
    ExportError,
    ExportMeta,
)
from p2pcall.domain.models import CallRecord

__all__ = [
    "EXPORT_FORMAT_VERSION",
    "FORMATS",
    "SUFFIXES",
    "ExportError",
    "ExportMeta",
    "render",
    "render_letter",
]

SUFFIXES = {"text": ".txt", "markdown": ".md", "json": ".json", "letter": ".txt"}


def render(record: CallRecord, fmt: str, generated_at: datetime, redact: bool = False) -> str:
    """The record in `fmt` (one of FORMATS), ending with its digest line or member."""
    if fmt == "text":
        from p2pcall.domain.export.text import render_text

        return render_text(record, generated_at, redact)
    if fmt == "markdown":
        from p2pcall.domain.export.markdown import render_markdown

        return render_markdown(record, generated_at, redact)
    if fmt == "json":
        from p2pcall.domain.export.json import render_json

        return render_json(record, generated_at, redact)
    raise ExportError(f"Unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}.")


def render_letter(record: CallRecord, generated_at: datetime) -> str:
    """The written confirmation as plain text, without practice details (see domain.letters)."""
    from p2pcall.domain.letters import build_letter, render_text

    return render_text(build_letter("confirmation", record, generated_at))
