"""Loading a whole call for an export: the record, with its follow-ups, checked against its head.

An export prints the call's hash-chain head as evidence. It must never print the head stamped
at finalizing next to text that no longer hashes to it (a guard dropped, a note edited): the
record and its chain inputs are read from the same rows in one transaction, the head is
recomputed from them, and a record whose head differs from the stamped one is refused.
Drafts are left out (unsent text is not part of the record and never exported).
"""

from __future__ import annotations

from dataclasses import replace

from p2pcall.domain.models import Call, CallRecord
from p2pcall.store import numbering
from p2pcall.store.errors import StoreError
from p2pcall.store.queries import followups
from p2pcall.store.queries.records import ChainInputs, read_inputs
from p2pcall.store.readapi import ReadApi


class RecordChangedError(StoreError):
    """The record no longer hashes to the chain head stamped when it was finalized."""

    def __init__(self, call_id: int, recomputed: str, stamped: str | None) -> None:
        super().__init__(changed_since_finalized(call_id))
        self.call_id = call_id
        self.recomputed = recomputed
        self.stamped = stamped


def changed_since_finalized(call_id: int) -> str:
    """The one-line explanation shared by exports, `verify` and the call detail screen."""
    return (
        f"Call {call_id}: the record has been changed since it was finalized (its notes, fields "
        "or times no longer match the chain head stamped then: the database was edited outside "
        "p2pcall), so it is not exported or shown."
    )


class RecordUnreadableError(StoreError):
    """A stored value is not one p2pcall writes (a time that is no time, an unknown section)."""

    def __init__(self, call_id: int) -> None:
        super().__init__(
            f"Call {call_id}: the record cannot be read back (a stored time or value is not one "
            "p2pcall writes: the database was edited outside p2pcall), so it is not exported or "
            "shown."
        )


def checked_head(inputs: ChainInputs) -> str | None:
    """The head recomputed from `inputs`; RecordChangedError when it is not the stamped one.

    None for a call not finalized yet (it has no head, whatever the row says).
    """
    call = inputs.call
    if call.finalized_at is None:
        return None
    recomputed = inputs.head()
    if recomputed != call.chain_head:
        raise RecordChangedError(call.id, recomputed, call.chain_head)
    return recomputed


def read_record(store: ReadApi, call_id: int) -> tuple[CallRecord, ChainInputs]:
    """The call as stored (its head as stamped, unchecked) and what its chain hashes, read
    from the same rows in one transaction. NoSuchCallError when there is no such call."""
    try:
        with store.reading() as db:
            inputs = read_inputs(db, call_id)
            planned = followups.of_call(db, call_id)
            numbers = numbering.renumbering(db, call_id)
            if numbers is not None:  # a copied call: its laptop numbers (see numbering)
                planned = numbering.renumbered_followups(planned, numbers)
    except (ValueError, TypeError, LookupError) as exc:  # not StoreError: that passes through
        raise RecordUnreadableError(call_id) from exc
    call: Call = replace(inputs.call)
    notes = sorted(inputs.notes, key=lambda n: (n.saved_at, n.id))
    return CallRecord(call=call, notes=notes, drafts=[], followups=planned), inputs


def calls_numbered(store: ReadApi, number: int) -> list[int]:
    """The store's numbers of the calls whose record carries `number` (one, or none, on a
    laptop; on a server also the calls copied from laptops where they had that number)."""
    from p2pcall.store.queries.calls import MAX_CALL_ID

    if not 0 < number < MAX_CALL_ID:
        return []
    with store.reading() as db:
        return numbering.calls_numbered(db, number)


def load_for_export(store: ReadApi, call_id: int) -> CallRecord:
    """The call with notes and follow-ups; StoreError when there is no such call,
    RecordChangedError when the record no longer matches its chain head."""
    record, inputs = read_record(store, call_id)
    # Only ever the head just recomputed from what is exported (None before finalizing).
    record.call.chain_head = checked_head(inputs)
    return record
