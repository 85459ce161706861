"""Schema step _v3_clock (legal_due), prepared and connected calls, chases dated when sent.

Real SQLite files in a temporary data directory; no mocks.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pendulum
import pytest

from conftest import Database
from export_db import make_v2_database
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.vocab import FollowUpAction, Outcome
from p2pcall.store import Store, StoreError, schema
from p2pcall.store.followups import save_wrap_up
from p2pcall.store.opening import open_store

NY = "America/New_York"


@pytest.mark.sqlite_only
def test_upgrade_from_v2_keeps_finalized_heads_verifiable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_id, head = make_v2_database(tmp_path, monkeypatch)
    store = open_store(tmp_path)
    try:
        inputs = store.chain_inputs(call_id)
        assert inputs.call.chain_head == head
        assert inputs.head() == head  # canonical form unchanged: same bytes, same head
        [followup] = store.followups_for(call_id)
        assert followup.legal_due is None and followup.computed_due is None
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "p2pcall.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.CURRENT_VERSION
        columns = [row[1] for row in conn.execute("PRAGMA table_info(followup)")]
    assert "legal_due" in columns  # later steps (v6: received, received_on) add after it
    assert sorted(tmp_path.glob(f"p2pcall-before-v{schema.CURRENT_VERSION}-*.sqlite3")), (
        "a backup before upgrading"
    )


@pytest.fixture
def store(tmp_path: Path, database: Database):
    opened = open_store(tmp_path)
    yield opened
    opened.close()


def test_a_prepared_call_keeps_prepared_connected_and_ended_apart(store: Store) -> None:
    prepared = store.prepare_call(NY)
    assert prepared.started_at is None and prepared.ended_at is None
    connected = store.connect_call(prepared.id)
    assert connected.created_at == prepared.created_at
    assert connected.started_at is not None and connected.started_at >= prepared.created_at
    again = store.connect_call(prepared.id)  # a second press changes nothing
    assert again.started_at == connected.started_at
    ended = store.end_call(prepared.id, Outcome.DENIED)
    assert ended.created_at == prepared.created_at
    assert ended.started_at == connected.started_at
    assert ended.ended_at is not None and ended.ended_at >= ended.started_at
    with pytest.raises(StoreError, match="has ended"):
        store.connect_call(prepared.id)
    finalized = store.finalize_call(prepared.id)
    assert store.chain_inputs(prepared.id).head() == finalized.chain_head


def test_a_prepared_call_never_connected_keeps_no_connected_time(store: Store) -> None:
    call = store.prepare_call(NY)
    ended = store.end_call(call.id, Outcome.PENDING)
    assert ended.started_at is None and ended.ended_at is not None
    assert store.finalize_call(call.id).chain_head


def test_marking_the_appeal_sent_dates_the_waiting_chase(store: Store) -> None:
    call = store.start_call(NY)
    store.end_call(call.id, Outcome.DENIED)
    saved = save_wrap_up(
        store,
        call.id,
        [
            PlannedFollowUp(FollowUpAction.EXPEDITED_REVIEW, rule_id="internal_appeal_filing"),
            PlannedFollowUp(
                FollowUpAction.CHASE_PLAN,
                rule_id="internal_appeal_decision_urgent",
                note="appeal decision",
            ),
            PlannedFollowUp(
                FollowUpAction.CHASE_PLAN,
                rule_id="external_review_decision_expedited",
                note="external review decision",
            ),
        ],
    )
    appeal, chase, external = saved
    assert chase.computed_due is None
    sent = pendulum.datetime(2026, 11, 23, 16, 30, tz=NY)
    store.mark_followup_done(appeal.id, at=sent)
    by_id = {f.id: f for f in store.followups_for(call.id)}
    # 29 CFR 2560.503-1(i)(2)(i): 72 hours from 16:30 Mon 23 Nov -> 16:30 Thu 26 Nov.
    assert by_id[chase.id].computed_due == pendulum.datetime(2026, 11, 26, 16, 30, tz=NY)
    assert by_id[external.id].computed_due is None  # waits for the external review itself
