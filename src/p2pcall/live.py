"""The call being taken: what the live screens show, kept in step with each commit."""

from __future__ import annotations

from p2pcall.domain.models import Call, CallRecord, Draft, Note
from p2pcall.domain.sections import Section


class LiveCall:
    def __init__(self, record: CallRecord) -> None:
        self.call: Call = record.call
        self.notes: list[Note] = list(record.notes)
        self.drafts: dict[Section, Draft] = {draft.section: draft for draft in record.drafts}

    def notes_in(self, section: Section) -> list[Note]:
        return [note for note in self.notes if note.section == section]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for note in self.notes:
            if note.corrects is not None:
                continue  # a correction replaces nothing and adds no note to the section
            counts[note.section.value] = counts.get(note.section.value, 0) + 1
        return counts
