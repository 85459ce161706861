"""The canonical form of the hash chain, pinned: a change to it must be a deliberate one."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from p2pcall.domain import chain
from p2pcall.domain.corrections import correctable, threaded
from p2pcall.domain.models import Call, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome

T0 = datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


CALL = Call(
    id=7,
    created_at=T0,
    tz="America/New_York",
    started_at=T0,
    ended_at=at(600),
    outcome=Outcome.DENIED,
    finalized_at=at(900),
)
FIELDS = [chain.FieldEntry("patient_ref", "JD-1", False, False, at(5))]
HISTORY = [chain.FieldEntry("patient_ref", "JD-1", False, False, at(5), id=1)]
NOTE = Note(7, 7, Section.A, NoteKind.QUOTE, "caf\u00e9 \u201cok\u201d\x1b", at(10), at(12))


def test_head_follows_the_documented_form_byte_for_byte() -> None:
    entries = [
        '{"created_at":"2026-11-23T15:00:00.123456Z","ended_at":"2026-11-23T15:10:00.123456Z",'
        '"finalized_at":"2026-11-23T15:15:00.123456Z","format":"p2pcall-chain-1","id":7,'
        '"outcome":"denied","started_at":"2026-11-23T15:00:00.123456Z","type":"call",'
        '"tz":"America/New_York"}',
        '{"declined":false,"key":"patient_ref","late":false,"type":"field",'
        '"updated_at":"2026-11-23T15:00:05.123456Z","value":"JD-1"}',
        '{"declined":false,"edited_at":"2026-11-23T15:00:05.123456Z","id":1,"key":"patient_ref",'
        '"late":false,"type":"field_edit","value":"JD-1"}',
        '{"body":"caf\u00e9 \u201cok\u201d\\u001b","corrects":null,"id":7,"kind":"quote",'
        '"late":false,"reason":"","saved_at":"2026-11-23T15:00:12.123456Z","section":"A",'
        '"started_at":"2026-11-23T15:00:10.123456Z","type":"note"}',
    ]
    head = "0" * 64
    for entry in entries:
        head = hashlib.sha256(head.encode("ascii") + entry.encode("utf-8")).hexdigest()
    assert chain.chain_head(CALL, FIELDS, HISTORY, [NOTE]) == head


def test_times_in_any_zone_hash_as_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    moved = replace(NOTE, saved_at=NOTE.saved_at.astimezone(eastern))
    assert chain.chain_head(CALL, FIELDS, HISTORY, [moved]) == chain.chain_head(
        CALL, FIELDS, HISTORY, [NOTE]
    )
    with pytest.raises(ValueError, match="naive"):
        chain.utc_text(datetime(2026, 1, 1))


def test_order_of_input_does_not_matter_but_content_does() -> None:
    other = replace(NOTE, id=8, body="second", saved_at=at(20))
    head = chain.chain_head(CALL, FIELDS, HISTORY, [NOTE, other])
    assert chain.chain_head(CALL, FIELDS, HISTORY, [other, NOTE]) == head
    for changed in (
        replace(other, late=True),
        replace(other, reason="x"),
        replace(other, corrects=7),
        replace(other, kind=NoteKind.NOTE),
        replace(other, section=Section.B),
        replace(other, started_at=at(19)),
    ):
        assert chain.chain_head(CALL, FIELDS, HISTORY, [NOTE, changed]) != head
    assert chain.chain_head(replace(CALL, tz="UTC"), FIELDS, HISTORY, [NOTE, other]) != head


def test_addenda_are_outside_the_head_and_extend_it() -> None:
    addendum = replace(NOTE, id=9, body="letter", saved_at=at(901), late=True, reason="mail")
    head = chain.chain_head(CALL, FIELDS, HISTORY, [NOTE])
    assert chain.chain_head(CALL, FIELDS, HISTORY, [NOTE, addendum]) == head
    assert chain.addenda([NOTE, addendum], at(900)) == [addendum]
    assert chain.extend(head, [addendum]) == chain.link(head, chain.note_entry(addendum))
    with pytest.raises(ValueError):
        chain.chain_head(replace(CALL, finalized_at=None), FIELDS, HISTORY, [NOTE])


def test_short_head_for_the_call_bar() -> None:
    assert chain.short("0123456789abcdef" + "0" * 48) == "0123 4567 89ab cdef"
    assert chain.short(None) == ""


def test_corrections_are_threaded_under_their_original() -> None:
    first = replace(NOTE, id=1, saved_at=at(1))
    second = replace(NOTE, id=2, saved_at=at(2))
    fix = replace(NOTE, id=3, saved_at=at(3), corrects=1)
    fix_again = replace(NOTE, id=4, saved_at=at(4), corrects=3)
    notes = [second, fix_again, first, fix]
    assert [(n.id, depth) for n, depth in threaded(notes)] == [(1, 0), (3, 1), (4, 2), (2, 0)]
    assert [n.id for n in correctable(notes)] == [4, 2]
