"""Reviewers as entities: schema step _v6_reviewers, suggestions, link, merge, undo, the
track record and follow-through. Real SQLite files in a temporary data directory."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import Database
from export_db import make_v2_database
from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.reviewers import ReviewerDetails
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import FollowUpAction, Outcome
from p2pcall.store import Store, StoreError, schema
from p2pcall.store.opening import open_store

NY = "America/New_York"


@pytest.fixture
def store(tmp_path: Path, database: Database):
    opened = open_store(tmp_path)
    yield opened
    opened.close()


def _call(store: Store, **fields: str) -> int:
    call = store.start_call(NY)
    for key, value in fields.items():
        if value == "DECLINED":
            store.set_field(call.id, key, "", declined=True)
        else:
            store.set_field(call.id, key, value)
    return call.id


@pytest.mark.sqlite_only
def test_upgrade_from_v2_adds_reviewers_and_keeps_the_finalized_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_id, head = make_v2_database(tmp_path, monkeypatch)
    store = open_store(tmp_path)
    try:
        assert store.chain_inputs(call_id).head() == head
        smith = store.add_reviewer(ReviewerDetails("Dr. Ann Smith", specialty="Psychiatry"))
        store.link_call(call_id, smith.id)  # a finalized call can still be linked
        assert store.reviewer_of_call(call_id) == store.reviewer(smith.id)
        assert store.chain_inputs(call_id).head() == head  # the link is outside the chain
        [followup] = store.followups_for(call_id)
        store.set_followup_received(followup.id, False, date(2026, 12, 1))
        assert store.followup_received(followup.id) == ("not_received", "2026-12-01")
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "p2pcall.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.CURRENT_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"reviewer", "call_reviewer", "reviewer_link_log"} <= tables


def test_suggestions_match_name_starts_and_word_starts_most_calls_first(store: Store) -> None:
    ann = store.add_reviewer(ReviewerDetails("Ann Smith", "MD", "Psychiatry", vendor="Evicore"))
    sam = store.add_reviewer(ReviewerDetails("Sam Smithers", "DO", "Family medicine"))
    store.add_reviewer(ReviewerDetails("Bob Jones"))
    for _ in range(2):
        store.link_call(_call(store), sam.id)
    assert [r.id for r in store.suggest_reviewers("smi")] == [sam.id, ann.id]
    assert [r.id for r in store.suggest_reviewers("  ANN ")] == [ann.id]
    assert [r.id for r in store.suggest_reviewers("Dr. ann s")] == [ann.id]
    assert store.suggest_reviewers("") == []
    assert store.suggest_reviewers("%") == []  # LIKE wildcards are matched literally
    assert store.suggest_reviewers("_") == []
    [first] = store.suggest_reviewers("sam")
    assert first.calls == 2
    assert (
        first.summary()
        == "Sam Smithers, DO \u00b7 Family medicine \u00b7 vendor not known \u00b7 2 calls"
    )


@pytest.mark.sqlite_only
def test_link_relink_unlink_are_logged_and_leave_fields_alone(store: Store) -> None:
    ann = store.add_reviewer(ReviewerDetails("Ann Smith"))
    bob = store.add_reviewer(ReviewerDetails("Bob Jones"))
    call_id = _call(store, reviewer_name="Ann Smyth")
    store.link_call(call_id, bob.id)
    store.link_call(call_id, ann.id)  # the wrong one first: linking again replaces it
    assert store.reviewer_of_call(call_id).id == ann.id
    assert store.unlink_call(call_id) == ann.id
    assert store.reviewer_of_call(call_id) is None
    assert store.unlink_call(call_id) is None
    assert store.load_call(call_id).call.values["reviewer_name"] == "Ann Smyth"
    with sqlite3.connect(store.path) as conn:
        log = conn.execute(
            "SELECT action, reviewer_id FROM reviewer_link_log ORDER BY id"
        ).fetchall()
    assert log == [("link", bob.id), ("link", ann.id), ("unlink", ann.id)]
    with pytest.raises(StoreError, match="no reviewer number"):
        store.link_call(call_id, 999)
    with pytest.raises(StoreError, match="no call number"):
        store.link_call(999, ann.id)
    with pytest.raises(StoreError, match="needs a name"):
        store.add_reviewer(ReviewerDetails("   "))


def test_merge_counts_both_entries_as_one_and_unmerge_undoes_it(store: Store) -> None:
    ann = store.add_reviewer(ReviewerDetails("Ann Smith", specialty="Psychiatry"))
    dup = store.add_reviewer(ReviewerDetails("A. Smith"))
    third = store.add_reviewer(ReviewerDetails("Annie Smith"))
    for reviewer, count in ((ann, 2), (dup, 1), (third, 1)):
        for _ in range(count):
            store.link_call(_call(store), reviewer.id)
    store.merge_reviewers(third.id, dup.id)  # third -> dup
    merged = store.merge_reviewers(dup.id, ann.id)  # dup (and third with it) -> ann
    assert merged.id == ann.id and merged.calls == 4
    assert [r.id for r in store.suggest_reviewers("smith")] == [ann.id]  # merged ones hidden
    assert store.reviewer(third.id).merged_into == ann.id
    linked_to_dup = store.track_record(dup.id).earlier_call_ids
    assert store.reviewer_of_call(linked_to_dup[0]).id == ann.id
    assert store.track_record(ann.id).earlier_calls == 4
    with pytest.raises(StoreError, match="already one reviewer"):
        store.merge_reviewers(third.id, ann.id)
    back = store.unmerge_reviewer(dup.id)
    assert back.merged_into is None and back.calls == 1
    assert store.reviewer(ann.id).calls == 3  # third stays with ann
    with pytest.raises(StoreError, match="was not merged"):
        store.unmerge_reviewer(dup.id)


def test_track_record_counts_only_earlier_calls(store: Store) -> None:
    ann = store.add_reviewer(ReviewerDetails("Ann Smith"))
    first = _call(store, reviewer_same_specialty="no", criteria_set="interqual",
                  reviewer_board="DECLINED", reviewer_name="DECLINED")  # fmt: skip
    store.end_call(first, Outcome.DENIED)
    second = _call(store, reviewer_same_specialty="yes", criteria_set="interqual",
                   reviewer_board="DECLINED")  # fmt: skip
    store.end_call(second, Outcome.APPROVED)
    late = now_utc() - timedelta(days=3)
    promised = store.add_followups(
        second,
        [
            PlannedFollowUp(
                FollowUpAction.CHASE_DOCUMENTS, note="criteria copy", computed_due=late
            ),
            PlannedFollowUp(FollowUpAction.REVIEWER_COMMITMENT, note="decision", computed_due=late),
            PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL, note="appeal", computed_due=late),
            # Not yet due: its keeping is not known, so it is counted neither way.
            PlannedFollowUp(
                FollowUpAction.CHASE_DOCUMENTS, note="notes", computed_due=now_utc() + timedelta(5)
            ),
        ],
    )
    store.set_followup_received(promised[1].id, True, late.date())  # on time
    current = _call(store)
    for call_id in (first, second, current):
        store.link_call(call_id, ann.id)
    record = store.track_record(ann.id, before_call=current)
    assert record.earlier_calls == 2
    assert record.earlier_call_ids == (second, first)
    assert record.outcomes == {"denied": 1, "approved": 1}
    assert (record.not_same_specialty, record.specialty_answered) == (1, 2)
    assert record.declined == {"reviewer_board": 2, "reviewer_name": 1}
    assert record.criteria == {"interqual": 2}
    assert (record.commitments_not_kept, record.commitments) == (1, 2)  # the open, overdue one
    store.set_followup_received(promised[0].id, True, late.date() + timedelta(days=1))
    assert store.track_record(ann.id, before_call=current).commitments_not_kept == 1  # late
    store.set_followup_received(promised[0].id, True, late.date())
    assert store.track_record(ann.id, before_call=current).commitments_not_kept == 0
    assert store.track_record(ann.id, before_call=first).earlier_calls == 0
    lines = record.lines()
    assert lines[0] == "2 calls before: 1 approved, 1 denied \u00b7 not same specialty 1/2"
    assert lines[1] == (
        "declined: board cert. \u00d72, name \u00d71 \u00b7 cited: InterQual \u00d72 "
        "\u00b7 promises not kept 1/2"
    )


def test_the_track_record_on_the_server_counts_every_clinicians_calls(
    tmp_path: Path, pg_cluster: object
) -> None:
    """Row-level security shows dr_lee only his own calls; the track record of a reviewer
    still counts dr_park's call with them (the reviewer_track views), and nothing else of
    that call becomes readable."""
    from p2pcall.domain.history import HistoryFilter
    from p2pcall.store.history import count_calls
    from pg_cluster import p2pcall_database

    url = p2pcall_database(pg_cluster)  # type: ignore[arg-type]
    park = open_store(tmp_path / "park", url.replace("dr_lee@", "dr_park@", 1))
    lee = open_store(tmp_path / "lee", url)
    try:
        ann = park.add_reviewer(ReviewerDetails("Ann Smith"))
        theirs = _call(park, reviewer_same_specialty="no", criteria_set="mcg",
                       reviewer_board="DECLINED")  # fmt: skip
        park.end_call(theirs, Outcome.DENIED)
        park.link_call(theirs, ann.id)
        mine = _call(lee)
        lee.link_call(mine, ann.id)
        record = lee.track_record(ann.id, before_call=mine)
        assert record.earlier_call_ids == (theirs,)
        assert record.outcomes == {"denied": 1}
        assert (record.not_same_specialty, record.specialty_answered) == (1, 1)
        assert record.declined == {"reviewer_board": 1}
        assert record.criteria == {"mcg": 1}
        assert lee.track_record(ann.id).earlier_calls == 2
        assert lee.reviewer(ann.id).calls == 2  # the count beside the name agrees
        assert [r.calls for r in lee.suggest_reviewers("ann")] == [2]
        assert count_calls(lee, HistoryFilter(search="mcg")) == 0  # the call stays dr_park's
        assert count_calls(park, HistoryFilter(search="mcg")) == 1
    finally:
        lee.close()
        park.close()
