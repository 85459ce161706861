"""The database jobs the screens need, in one place: screens never import the store.

Each function here runs in the database thread (`p2pcall.worker.DatabaseThread`): a screen
hands it, with its arguments, to `db.read`, `db.submit` or `ask_store` and gets the answer
back on the UI thread. They return domain objects (or plain data), and let the store's
errors through unless a screen needs them as a result (an export or letter written or not).

Nothing is imported at import time beyond the standard library: the screens import this
module before the first frame, and SQLAlchemy must not load until after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from p2pcall.domain.followups import DueReport, PlannedFollowUp
    from p2pcall.domain.history import HistoryFilter
    from p2pcall.domain.letters import Practice
    from p2pcall.domain.models import Call, CallRecord, CallSummary, FollowUp, HistoryPage
    from p2pcall.domain.reviewers import Reviewer, ReviewerDetails, TrackRecord
    from p2pcall.domain.stats import StatsReport
    from p2pcall.letterjob import LetterSource
    from p2pcall.store import Store
    from p2pcall.store.letters import LetterEdit, LetterFile

T = TypeVar("T")
Job = Callable[["Store"], T]  # what the database thread runs: the Store in, an answer out

DUE_WITHIN_DAYS = 7


# -- home ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeCalls:
    upcoming: list[tuple[CallSummary, Call]]  # prepared, not connected: with the call's fields
    unfinished: list[CallSummary]  # connected and not finished
    recent: list[CallSummary]


def home_calls(store: Store, recent: int = 30) -> HomeCalls:
    unfinished = store.unfinished_calls()
    return HomeCalls(
        upcoming=[(s, store.load_call(s.id).call) for s in unfinished if s.started_at is None],
        unfinished=[s for s in unfinished if s.started_at is not None],
        recent=store.recent_calls(recent),
    )


def zone_notice(_store: Store) -> str | None:
    """The time zone, said plainly: in the database thread because it may import pendulum."""
    from p2pcall.domain.timefmt import local_zone_notice

    return local_zone_notice()


def due_soon(store: Store) -> DueReport:
    """What is overdue, due today and due in the next days, across every call."""
    from p2pcall.domain.timefmt import local_tz_name, now_utc

    return store.due_across_calls(now_utc(), DUE_WITHIN_DAYS, local_tz_name())


def mark_followup_received(store: Store, followup_id: int, received: bool) -> None:
    """A promised document or commitment came (the chase is done) or has not, dated today
    in this computer's time zone."""
    import pendulum

    from p2pcall.domain.timefmt import local_tz_name

    today = pendulum.now(local_tz_name()).date()
    store.set_followup_received(followup_id, received, today)
    if received:
        store.mark_followup_done(followup_id)


# -- history and a call's record -------------------------------------------------------------


def history_page(store: Store, flt: HistoryFilter, offset: int, limit: int) -> HistoryPage:
    from p2pcall.store.history import list_calls

    return list_calls(store, flt, offset=offset, limit=limit)


def count_calls(store: Store, flt: HistoryFilter) -> int:
    from p2pcall.store.history import count_calls as count

    return count(store, flt)


def call_summaries(store: Store, ids: list[int]) -> list[CallSummary]:
    from p2pcall.store.history import summaries_of

    return summaries_of(store, ids)


@dataclass(frozen=True)
class CallDetail:
    record: CallRecord
    late_fields: set[str]  # fields changed after the call ended
    changed_since_finalized: bool  # the finalized record no longer matches its chain head
    letter_files: list[LetterFile]


def call_detail(store: Store, call_id: int) -> CallDetail:
    from p2pcall.store.exporting import RecordChangedError, checked_head
    from p2pcall.store.history import late_fields

    record = store.load_call(call_id)
    changed = False
    if record.call.finalized:  # recomputed each time the record is shown, as exports do
        try:
            checked_head(store.chain_inputs(call_id))
        except RecordChangedError:
            changed = True
    return CallDetail(record, late_fields(store, call_id), changed, store.letter_files(call_id))


def export_call(
    store: Store, call_id: int, kind: str, redact: bool, path: Path, force: bool
) -> tuple[str, str]:
    """Load, render and write one call's record. Returns (status, detail).

    Problems come back as ("error" | "exists", message) rather than exceptions, so a refused
    file is never reported as an unsaved note by the app's job handler.
    """
    from p2pcall.domain.export import ExportError, render
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.exportfile import ExportExistsError, ExportFileError, write_export
    from p2pcall.store import StoreError
    from p2pcall.store.exporting import load_for_export

    try:
        record = load_for_export(store, call_id)
        text = render(record, kind, now_utc(), redact)
        written = write_export(path, text, force=force, records=store.path)
    except ExportExistsError as exc:
        return "exists", str(exc)
    except (ExportFileError, ExportError, StoreError) as exc:
        return "error", str(exc)
    return "ok", str(written)


def call_stats(
    store: Store, by: str, flt: HistoryFilter, tz: str
) -> tuple[StatsReport, StatsReport]:
    """Months (for the charts) and the table's grouping `by`."""
    from p2pcall.store.stats import call_stats_by

    months, table = call_stats_by(store, ["month", by], flt, tz)
    return months, table


# -- the reviewer of a call ---------------------------------------------------------------------


def linked_reviewer(store: Store, call_id: int) -> tuple[Reviewer, TrackRecord] | None:
    """The reviewer the call is linked to and their earlier calls."""
    reviewer = store.reviewer_of_call(call_id)
    if reviewer is None:
        return None
    return reviewer, store.track_record(reviewer.id, before_call=call_id)


def link_reviewer(
    store: Store,
    call_id: int,
    typed: str,
    chosen: int | None,
    new: bool,
    details: ReviewerDetails,
) -> tuple[Reviewer, TrackRecord]:
    """Link to `chosen`, else to the first suggestion for `typed`, else to a new reviewer
    made from the call's section B fields (`new`: always a new one)."""
    target = chosen
    if target is None and not new:
        found = store.suggest_reviewers(typed, 1)
        target = found[0].id if found else None
    if target is None:
        target = store.add_reviewer(details).id
    store.link_call(call_id, target)
    state = linked_reviewer(store, call_id)
    assert state is not None  # just linked, in this thread
    return state


# -- the wrap-up and letters ---------------------------------------------------------------------


def save_wrap_up(store: Store, call_id: int, planned: list[PlannedFollowUp]) -> list[FollowUp]:
    """The wrap-up's follow-ups, never stored twice."""
    from p2pcall.store.followups import save_wrap_up as save

    return save(store, call_id, planned)


def letter_sources(
    store: Store, call_id: int, config_dir: Path
) -> tuple[LetterSource, Practice, str]:
    """What the letters of a call are drafted from, the practice's details, and a problem
    reading those details ("" when none)."""
    from p2pcall.config import load_practice
    from p2pcall.domain.letters import Practice
    from p2pcall.domain.letters.practice import PracticeError
    from p2pcall.letterjob import load_source

    source = load_source(store, call_id)
    try:
        practice, problem = load_practice(config_dir), ""
    except PracticeError as exc:
        practice, problem = Practice(), str(exc)
    return source, practice, problem


def letter_edit(kind: str, text: str, at: datetime) -> LetterEdit:
    """The user's text of a letter, as the store keeps it (for the screen's own copy)."""
    from p2pcall.store.letters import LetterEdit

    return LetterEdit(kind, text, at)


def write_letter_file(
    store: Store,
    call_id: int,
    kind: str,
    fmt: str,
    path: Path,
    practice: Practice,
    force: bool,
) -> tuple[str, Any]:
    """Write one letter to a file. Returns ("ok", what was written) or ("error", message)."""
    from p2pcall.domain.letters import LetterUnavailable
    from p2pcall.domain.timefmt import now_utc
    from p2pcall.exportfile import ExportFileError
    from p2pcall.letterjob import write_letter
    from p2pcall.letterpdf import LetterPdfError
    from p2pcall.store import StoreError

    try:
        return "ok", write_letter(store, call_id, kind, fmt, path, practice, now_utc(), force=force)
    except (ExportFileError, LetterUnavailable, LetterPdfError, StoreError) as exc:
        return "error", str(exc)
