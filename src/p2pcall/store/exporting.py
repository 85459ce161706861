"""Loading a whole call for an export: the record, with its follow-ups.

`Store.load_call` returns the call with its notes, drafts and follow-ups; an export leaves
the drafts out (unsent text is not part of the record).
"""

from __future__ import annotations

from p2pcall.domain.models import CallRecord
from p2pcall.store.store import Store


def load_for_export(store: Store, call_id: int) -> CallRecord:
    """The call with notes and follow-ups; StoreError when there is no such call."""
    record = store.load_call(call_id)
    record.drafts = []  # unsent text is not part of the record and never exported
    return record
