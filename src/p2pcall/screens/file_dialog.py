"""What the two "write a file" dialogs share: the record's export (screens/export.py) and a
letter's file (screens/letter_file.py).

A list of formats, a file name that follows the suggested name until the user edits it, and
one status line under it (paths can hold anything, so it is shown on one line, literally).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.content import Content
from textual.widgets import Input, RadioButton, Static

from p2pcall.domain.text import one_line

# How each format is named in the dialogs (the formats themselves: domain/formats.py).
FORMAT_LABELS = {"text": "Plain text", "markdown": "Markdown", "json": "JSON", "pdf": "PDF"}
PRIVATE_FILE = "Readable by you only (0600)."


def format_choices(formats: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(format, label) for each format, in order."""
    return tuple((fmt, FORMAT_LABELS[fmt]) for fmt in formats)


def format_buttons(
    choices: tuple[tuple[str, str], ...], current: str, id_prefix: str
) -> list[RadioButton]:
    return [
        RadioButton(label, value=(fmt == current), id=f"{id_prefix}{fmt}") for fmt, label in choices
    ]


def stepped(choices: tuple[tuple[str, str], ...], current: str, step: int) -> str:
    """The format `step` places from `current`, going round (the dialogs' Up and Down)."""
    formats = [fmt for fmt, _label in choices]
    return formats[(formats.index(current) + step) % len(formats)]


def typed_path(field: Input) -> Path | None:
    """The file name typed, with ~ expanded; None when the field is empty."""
    value = field.value.strip()
    return Path(value).expanduser() if value else None


def follow_suggested(field: Input, suggested: Path, new: Path) -> Path:
    """A file name the user has not edited follows the new suggestion; returns the suggestion
    the field now stands for."""
    if Path(field.value).expanduser() != suggested:
        return suggested
    field.value = str(new)
    return new


def show_status(status: Static, text: str, level: str = "") -> None:
    """One line under the file name; level "error" or "warning" colours it."""
    status.update(Content(one_line(text)))
    status.set_class(level == "error", "-error")
    status.set_class(level == "warning", "-warning")


def notify_written(app: Any, title: str, path: str) -> None:
    app.notify(Content(f"Saved to {one_line(path)}"), title=title, timeout=8)
