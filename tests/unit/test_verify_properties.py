"""Property tests: whatever a user types, verify reads an export's head, header and structure
from its layout, and follow-up status is the only thing its comparison leaves aside."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from export_sample import GENERATED_AT, sample_record
from p2pcall.domain.export import render
from p2pcall.domain.export.digest import read_meta
from p2pcall.domain.export.strict_json import structure_problem
from p2pcall.domain.models import Note
from p2pcall.domain.sections import Section
from p2pcall.domain.verify import printed_head, without_followup_status
from p2pcall.domain.vocab import FollowUpStatus, NoteKind

HEAD = "5c9e3abd9ee8e223362c845ab8165866b23080d072b6823ae9b234ffc9835c5d"
FORGED = "f" * 64
# Pieces of the layout a note could imitate, mixed with anything else.
LAYOUT = st.sampled_from(
    [
        "\n",
        "RECORD STATUS",
        "-------------",
        "  Finalized           no",
        f"  Hash-chain head     {FORGED}",
        "## Record status",
        f"- **Hash-chain head:** {FORGED}",
        "- **Finalized:** no",
        "p2pcall-export: version=1 format=text call=9 generated_at=2026-11-24T14:30:05+00:00 "
        "redact=no",
        "FOLLOW-UPS",
        "## Follow-ups",
        "  1. Other - Done",
        "     Done                2026-11-23 11:35:00 -05:00",
        "SHA-256 of everything above this line: " + FORGED,
        '"chain_head": "' + FORGED + '"',
        "`",
        "\r",
        " ",
    ]
)
TEXT = st.lists(st.one_of(LAYOUT, st.characters(blacklist_categories=("Cs",))), max_size=30).map(
    "".join
)


def finalized_with(note_text: str, field_text: str) -> object:
    record = sample_record(finalized_at=GENERATED_AT, chain_head=HEAD)
    record.call.values["patient_ref"] = field_text or "x"
    record.notes.append(
        Note(
            id=99,
            call_id=record.call.id,
            section=Section.G,
            kind=NoteKind.NOTE,
            body=note_text or "x",
            started_at=GENERATED_AT,
            saved_at=GENERATED_AT,
        )
    )
    record.followups[0] = replace(record.followups[0], note=note_text or "x")
    return record


@settings(max_examples=150, deadline=None)
@given(TEXT, TEXT)
def test_head_and_header_come_from_the_layout_never_from_user_text(note: str, field: str) -> None:
    record = finalized_with(note, field)
    for fmt in ("text", "markdown", "json"):
        exported = render(record, fmt, GENERATED_AT)
        assert printed_head(exported, fmt) == (True, HEAD), fmt
        meta = read_meta(exported)
        assert meta is not None and (meta.format, meta.call_id) == (fmt, record.call.id), fmt
    assert structure_problem(render(record, "json", GENERATED_AT)) is None


@settings(max_examples=100, deadline=None)
@given(TEXT, st.sampled_from(list(FollowUpStatus)))
def test_only_followup_status_is_left_aside(note: str, status: FollowUpStatus) -> None:
    record = finalized_with(note, "JD-1")
    done_at = GENERATED_AT if status is FollowUpStatus.DONE else None
    for fmt in ("text", "markdown", "json"):
        before = render(record, fmt, GENERATED_AT)
        changed = sample_copy(record)
        changed.followups[1] = replace(changed.followups[1], status=status, done_at=done_at)
        assert without_followup_status(render(changed, fmt, GENERATED_AT), fmt) == (
            without_followup_status(before, fmt)
        ), fmt
        # Anything else about the follow-up still counts.
        edited = sample_copy(record)
        edited.followups[1] = replace(edited.followups[1], note=edited.followups[1].note + ".")
        assert without_followup_status(render(edited, fmt, GENERATED_AT), fmt) != (
            without_followup_status(before, fmt)
        ), fmt


def sample_copy(record):
    return replace(record, followups=list(record.followups), notes=list(record.notes))
