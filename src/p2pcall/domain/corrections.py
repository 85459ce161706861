"""Corrections and addenda as they are shown: each original followed by its corrections.

A correction is a note whose `corrects` is the id of an earlier note of the same call (the
original is kept). Correcting a correction makes a chain; what counts as the note's text now
is the last link. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from p2pcall.domain.models import Note

ADDENDUM_LABEL = "added after the call"


def threaded(notes: Iterable[Note]) -> list[tuple[Note, int]]:
    """Notes in saved order, each original followed by its corrections: (note, depth)."""
    ordered = sorted(notes, key=lambda n: (n.saved_at, n.id))
    known = {n.id for n in ordered}
    children: dict[int, list[Note]] = {}
    roots: list[Note] = []
    for note in ordered:
        if note.corrects is not None and note.corrects in known:
            children.setdefault(note.corrects, []).append(note)
        else:
            roots.append(note)
    out: list[tuple[Note, int]] = []

    def walk(note: Note, depth: int) -> None:
        out.append((note, depth))
        for child in children.get(note.id, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out


def corrected_ids(notes: Iterable[Note]) -> set[int]:
    """Ids of notes that a later note corrects."""
    return {n.corrects for n in notes if n.corrects is not None}


def correctable(notes: Iterable[Note]) -> list[Note]:
    """The current version of each note, most recently saved first (what Ctrl+E offers)."""
    notes = list(notes)
    superseded = corrected_ids(notes)
    current = [n for n in notes if n.id not in superseded]
    return sorted(current, key=lambda n: (n.saved_at, n.id), reverse=True)
