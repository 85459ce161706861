"""Follow-ups in a real SQLite file: add, done, not needed, overrides, due across calls."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from conftest import Database
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus, Outcome
from p2pcall.store import Store, StoreError
from p2pcall.store.followups import save_wrap_up
from p2pcall.store.opening import open_store

NY = "America/New_York"
NOW = pendulum.datetime(2026, 11, 23, 15, 0, tz="UTC")  # 10:00 New York
SAME_DAY, APPEAL = "act_same_day", "internal_appeal_filing"


@pytest.fixture
def store(tmp_path: Path, database: Database) -> Iterator[Store]:
    opened = open_store(tmp_path / "records")
    try:
        yield opened
    finally:
        opened.close()


def ended_call(store: Store, patient: str = "JD-0412", insurer: str = "Acme") -> int:
    call = store.start_call(NY)
    store.set_field(call.id, "patient_ref", patient)
    store.set_field(call.id, "insurer", insurer)
    store.end_call(call.id, Outcome.DENIED)
    return call.id


def ny(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=NY)


@pytest.mark.sqlite_only
def test_followups_are_stored_and_loaded_with_the_call(store: Store, tmp_path: Path) -> None:
    call_id = ended_call(store)
    saved = store.add_followups(
        call_id,
        [
            PlannedFollowUp(
                FollowUpAction.CONFIRMATION, "act_same_day", ny(2026, 11, 23, 23, 59, 59)
            ),
            PlannedFollowUp(
                FollowUpAction.INTERNAL_APPEAL,
                "internal_appeal_filing",
                ny(2027, 5, 19, 23, 59, 59),
                due_override=ny(2027, 5, 1, 23, 59, 59),
                override_reason=" notice says 1 May ",
            ),
        ],
    )
    assert [f.status for f in saved] == [FollowUpStatus.PLANNED] * 2
    record = store.load_call(call_id)
    first, second = record.followups
    assert first.action is FollowUpAction.CONFIRMATION
    assert first.computed_due == ny(2026, 11, 23, 23, 59, 59)
    assert second.computed_due == ny(2027, 5, 19, 23, 59, 59)  # kept beside the override
    assert second.due == ny(2027, 5, 1, 23, 59, 59)
    assert second.override_reason == "notice says 1 May"
    # On disk: UTC text, like every other timestamp of the record.
    raw = sqlite3.connect(tmp_path / "records" / "p2pcall.sqlite3")
    rows = raw.execute("SELECT computed_due, due_override FROM followup ORDER BY id").fetchall()
    raw.close()
    assert rows == [
        ("2026-11-24T04:59:59.000000Z", None),
        ("2027-05-20T03:59:59.000000Z", "2027-05-02T03:59:59.000000Z"),
    ]


def test_mark_done_stamps_the_time_and_not_needed_clears_it(store: Store) -> None:
    call_id = ended_call(store)
    followup = store.add_followup(call_id, PlannedFollowUp(FollowUpAction.INFORM_PATIENT))
    before = pendulum.now("UTC")
    done = store.mark_followup_done(followup.id)
    assert done.status is FollowUpStatus.DONE
    assert before <= done.done_at <= pendulum.now("UTC")
    assert store.followups_for(call_id)[0].done_at == done.done_at
    skipped = store.mark_followup_not_needed(followup.id)
    assert skipped.status is FollowUpStatus.NOT_NEEDED and skipped.done_at is None
    reopened = store.reopen_followup(followup.id)
    assert reopened.status is FollowUpStatus.PLANNED


def test_override_needs_a_reason_over_a_computed_date(store: Store) -> None:
    call_id = ended_call(store)
    computed = store.add_followup(
        call_id,
        PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL, "internal_appeal_filing", ny(2027, 5, 19)),
    )
    with pytest.raises(StoreError, match="Say why"):
        store.override_followup_due(computed.id, ny(2027, 5, 1), "  ")
    moved = store.override_followup_due(computed.id, ny(2027, 5, 1), "notice says 1 May")
    assert moved.due == ny(2027, 5, 1) and moved.computed_due == ny(2027, 5, 19)
    back = store.override_followup_due(computed.id, None)
    assert back.due == ny(2027, 5, 19) and back.override_reason == ""
    # Without a computed date, a date needs no reason.
    free = store.add_followup(call_id, PlannedFollowUp(FollowUpAction.REGULATOR_COMPLAINT))
    assert store.override_followup_due(free.id, ny(2026, 12, 1)).due == ny(2026, 12, 1)


def test_bad_input_is_refused_with_store_errors(store: Store) -> None:
    call_id = ended_call(store)
    with pytest.raises(StoreError, match="no follow-up number 99"):
        store.mark_followup_done(99)
    with pytest.raises(StoreError, match="no call number 42"):
        store.add_followup(42, PlannedFollowUp(FollowUpAction.OTHER))
    from datetime import datetime

    with pytest.raises(StoreError, match="no time zone"):
        store.add_followup(
            call_id, PlannedFollowUp(FollowUpAction.OTHER, computed_due=datetime(2026, 1, 1))
        )
    with pytest.raises(StoreError, match="Say why"):
        store.add_followup(
            call_id,
            PlannedFollowUp(FollowUpAction.OTHER, computed_due=NOW, due_override=NOW.add(days=1)),
        )
    assert store.followups_for(call_id) == []


def test_due_across_calls_groups_with_the_call_each_belongs_to(store: Store) -> None:
    first = ended_call(store, "JD-0412", "Acme Health")
    second = ended_call(store, "MK-1180", "Northwind")
    store.add_followups(
        first,
        [
            PlannedFollowUp(FollowUpAction.CONFIRMATION, SAME_DAY, ny(2026, 11, 22, 23, 59, 59)),
            PlannedFollowUp(FollowUpAction.EXPEDITED_REVIEW, SAME_DAY, ny(2026, 11, 23, 23, 59)),
            PlannedFollowUp(FollowUpAction.INFORM_PATIENT),  # no date
        ],
    )  # fmt: skip
    store.add_followups(
        second,
        [
            PlannedFollowUp(
                FollowUpAction.INTERNAL_APPEAL,
                "internal_appeal_filing",
                ny(2027, 5, 19, 23, 59, 59),
                due_override=ny(2026, 11, 27, 23, 59, 59),
                override_reason="plan letter",
            ),
            PlannedFollowUp(FollowUpAction.NECESSITY_LETTER, APPEAL, ny(2027, 5, 19)),
            PlannedFollowUp(FollowUpAction.CHASE_DOCUMENTS, None, ny(2026, 11, 20), note="Copy"),
        ],
    )  # fmt: skip
    done = store.followups_for(second)[2]
    store.mark_followup_done(done.id)  # done: never listed

    report = store.due_across_calls(NOW, 7, NY)
    assert [(i.followup.action, i.patient_ref, i.insurer) for i in report.overdue] == [
        (FollowUpAction.CONFIRMATION, "JD-0412", "Acme Health")
    ]
    assert [i.followup.action for i in report.today] == [FollowUpAction.EXPEDITED_REVIEW]
    assert [(i.followup.action, i.followup.call_id) for i in report.soon] == [
        (FollowUpAction.INTERNAL_APPEAL, second)  # by its overridden date
    ]
    assert report.undated == 1
    assert report.today[0].tz == NY
    wider = store.due_across_calls(NOW, 366, NY)
    assert FollowUpAction.NECESSITY_LETTER in [i.followup.action for i in wider.soon]
    with pytest.raises(StoreError):
        store.due_across_calls(NOW, -1, NY)


def test_save_wrap_up_never_stores_the_same_item_twice(store: Store) -> None:
    call_id = ended_call(store)
    planned = [
        PlannedFollowUp(FollowUpAction.CONFIRMATION, "act_same_day", NOW),
        PlannedFollowUp(FollowUpAction.CHASE_DOCUMENTS, note="Criteria copy"),
    ]
    assert len(save_wrap_up(store, call_id, planned)) == 2
    again = [*planned, PlannedFollowUp(FollowUpAction.CHASE_DOCUMENTS, note="Written decision")]
    assert [f.note for f in save_wrap_up(store, call_id, again)] == ["Written decision"]
    assert len(store.followups_for(call_id)) == 3
