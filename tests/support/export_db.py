"""A real database holding a call like the export sample, for CLI and screen tests."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlmodel import Session

from export_sample import sample_record
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store import schema
from p2pcall.store.opening import open_store
from p2pcall.store.tables import FollowUpRow, NoteRow

HOSTILE = "\x1b]0;owned\x07\x1b[2J [bold]x[/bold] <b>y</b> \u202eevil"


def make_database(data_dir: Path, *, big_note: bool = False) -> int:
    """A call like the export sample, written through the store, ended, with follow-ups."""
    sample = sample_record()
    store = open_store(data_dir)
    try:
        call = store.start_call(sample.call.tz)
        for key, value in sample.call.values.items():
            store.set_field(call.id, key, value)
        for key in sample.call.declined:
            store.set_field(call.id, key, "", declined=True)
        for note in sample.notes:
            if not note.late:
                store.add_note(call.id, note.section, note.kind, note.body, now_utc())
        store.add_note(call.id, Section.E, NoteKind.NOTE, HOSTILE, now_utc())
        if big_note:
            store.add_note(call.id, Section.E, NoteKind.NOTE, "x" * 1_000_000, now_utc())
        store.end_call(call.id, sample.call.outcome)
        with Session(store.engine) as session:
            now = now_utc()
            session.add(
                NoteRow(call_id=call.id, section="F", kind="note", body="Late: PHP offered.",
                        started_at=now, saved_at=now, late=True, reason="after hanging up")
            )  # fmt: skip
            for fu in sample.followups:
                session.add(
                    FollowUpRow(call_id=call.id, action=fu.action.value, status=fu.status.value,
                                created_at=now, rule_id=fu.rule_id, computed_due=fu.computed_due,
                                due_override=fu.due_override, override_reason=fu.override_reason,
                                done_at=fu.done_at, note=fu.note)
                )  # fmt: skip
            session.commit()
        return call.id
    finally:
        store.close()


def make_v2_database(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """A schema-2 database with one finalized call; returns (call id, chain head)."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "STEPS", schema.STEPS[:2])
        patch.setattr(schema, "CURRENT_VERSION", 2)
        store = open_store(data_dir)
        call = store.start_call("America/New_York")
        store.set_field(call.id, "insurer", "Acme", log=True)
        store.add_note(call.id, Section.B, NoteKind.QUOTE, "not necessary", pendulum.now("UTC"))
        store.end_call(call.id, Outcome.DENIED)
        with store.engine.begin() as conn:  # v2 followup table: no legal_due column
            conn.exec_driver_sql(
                "INSERT INTO followup (call_id, action, status, created_at) VALUES "
                f"({call.id}, 'internal_appeal', 'planned', '2026-11-23T15:00:00.000000Z')"
            )
        finalized = store.finalize_call(call.id)
        store.close()
    assert finalized.chain_head
    return call.id, finalized.chain_head


def make_v1_database(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database as the first release wrote it, with a call, a field and a note."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "STEPS", schema.STEPS[:1])
        patch.setattr(schema, "CURRENT_VERSION", 1)
        first = open_store(store_dir)
        with first.engine.begin() as conn:  # raw SQL: today's models have later columns
            for statement in (
                "INSERT INTO call (id, created_at, tz, started_at)"
                " VALUES (1, '2026-01-05T14:59:00.000000Z', 'UTC', '2026-01-05T14:59:00.000000Z')",
                "INSERT INTO call_field (call_id, key, value, updated_at)"
                " VALUES (1, 'insurer', 'Aetna', '2026-01-05T14:59:30.000000Z')",
                "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late)"
                " VALUES (1, 'B', 'quote', 'not medically necessary', "
                "'2026-01-05T15:00:00.000000Z', '2026-01-05T15:00:01.000000Z', 0)",
            ):
                conn.exec_driver_sql(statement)
        first.close()
    return store_dir / "p2pcall.sqlite3"
