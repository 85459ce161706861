"""One open call: its record as the screens show it, and every write the call makes.

`CallSession` owns what a call changes while it is open: notes and corrections, drafts,
field edits (with their throttles), the connected, ended and finalized stamps, and the notes
whose save failed and are retried. Screens and widgets are given the session when the App
builds them and call its typed methods; they never reach into the App for it.

Writes go to the database thread (`p2pcall.worker`) and never wait: the session keeps its
own copy of the call in step as each answer comes back, then tells the screens:
- a note or correction committed, or failed: a `NoteSaved` / `NoteFailed` message to the
  App, which hands it to the section screen that holds the note's widget (by `ticket`);
- the note counts, the save mark and the chain head: `Watched` values the call bar's widgets
  watch (called at once, like a Textual reactive, so the bar never lags the record).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.message import Message

from p2pcall.domain.models import Call, CallRecord, Draft, Note
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.throttle import Throttle

if TYPE_CHECKING:
    from textual.app import App

    from p2pcall.domain.followups import PlannedFollowUp
    from p2pcall.domain.models import FollowUp
    from p2pcall.outbox_sending import SendLine
    from p2pcall.worker import DatabaseThread

T = TypeVar("T")
SaveMark = tuple[str, str]  # (level: "ok" | "busy" | "error", what the call bar says)

FIELD_SAVE_SECONDS = 1.0  # a field being typed is written at most once a second


def finalized_notice(call: Call) -> str:
    """What the app says when a record is finalized."""
    from p2pcall.domain.chain import short

    # Short: a 15-second toast with the full head covered half the screen at 80x24.
    # The full head is on the call's detail and in every export.
    return (
        f"Call #{call.id} finalized. Chain head {short(call.chain_head or '')}\u2026 "
        "(in full on its detail and exports): keep a copy outside this computer."
    )


class Watched(Generic[T]):
    """A value whose watchers are called, at once, each time it is set."""

    def __init__(self, value: T, *, only_changes: bool = False) -> None:
        self._value = value
        self._only_changes = only_changes
        self._watchers: list[Callable[[T], None]] = []

    @property
    def value(self) -> T:
        return self._value

    def set(self, value: T) -> None:
        if self._only_changes and value == self._value:
            return
        self._value = value
        for watcher in list(self._watchers):
            watcher(value)

    def watch(self, watcher: Callable[[T], None]) -> None:
        """Call `watcher` with the value now, and with every value set from now on."""
        self._watchers.append(watcher)
        watcher(self._value)

    def unwatch(self, watcher: Callable[[T], None]) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)


SAVING: SaveMark = ("busy", "\u2026 saving")


class SaveStatus:
    """The save mark of the call bar: one for the app, as there is one database."""

    def __init__(self, db: DatabaseThread, unsaved: Callable[[], int]) -> None:
        self._db = db
        self._unsaved = unsaved  # notes whose save failed, in every session still retrying
        self.mark: Watched[SaveMark] = Watched(("busy", "opening records\u2026"), only_changes=True)
        # The practice server's connection: None on the local file, else "online"/"offline".
        self.link: Watched[str | None] = Watched(None, only_changes=True)
        self.last_error = ""  # the last write that failed, in words

    def set(self, mark: SaveMark) -> None:
        self.mark.set(mark)

    def saving(self) -> None:
        self.mark.set(SAVING)

    def saved(self, _: object = None) -> None:
        """A write came back: "saved" once nothing is queued and nothing waits for a retry."""
        from p2pcall.domain.timefmt import clock_time, now_utc

        if self._db.pending == 0 and not self._unsaved():
            self.mark.set(("ok", f"\u2713 saved {clock_time(now_utc())}"))

    def not_saved(self, error: str) -> None:
        self.last_error = error
        self.mark.set(("error", f"\u26a0 NOT SAVED: {error}"))

    def settle(self) -> None:
        """After any job: "saving" whose writes have all come back becomes "saved", also when
        the last job to finish was a read queued behind them (which never calls `saved`)."""
        if self.mark.value == SAVING:
            self.saved()


class NoteSaved(Message):
    """A note or correction the session was asked to save is committed."""

    def __init__(self, session: CallSession, ticket: int, note: Note) -> None:
        super().__init__()
        self.session = session
        self.ticket = ticket
        self.note = note


class NoteFailed(Message):
    """A note or correction could not be saved (a note waits in the outbox and is sent
    again: see `p2pcall.outbox_sending`)."""

    def __init__(
        self, session: CallSession, ticket: int, section: Section, error: str, *, retried: bool
    ) -> None:
        super().__init__()
        self.session = session
        self.ticket = ticket
        self.section = section
        self.error = error
        self.retried = retried  # the session sends it again (a note, not a correction)


class CallSession:
    """The open call: what the call screens show, and every write the call makes."""

    def __init__(
        self,
        record: CallRecord,
        app: App[Any],
        db: DatabaseThread,
        status: SaveStatus,
        line: SendLine,
    ) -> None:
        self.call: Call = record.call
        self.notes: list[Note] = list(record.notes)
        self.drafts: dict[Section, Draft] = {draft.section: draft for draft in record.drafts}
        self.status = status
        self.counts: Watched[dict[str, int]] = Watched(self._count())
        self.chain_head: Watched[str | None] = Watched(self.call.chain_head)
        self._app = app
        self._db = db
        self._line = line
        self._tickets = itertools.count(1)
        # Fields whose last write failed (key -> whether it was a final one, for the history):
        # written again, with the value they have then, by `retry_failed_fields`.
        self._failed_fields: dict[str, bool] = {}
        self._fields_in_flight: set[str] = set()  # written, answer not back yet
        # Every note whose save failed (it waits in the outbox), by key: its ticket and section.
        self._failed: dict[str, tuple[int, Section]] = {}
        # How many notes of this call wait in the outbox (the call bar shows it).
        self.outbox_count: Watched[int] = Watched(line.waiting_for(self.call.id))
        self._field_throttles: dict[str, Throttle] = {}
        self._mark_watchers: list[Callable[[SaveMark], None]] = []
        self._link_watchers: list[Callable[[str | None], None]] = []
        self.open = True  # False once the App has closed it (its retries may go on)

    def close(self) -> None:
        """The call's screens are gone: stop telling them anything (failed notes are still
        sent from the outbox, and their answers go nowhere but the record)."""
        self.open = False
        for watcher in self._mark_watchers:
            self.status.mark.unwatch(watcher)
        self._mark_watchers.clear()
        for link_watcher in self._link_watchers:
            self.status.link.unwatch(link_watcher)
        self._link_watchers.clear()

    # -- what the screens read -------------------------------------------------------------

    def notes_in(self, section: Section) -> list[Note]:
        return [note for note in self.notes if note.section == section]

    def note_counts(self) -> dict[str, int]:
        return dict(self.counts.value)

    def _count(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for note in self.notes:
            if note.corrects is not None:
                continue  # a correction replaces nothing and adds no note to the section
            counts[note.section.value] = counts.get(note.section.value, 0) + 1
        return counts

    def watch_save_mark(self, watcher: Callable[[SaveMark], None]) -> None:
        """Watch the app's save mark while this call is open (see `close`)."""
        self._mark_watchers.append(watcher)
        self.status.mark.watch(watcher)

    def watch_link(self, watcher: Callable[[str | None], None]) -> None:
        """Watch the practice server's connection while this call is open (see `close`)."""
        self._link_watchers.append(watcher)
        self.status.link.watch(watcher)

    @property
    def unsaved(self) -> int:
        """Notes and fields whose save failed and that no retry has committed yet."""
        return len(self._failed) + len(self._failed_fields)

    def holds(self, key: str) -> bool:
        """Is the note with this outbox key one of this call's notes not saved yet?"""
        return key in self._failed

    @property
    def saving(self) -> bool:
        """Writes are queued that have not answered yet."""
        return self._db.pending > 0

    # -- notes -----------------------------------------------------------------------------

    def save_note(
        self, section: Section, kind: NoteKind, body: str, started_at: datetime, reason: str = ""
    ) -> int:
        """Queue a note; the answer is a NoteSaved or NoteFailed with the ticket returned.

        The note gets its idempotency key and its time now, at Enter, and goes into the
        outbox at once (its own thread: see `p2pcall.outbox_sending`), then to the database.
        """
        import uuid

        from p2pcall.domain.timefmt import now_utc
        from p2pcall.outbox import OutboxNote
        from p2pcall.outbox_sending import WAITING_BEHIND

        ticket = next(self._tickets)
        note = OutboxNote(
            str(uuid.uuid4()), self.call.id, section, kind, body, started_at, now_utc(), reason
        )
        line = self._line
        line.writer.put(note)
        self.status.saving()

        def done(stored: Note) -> None:
            self._failed.pop(note.key, None)
            self.drafts.pop(section, None)
            self._committed(ticket, stored)

        def failed(error: str) -> None:
            self._failed[note.key] = (ticket, section)
            self._show_outbox()
            self._app.post_message(NoteFailed(self, ticket, section, error, retried=True))
            if error != WAITING_BEHIND:
                self._app.notify(
                    f"Note not saved: {error} It is kept in the outbox on this computer and "
                    "sent, in the order typed, once the database can be written.",
                    severity="error",
                    timeout=8,
                )

        self._db.submit(lambda store: line.send(store, note), done, failed, "save the note")
        return ticket

    def retry_failed_fields(self) -> None:
        """Write every field whose last write failed again, with the value it has now (once:
        not while its last write is still waiting for its answer)."""
        for key, log in list(self._failed_fields.items()):
            if key not in self._fields_in_flight and not self.call.finalized:
                self._write_field(key, log=log)

    def sent_from_outbox(self, key: str, stored: Note) -> None:
        """A note that waited in the outbox is committed (the app's retry sent it)."""
        entry = self._failed.pop(key, None)
        if entry is not None:
            self._committed(entry[0], stored)
        else:  # a note of this call kept from an earlier run: part of the record now
            self.notes.append(stored)
            if self.open:
                self.counts.set(self._count())
        self._show_outbox()

    def _show_outbox(self) -> None:
        if self.open:  # a closed call's bar is gone
            self.outbox_count.set(self._line.waiting_for(self.call.id))

    def correct_note(self, original: Note, body: str, started_at: datetime) -> int:
        """Queue a correction (a new note pointing at `original`; the original is kept)."""
        ticket = next(self._tickets)

        def failed(error: str) -> None:
            self._app.post_message(NoteFailed(self, ticket, original.section, error, retried=False))
            self._app.notify(f"Correction not saved: {error}", severity="error", timeout=8)

        self.status.saving()
        self._db.submit(
            lambda store: store.correct_note(original.id, body, started_at),
            lambda note: self._committed(ticket, note),
            failed,
            "save the correction",
        )
        return ticket

    def _committed(self, ticket: int, note: Note) -> None:
        self.notes.append(note)
        if self.open:
            self.counts.set(self._count())
        self._app.post_message(NoteSaved(self, ticket, note))
        self.status.saved()

    def after_saves(self, then: Callable[[], None]) -> None:
        """Run `then` once the notes already sent have answered (at once if none is queued);
        keys typed meanwhile wait for it (Enter, then Ctrl+E at once)."""
        if self._db.pending:
            self._db.ask(lambda store: None, lambda _: then(), what="wait for the notes")
        else:
            then()

    def save_draft(self, section: Section, kind: NoteKind, body: str, started_at: datetime) -> None:
        call_id = self.call.id
        self.status.saving()
        self._db.submit(
            lambda store: store.save_draft(call_id, section, kind, body, started_at),
            self.status.saved,
            what="keep the unsaved text",
        )

    # -- fields ----------------------------------------------------------------------------

    def edit_field(self, key: str, value: str, declined: bool, *, final: bool) -> None:
        """Keep the field at once; write it at most once a second while typed, and on leaving."""
        call = self.call
        if call.finalized:
            self._app.notify(
                "This call is finalized: its fields cannot change. Add an addendum note instead.",
                severity="warning",
                timeout=6,
            )
            return
        if value:
            call.values[key] = value
        else:
            call.values.pop(key, None)
        if declined:
            call.declined.add(key)
        else:
            call.declined.discard(key)
        throttle = self._field_throttles.get(key)
        if throttle is None:
            throttle = self._field_throttles[key] = Throttle(
                self._app, FIELD_SAVE_SECONDS, lambda: self._write_field(key, log=False)
            )
        if final:
            throttle.cancel()
            self._write_field(key, log=True)
        else:
            throttle.poke()

    def _write_field(self, key: str, *, log: bool) -> None:
        call_id = self.call.id
        current = self.call.values.get(key, "")
        is_declined = key in self.call.declined

        def done(_: object) -> None:
            self._fields_in_flight.discard(key)
            self._failed_fields.pop(key, None)
            self.status.saved()

        def failed(error: str) -> None:
            self._fields_in_flight.discard(key)
            first = not self._failed_fields
            self._failed_fields[key] = self._failed_fields.get(key, False) or log
            if first:  # once, not at every keystroke's write: the call bar keeps saying it
                self._app.notify(
                    f"Field not saved: {error} It is kept and written again every few seconds.",
                    severity="error",
                    timeout=8,
                )

        self.status.saving()
        self._fields_in_flight.add(key)
        self._db.submit(
            lambda store: store.set_field(call_id, key, current, declined=is_declined, log=log),
            done,
            failed,
            what="save the field",
        )

    def flush_fields(self) -> None:
        """Write every field edit still waiting for its throttle (leaving, quitting)."""
        for throttle in self._field_throttles.values():
            throttle.flush()

    # -- the call's stamps -----------------------------------------------------------------

    def connect(self) -> None:
        """The reviewer is on the line: stamp the connected time (once)."""
        from p2pcall.domain.timefmt import clock_time, now_utc

        call = self.call
        if call.started_at is not None:
            self._app.notify(
                f"Connected at {clock_time(call.started_at, call.tz)}; that stays.", timeout=4
            )
            return
        if call.ended_at is not None:
            self._app.notify(
                "This call has ended: it can no longer be marked connected.", timeout=5
            )
            return
        call_id = call.id
        # Stamped at the key press and shown at once: keys typed right after F9 (Ctrl+G in
        # the same burst) already see the call as connected.
        at = now_utc()
        call.started_at = at

        def done(stored: Call) -> None:
            call.started_at = stored.started_at or at
            self.status.saved()
            self._app.notify(f"Connected at {clock_time(call.started_at, stored.tz)}.", timeout=3)

        def failed(error: str) -> None:
            call.started_at = None
            self._app.notify(f"Connected time not saved: {error}", severity="error", timeout=8)

        self.status.saving()
        self._db.submit(lambda store: store.connect_call(call_id, at), done, failed)

    def end(self, outcome: Outcome, then: Callable[[], None]) -> None:
        """Stamp the end (kept if already ended) with `outcome`; `then()` once stored."""
        call_id = self.call.id

        def done(stored: Call) -> None:
            # One Call object: the wrap-up's field edits go through edit_field on this call.
            self.call.ended_at = stored.ended_at
            self.call.outcome = stored.outcome
            then()

        # The keys after the outcome belong to the wrap-up it opens.
        self._ask(lambda store: store.end_call(call_id, outcome), done, what="end the call")

    def finish_wrap_up(
        self,
        planned: list[PlannedFollowUp],
        then: Callable[[], None],
        on_error: Callable[[str], None],
    ) -> None:
        """Store the ticked follow-ups (never twice), finalize the record, then `then()`."""
        from p2pcall.queries import save_wrap_up

        self.flush_fields()
        call_id = self.call.id

        def saved(followups: list[FollowUp]) -> None:
            count = len(followups)
            self._app.notify(
                f"Call #{call_id}: {count} follow-up{'s' if count != 1 else ''} saved. "
                "d on the home screen shows what is due.",
                timeout=5,
            )
            # Finishing the wrap-up finalizes the record; a retry after an error is safe
            # (no follow-up is stored twice, finalizing twice changes nothing).
            self.finalize(lambda _call: then(), on_error)

        # Keys after Ctrl+S belong to wherever finishing leads (home), or back to the wrap-up.
        self._ask(
            lambda store: save_wrap_up(store, call_id, planned),
            saved,
            on_error,
            what="save the follow-ups",
        )

    def finalize(
        self,
        then: Callable[[Call], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Finalize the record and show its chain head; `then(call)` after, if given.

        Finalizing an already finalized call is a no-op in the store, so a retry is safe.
        `on_error(message)` replaces the default error notice (the wrap-up stays open).
        """
        call_id = self.call.id
        line = self._line

        def run(store: Any) -> Call:
            line.check_none_waiting(call_id)  # never finalized ahead of its own notes
            result: Call = store.finalize_call(call_id)
            return result

        def done(stored: Call) -> None:
            self.call.finalized_at = stored.finalized_at
            self.call.chain_head = stored.chain_head
            self.chain_head.set(stored.chain_head)
            self._app.notify(finalized_notice(stored), timeout=8)
            self.status.saved()
            if then is not None:
                then(stored)

        self.status.saving()
        self._ask(run, done, on_error, what="finalize")

    def _ask(
        self,
        run: Callable[[Any], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        *,
        what: str,
    ) -> None:
        """A write whose answer the next keys act on: later keys wait for it."""
        self._db.ask(run, on_done, on_error, what, "write")
