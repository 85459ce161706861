"""Letters kept with a call: the user's edited text of each, and the files written."""

from __future__ import annotations

from p2pcall.store.queries.cursor import Db, one, rows
from p2pcall.store.rows import LetterEdit, LetterFile, letter_edit_of, letter_file_of

EDIT = "SELECT kind, body, updated_at FROM letter_edit WHERE call_id = ? AND kind = ?"
FILES = (
    "SELECT id, call_id, kind, format, path, edited, written_at, {author} FROM letter_file "
    "WHERE call_id = ? ORDER BY id"
)


def edit(db: Db, call_id: int, kind: str) -> LetterEdit | None:
    row = one(db, EDIT, (call_id, kind))
    return None if row is None else letter_edit_of(row)


def files(db: Db, call_id: int) -> list[LetterFile]:
    return [letter_file_of(row) for row in rows(db, FILES, (call_id,))]
