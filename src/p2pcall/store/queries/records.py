"""What a call's hash chain hashes, read in the caller's transaction (see `domain.chain`)."""

from __future__ import annotations

from p2pcall.domain import chain
from p2pcall.domain.models import Call, Note
from p2pcall.store import numbering
from p2pcall.store.queries.calls import FIELD_HISTORY, NOTES_IN_ID_ORDER, call_row, fields
from p2pcall.store.queries.cursor import Db, rows
from p2pcall.store.rows import call_of, note_of
from p2pcall.store.timetext import required_time


class ChainInputs:
    """Everything the chain hashes for one call, read in one transaction."""

    def __init__(
        self,
        call: Call,
        fields: list[chain.FieldEntry],
        history: list[chain.FieldEntry],
        notes: list[Note],
    ) -> None:
        self.call = call
        self.fields = fields
        self.history = history
        self.notes = notes

    def head(self) -> str:
        return chain.chain_head(self.call, self.fields, self.history, self.notes)


def read_inputs(db: Db, call_id: int) -> ChainInputs:
    """The call's chain inputs as the database holds them now, with the numbers of its
    record (`store.numbering`: a call copied from a laptop keeps the laptop's);
    NoSuchCallError if none."""
    row = call_row(db, call_id)
    current = fields(db, call_id)
    history = rows(db, FIELD_HISTORY, (call_id,))
    inputs = ChainInputs(
        call=call_of(row, current),
        fields=[
            chain.FieldEntry(
                f.key, f.value, bool(f.declined), bool(f.late), required_time(f.updated_at)
            )
            for f in current
        ],
        history=[
            chain.FieldEntry(
                e.key, e.value, bool(e.declined), bool(e.late), required_time(e.edited_at), id=e.id
            )
            for e in history
        ],
        notes=[note_of(n) for n in rows(db, NOTES_IN_ID_ORDER, (call_id,))],
    )
    numbers = numbering.renumbering(db, call_id)
    if numbers is not None:
        inputs.call = numbering.renumbered_call(inputs.call, numbers)
        inputs.history = numbering.renumbered_history(inputs.history, numbers)
        inputs.notes = numbering.renumbered_notes(inputs.notes, numbers)
    return inputs
