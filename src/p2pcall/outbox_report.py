"""What the app tells the user about the outbox, and who is told that a note got through.

Called on the UI thread with a `SendReport` (see `p2pcall.outbox_sending`). A note sent from
the outbox goes to the session that typed it (its NOT SAVED mark turns saved) or, for one
kept from an earlier run, into the record with a message saying where it went. A note the
record refused for good is never dropped: it stays in the outbox and the user is shown
its text, to add it as an addendum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from p2pcall.outbox_sending import saved_words

if TYPE_CHECKING:
    from p2pcall.outbox import OutboxNote
    from p2pcall.outbox_sending import SendReport
    from p2pcall.session import CallSession


def outbox_sent(
    app: Any, report: SendReport, sessions: Iterable[CallSession], *, at_start: bool
) -> None:
    sessions = list(sessions)
    earlier: list[int] = []  # calls that got notes kept from an earlier run
    for note, stored in report.saved:
        holder = next((s for s in sessions if s.holds(note.key)), None)
        if holder is None:
            earlier.append(note.call_id)
        else:
            holder.sent_from_outbox(note.key, stored)
        # The call open now, if it is the note's (kept from an earlier run, or typed before
        # the call was left and opened again): its record gets the note too.
        shown = next((s for s in sessions if s.open and s.call.id == note.call_id), None)
        if shown is not None and shown is not holder:
            shown.sent_from_outbox(note.key, stored)
    if earlier:
        app.notify(saved_words(len(earlier), earlier), timeout=10)
    _tell_refused(app, report.refused)
    waiting = sum(report.waiting.values())
    if report.failed:
        error = next(iter(report.failed.values()))
        app.status.not_saved(error)
        if at_start:
            app.notify(
                f"{_notes(waiting)} kept in the outbox could not be saved yet: {error} "
                "They stay kept on this computer and are sent, in the order typed, as soon "
                "as the database can be written (tried every few seconds).",
                severity="warning",
                timeout=12,
                markup=False,
            )
    else:
        app.status.saved()
    for session in sessions:
        if session.open:
            session.outbox_count.set(report.waiting.get(session.call.id, 0))


def outbox_unreadable(app: Any, error: str, *, at_start: bool) -> None:
    what = "read" if at_start else "sent"
    _tell_once(
        app,
        f"The outbox could not be {what}: {error} Notes kept there (if any) were not sent, "
        "and nothing was removed.",
    )


def outbox_write_failed(app: Any, reason: str) -> None:
    _tell_once(
        app,
        f"A note could not be kept in the outbox: {reason} Notes are still saved to the "
        "database; one whose save fails stays on screen, NOT SAVED, until it is saved.",
    )


def _tell_refused(app: Any, refused: list[tuple[OutboxNote, str]]) -> None:
    """One message per call: why, and the notes' text, to be added as an addendum."""
    from p2pcall.domain.text import one_line
    from p2pcall.domain.timefmt import clock_time

    by_call: dict[int, list[tuple[OutboxNote, str]]] = defaultdict(list)
    for note, reason in refused:
        by_call[note.call_id].append((note, reason))
    for call_id, notes in by_call.items():
        shown = "; ".join(
            f"{note.section.value} {clock_time(note.entered_at)} "
            f"\u201c{one_line(note.body, 60)}\u201d"
            for note, _reason in notes[:3]
        )
        more = f" and {len(notes) - 3} more" if len(notes) > 3 else ""
        app.notify(
            f"{_notes(len(notes))} kept in the outbox could not be added to call #{call_id}: "
            f"{notes[0][1]} Kept: {shown}{more}.",
            severity="error",
            timeout=30,
            markup=False,
        )


def _tell_once(app: Any, message: str) -> None:
    """An outbox problem is shown once a run, not on every note or retry."""
    told: set[str] = app.__dict__.setdefault("_outbox_told", set())
    if message in told:
        return
    told.add(message)
    app.notify(message, severity="error", timeout=15, markup=False)


def _notes(count: int) -> str:
    return f"{count} note{'s' if count != 1 else ''}"
