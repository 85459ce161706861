"""Making and writing a letter for a call: shared by `p2pcall letter` and the letter screen.

Runs where the store is (the CLI, or the app's database thread); never imports Textual.
The user's edited text, when there is one, is what gets written: a letter is the user's
document once they have edited it. The file is written like an export (whole or not at all,
0600) and then listed on the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from p2pcall.domain.letters import FORMATS, KINDS, LetterUnavailable

if TYPE_CHECKING:
    from p2pcall.domain.letters import Letter, Practice
    from p2pcall.domain.models import CallRecord
    from p2pcall.store import Store
    from p2pcall.store.letters import LetterEdit, LetterFile


@dataclass
class LetterSource:
    """Everything a letter of one call is made from, loaded in one go."""

    record: CallRecord
    field_times: dict[str, datetime]
    edits: dict[str, LetterEdit]
    files: list[LetterFile]


def load_source(store: Store, call_id: int) -> LetterSource:
    from p2pcall.store.exporting import load_for_export

    record = load_for_export(store, call_id)
    edits = {k: e for k in KINDS if (e := store.letter_edit(call_id, k)) is not None}
    return LetterSource(
        record, store.field_first_times(call_id), edits, store.letter_files(call_id)
    )


def draft(source: LetterSource, kind: str, practice: Practice, generated_at: datetime) -> Letter:
    from p2pcall.domain.letters import build_letter

    return build_letter(kind, source.record, generated_at, practice, source.field_times)


def render(
    source: LetterSource,
    kind: str,
    fmt: str,
    practice: Practice,
    generated_at: datetime,
    *,
    use_edit: bool = True,
) -> tuple[str | bytes, bool]:
    """The letter in `fmt`, and whether it is the user's edited text."""
    from p2pcall.domain.letters import plain_to_markdown, render_markdown, render_text

    if fmt not in FORMATS:
        raise LetterUnavailable(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    edit = source.edits.get(kind) if use_edit else None
    if edit is not None:
        from p2pcall.domain.text import visible

        # A paste can bring control characters into the editor; a letter never carries them.
        body = visible(edit.body)
        if fmt == "text":
            return _ending(body), True
        if fmt == "markdown":
            return plain_to_markdown(body), True
        from p2pcall.letterpdf import text_pdf

        return text_pdf(body, KINDS[kind][0], generated_at), True
    letter = draft(source, kind, practice, generated_at)
    if fmt == "text":
        return render_text(letter), False
    if fmt == "markdown":
        return render_markdown(letter), False
    from p2pcall.letterpdf import letter_pdf

    return letter_pdf(letter, generated_at), False


def _ending(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def write_letter(
    store: Store,
    call_id: int,
    kind: str,
    fmt: str,
    path: Path,
    practice: Practice,
    generated_at: datetime,
    *,
    force: bool = False,
    use_edit: bool = True,
) -> LetterFile:
    """Write the letter to `path` (atomic, 0600) and list it on the call."""
    from p2pcall.exportfile import write_export

    source = load_source(store, call_id)
    content, edited = render(source, kind, fmt, practice, generated_at, use_edit=use_edit)
    written = write_export(path, content, force=force, records=store.path)
    return store.add_letter_file(call_id, kind, fmt, str(written), edited=edited)


def default_letter_path(call_id: int, kind: str, fmt: str, folder: Path | None = None) -> Path:
    """`~/p2pcall-call-12-confirmation.pdf`: no patient data in the name."""
    from p2pcall.domain.letters import SUFFIXES

    base = folder if folder is not None else Path.home()
    return base / f"p2pcall-call-{call_id}-{kind}{SUFFIXES[fmt]}"
