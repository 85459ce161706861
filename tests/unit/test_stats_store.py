"""store/stats.py and the packet's selection on both databases, against the calls of
tests/support/stats_calls.py whose figures were counted by hand (the same checks as
`p2pcall stats` in tests/cli/test_stats.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import stats_calls
from conftest import Database
from p2pcall.domain.history import HistoryFilter
from p2pcall.domain.packet.model import PacketFilter
from p2pcall.domain.timefmt import now_utc
from p2pcall.store import Store
from p2pcall.store.opening import open_store
from p2pcall.store.packet import packet_summary, select_calls
from p2pcall.store.stats import call_stats, call_stats_by
from stats_calls import NY, check_by_insurer, check_by_vendor_and_by_reviewer, check_totals, rate


@pytest.fixture
def store(tmp_path: Path, database: Database) -> Iterator[Store]:
    opened = open_store(tmp_path / "data")
    try:
        stats_calls.build(opened)
        yield opened
    finally:
        opened.close()


def getter(store: Store, **filters: Any) -> stats_calls.Get:
    def get(by: str | None = None) -> dict[str, Any]:
        flt = HistoryFilter(tz=NY, **filters)
        return call_stats(store, by, flt, NY).as_json()

    return get


def test_totals_and_groups_counted_by_hand(store: Store) -> None:
    check_totals(getter(store))
    check_by_insurer(getter(store))
    check_by_vendor_and_by_reviewer(getter(store))


def test_criteria_and_months_in_one_statement(store: Store) -> None:
    by_criteria, by_month = call_stats_by(store, ["criteria", "month"], HistoryFilter(tz=NY), NY)
    assert {g.key: g.calls for g in by_criteria.groups} == {
        "mcg": 5, "": 4, "interqual": 2, "insurer_policy": 1
    }  # fmt: skip
    today = now_utc().in_timezone(NY).format("YYYY-MM")
    assert [(g.label, g.calls) for g in by_month.groups] == [(today, 12)]


def test_filters_and_merges(store: Store) -> None:
    assert getter(store, insurer="ACM")()["total"]["calls"] == 7  # any case
    far = getter(store, until=date(2000, 1, 1))()
    assert far["total"]["calls"] == 0
    rate(far["total"]["same_specialty"], 0, 0)
    today = now_utc().in_timezone(NY).date()
    assert getter(store, since=today, until=today)()["total"]["calls"] == 12
    assert getter(store, since=today + timedelta(days=1))()["total"]["calls"] == 0
    [ann, bob] = sorted(store.reviewers(), key=lambda r: r.name)
    store.merge_reviewers(bob.id, ann.id)
    merged = call_stats(store, "reviewer", HistoryFilter(tz=NY), NY)
    assert [(g.label, g.calls) for g in merged.groups] == [("Ann Smith", 9), ("(not linked)", 3)]


def test_packet_selects_finalized_calls_and_counts_exactly_them(store: Store) -> None:
    everything = select_calls(store, PacketFilter(tz=NY))
    assert everything.call_ids == [] and everything.not_finalized == 12
    acme = [s.id for s in store.recent_calls(50) if s.insurer == "Acme"]
    for call_id in acme[:3]:
        store.finalize_call(call_id)
    chosen = select_calls(store, PacketFilter(tz=NY, insurer="acme"))
    assert chosen.call_ids == sorted(acme[:3]) and chosen.not_finalized == 4
    assert select_calls(store, PacketFilter(tz=NY), as_of=now_utc()).call_ids == sorted(acme[:3])
    before = now_utc() - timedelta(days=1)
    assert select_calls(store, PacketFilter(tz=NY), as_of=before).call_ids == []
    ann = min(store.reviewers(), key=lambda r: r.name)
    by_vendor = select_calls(store, PacketFilter(tz=NY, vendor="EVICORE"))
    by_reviewer = select_calls(store, PacketFilter(tz=NY, reviewer=str(ann.id)))
    assert set(by_vendor.call_ids) <= set(acme[:3]) and by_reviewer.call_ids
    summary = packet_summary(store, chosen.call_ids, NY, now_utc())
    assert summary.total.calls == 3
