"""Who did what: read from the server's `author` column into the domain objects, shown in the
call detail and named in exports by the rule of docs/exports.md (only what someone other
than the call's clinician did; the clinician only for a call recorded on the server).

On SQLite nothing is named: a laptop's file records no names, and its exports are the same
bytes as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import Database
from p2pcall.commands._verify_checks import compare_record
from p2pcall.domain.export import FORMATS, render
from p2pcall.domain.export.digest import read_meta
from p2pcall.domain.export.strict_json import structure_problem
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.verify import Report
from p2pcall.domain.vocab import FollowUpAction, NoteKind, Outcome
from p2pcall.queries import call_detail
from p2pcall.screens.detail import detail_view
from p2pcall.store import Store
from p2pcall.store.exporting import load_for_export
from p2pcall.store.opening import open_reader, open_store

AT = datetime.now(UTC) + timedelta(hours=1)  # after every note the tests save


@pytest.fixture
def store(tmp_path: Path, database: Database) -> Iterator[Store]:
    opened = open_store(tmp_path / "records")
    try:
        yield opened
    finally:
        opened.close()


def finished_call(store: Store) -> tuple[int, int]:
    """A finalized call with a follow-up; (call id, follow-up id)."""
    call = store.start_call("America/New_York")
    store.set_field(call.id, "insurer", "Acme", log=True)
    store.add_note(call.id, Section.B, NoteKind.QUOTE, "not necessary", now_utc())
    store.end_call(call.id, Outcome.DENIED)
    planned = store.add_followups(
        call.id,
        [PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL, computed_due=now_utc() + timedelta(9))],
    )
    store.add_letter_file(call.id, "appeal", "txt", "/tmp/appeal.txt", edited=False)
    store.finalize_call(call.id)
    return call.id, planned[0].id


def as_person(database: Database, tmp_path: Path, person: str) -> Store:
    assert database.url is not None
    return open_store(tmp_path / person, database.url.replace("dr_lee@", f"{person}@"))


def text_of(view) -> str:
    return "".join(text for block in view.blocks for text, _ in block)


def test_every_row_read_says_who_wrote_it_on_the_server_and_nobody_on_a_laptop(
    store: Store, database: Database
) -> None:
    call_id, _ = finished_call(store)
    record = store.load_call(call_id)
    who = "dr_lee" if database.server else None
    assert record.call.author == who
    assert {note.author for note in record.notes} == {who}
    assert {fu.author for fu in record.followups} == {who}
    assert {f.author for f in store.letter_files(call_id)} == {who}
    assert record.call.laptop_number is None
    # The chain never includes a name: the head recomputes from either database.
    assert store.recompute_head(call_id) == record.call.chain_head


@pytest.mark.server_only  # a laptop has one person: nobody else to name
def test_a_coordinator_marking_a_follow_up_done_is_named_in_detail_and_exports(
    store: Store, database: Database, tmp_path: Path
) -> None:
    call_id, followup_id = finished_call(store)
    before = {fmt: render(load_for_export(store, call_id), fmt, AT, False) for fmt in FORMATS}
    kim = as_person(database, tmp_path, "coord_kim")
    try:
        kim.mark_followup_done(followup_id)
    finally:
        kim.close()
    record = load_for_export(store, call_id)
    assert record.followups[0].author == "coord_kim"
    text = render(record, "text", AT, False)
    assert "  Clinician           dr_lee\n" in text
    assert "     Last change by      coord_kim\n" in text
    markdown = render(record, "markdown", AT, False)
    assert "- **Clinician:** dr\\_lee" in markdown or "- **Clinician:** dr_lee" in markdown
    assert "**Last change by:** coord" in markdown
    document = render(record, "json", AT, False)
    assert '"clinician": "dr_lee"' in document and '"changed_by": "coord_kim"' in document
    assert structure_problem(document) is None  # the export schema allows both
    # Exports made before the coordinator's change still verify: who changed a follow-up
    # is work tracking, left aside with its status.
    reader = open_reader(tmp_path / "records")
    assert reader is not None
    try:
        for fmt, old in before.items():
            assert "Last change by" not in old and "changed_by" not in old
            report = Report()
            compare_record(old, read_meta(old), reader, report)
            assert report.ok, (fmt, report.lines())
    finally:
        reader.close()
    # The call detail says who did what.
    shown = text_of(detail_view(call_detail(store, call_id)))
    assert "Clinician" in shown and "dr_lee" in shown
    assert "by coord_kim" in shown


def test_the_clinicians_own_work_names_nobody_else(store: Store, database: Database) -> None:
    call_id, followup_id = finished_call(store)
    store.mark_followup_done(followup_id)
    record = load_for_export(store, call_id)
    for fmt in FORMATS:
        exported = render(record, fmt, AT, False)
        assert "Last change by" not in exported and "changed_by" not in exported
        assert ("Clinician" in exported or '"clinician"' in exported) == database.server
    shown = text_of(detail_view(call_detail(store, call_id)))
    assert " by " not in shown
    assert ("Clinician" in shown) == database.server
