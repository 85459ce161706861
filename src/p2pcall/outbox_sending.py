"""Sending notes through the outbox: in typing order, exactly once, whatever fails.

Two parts, each owned by one thread:

`OutboxWriter` (its own thread) writes the outbox file: every note is put there when Enter
is pressed, and removed once the database has committed it. Neither the UI thread (an
fsync per note would be felt while typing) nor the database thread (a write there may wait
10 s for another program's lock, and every note typed meanwhile would wait with it, kept
only in memory) can do it: a note is on the disk within milliseconds of Enter, whatever
the database is doing, so a kill -9 at any moment loses nothing typed.

`SendLine` (the database thread: its methods run inside database jobs) holds the notes
whose save failed, by call, in typing order. While a call has one there, every later note
of that call waits behind it (not sent, so never committed ahead of it); `send_waiting`
sends them in order and stops at the first that fails. A note the record can no longer
take as typed (its call was finalized before it arrived) is refused for good: it leaves
the line, stays in the outbox, and the user is told.

No Textual, no SQLAlchemy at import: the store is only what the jobs are given.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from p2pcall.outbox import Outbox, OutboxError, OutboxNote
from p2pcall.store.errors import DamagedError, NoSuchCallError, NotTakenError, StoreError

if TYPE_CHECKING:
    from p2pcall.domain.models import Note
    from p2pcall.store import Store

WAITING_BEHIND = "waiting in the outbox behind an earlier note of this call that is not saved yet."


def _note_words(count: int) -> str:
    return f"{count} note{'s' if count != 1 else ''}"


class OutboxWriter:
    """The outbox file's one writer thread. `on_error(message)` is called from that thread."""

    def __init__(
        self, data_dir: Path, on_error: Callable[[str], None], *, done: Callable[[], bool]
    ) -> None:
        """`done()`: True once nothing more will be queued (the database thread has ended):
        the thread then leaves when its queue is empty."""
        self._data_dir = data_dir
        self._on_error = on_error
        self._done = done
        self._jobs: queue.Queue[Callable[[Outbox], None]] = queue.Queue()
        self._outbox: Outbox | None = None
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._queued = 0

    def outbox(self) -> Outbox:
        """The open outbox (opened on first use, by whichever thread needs it)."""
        with self._open_lock:
            if self._outbox is None:
                opened = Outbox.open(self._data_dir)
                assert opened is not None  # created when missing
                self._outbox = opened
            return self._outbox

    def kept(self) -> list[OutboxNote]:
        """What the outbox holds, in typing order, creating nothing when there is none."""
        with self._open_lock:
            if self._outbox is not None:
                return self._outbox.pending()
        found = Outbox.open(self._data_dir, create=False)
        if found is None:
            return []
        try:
            return found.pending()
        finally:
            found.close()

    def put(self, note: OutboxNote) -> None:
        self._queue(lambda outbox: outbox.put(note))

    def remove(self, key: str) -> None:
        self._queue(lambda outbox: outbox.remove(key))

    def note_error(self, key: str, error: str) -> None:
        self._queue(lambda outbox: outbox.note_error(key, error))

    def wait_idle(self, timeout: float) -> bool:
        """Block until everything queued so far is written (tests, exits); False if not."""
        with self._idle:
            return self._idle.wait_for(lambda: self._queued == 0, timeout)

    def _queue(self, job: Callable[[Outbox], None]) -> None:
        with self._idle:
            self._queued += 1
        self._jobs.put(job)
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                # Not a daemon: the interpreter waits for the last notes to reach the disk.
                self._thread = threading.Thread(target=self._run, name="p2pcall-outbox")
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                if self._done():
                    return
                continue
            try:
                job(self.outbox())
            except OutboxError as exc:
                self._on_error(str(exc))
            except Exception as exc:  # the type only: a message could quote the note
                self._on_error(f"The outbox could not be written ({type(exc).__name__}).")
            finally:
                with self._idle:
                    self._queued -= 1
                    self._idle.notify_all()


@dataclass
class SendReport:
    """What one `send_waiting` did."""

    saved: list[tuple[OutboxNote, Note]] = field(default_factory=list)
    refused: list[tuple[OutboxNote, str]] = field(default_factory=list)  # kept in the outbox
    failed: dict[int, str] = field(default_factory=dict)  # call id -> why its line stopped
    waiting: dict[int, int] = field(default_factory=dict)  # call id -> notes still waiting


def refused_for_good(exc: StoreError) -> bool:
    """The record cannot take this note as typed, however often it is sent again: its call
    is gone or was finalized before the note arrived (the store's own check, or a record
    guard of the database: "This call is finalized: ...")."""
    return isinstance(exc, (NoSuchCallError, NotTakenError)) or str(exc).startswith(
        "This call is finalized"
    )


class SendLine:
    """The notes waiting to be sent, by call, in typing order (see the module text).

    Changed only in the database thread; the counts may be read from any thread.
    """

    def __init__(self, writer: OutboxWriter) -> None:
        self.writer = writer
        self._lines: dict[int, list[OutboxNote]] = {}
        self._lock = threading.Lock()

    # -- any thread ------------------------------------------------------------------------

    def waiting_for(self, call_id: int) -> int:
        with self._lock:
            return len(self._lines.get(call_id, ()))

    def total(self) -> int:
        with self._lock:
            return sum(len(line) for line in self._lines.values())

    # -- the database thread ------------------------------------------------------------------

    def send(self, store: Store, note: OutboxNote) -> Note:
        """A note as typed: sent now, or into the line behind its call's waiting notes."""
        with self._lock:
            line = self._lines.get(note.call_id)
            if line:
                line.append(note)
                raise StoreError(WAITING_BEHIND)
        try:
            stored = self._add(store, note)
        except StoreError as exc:
            if not refused_for_good(exc) or isinstance(exc, DamagedError):
                with self._lock:
                    self._lines.setdefault(note.call_id, []).append(note)
            self.writer.note_error(note.key, str(exc))
            raise
        self.writer.remove(note.key)
        return stored

    def load(self, notes: list[OutboxNote]) -> int:
        """Notes found in the outbox at start (in typing order): they go first. Returns how
        many were not already in the line."""
        added = 0
        with self._lock:
            known = {note.key for line in self._lines.values() for note in line}
            for note in notes:
                if note.key not in known:
                    self._lines.setdefault(note.call_id, []).append(note)
                    known.add(note.key)
                    added += 1
        return added

    def load_outbox(self, _store: Store) -> int:
        """A database job at start: the outbox's notes into the line (OutboxError if it
        cannot be read: then nothing is sent and nothing removed)."""
        try:
            kept = self.writer.kept()
        except OutboxError as exc:  # in the database thread a StoreError is shown as it is
            raise StoreError(str(exc)) from None
        return self.load(kept)

    def send_waiting(self, store: Store) -> SendReport:
        """Send every waiting note, call by call in typing order; a call's line stops at its
        first note that fails (the notes behind it wait on)."""
        report = SendReport()
        with self._lock:
            calls = list(self._lines)
        for call_id in calls:
            while True:
                with self._lock:
                    line = self._lines.get(call_id)
                    if not line:
                        self._lines.pop(call_id, None)
                        break
                    note = line[0]
                try:
                    stored = self._add(store, note)
                except DamagedError:
                    raise
                except StoreError as exc:
                    self.writer.note_error(note.key, str(exc))
                    if refused_for_good(exc):
                        report.refused.append((note, str(exc)))
                        self._pop(call_id, note)
                        continue
                    report.failed[call_id] = str(exc)
                    break
                self._pop(call_id, note)
                self.writer.remove(note.key)
                report.saved.append((note, stored))
        with self._lock:
            report.waiting = {call: len(line) for call, line in self._lines.items() if line}
        return report

    def check_none_waiting(self, call_id: int) -> None:
        """Refuse to finalize a call whose notes are still waiting to be saved."""
        waiting = self.waiting_for(call_id)
        if waiting:
            raise StoreError(
                f"{_note_words(waiting)} of this call {'are' if waiting != 1 else 'is'} not "
                "saved yet (kept in the outbox, retried every few seconds): finalize once "
                "they are saved."
            )

    def _pop(self, call_id: int, note: OutboxNote) -> None:
        with self._lock:
            line = self._lines.get(call_id)
            if line and line[0] is note:
                line.pop(0)
            if not line:
                self._lines.pop(call_id, None)

    @staticmethod
    def _add(store: Store, note: OutboxNote) -> Note:
        try:
            return store.add_note(
                note.call_id,
                note.section,
                note.kind,
                note.body,
                note.started_at,
                reason=note.reason,
                key=note.key,
                entered_at=note.entered_at,
            )
        except StoreError:
            raise
        except Exception as exc:  # the type only: a message could quote the note
            raise StoreError(f"Unexpected {type(exc).__name__} in the database") from None


def saved_words(count: int, call_ids: list[int]) -> str:
    """ "3 notes kept while the database could not be written were saved to call 12"."""
    calls = ", ".join(f"#{call_id}" for call_id in sorted(set(call_ids)))
    where = "call" if len(set(call_ids)) == 1 else "calls"
    return (
        f"{_note_words(count)} kept in the outbox while the database could not be written "
        f"{'were' if count != 1 else 'was'} saved to {where} {calls}."
    )
