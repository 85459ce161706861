"""The bounded wait at the end: once p2pcall is leaving, the process is gone within seconds.

Leaving normally saves the drafts, closes the database and restores the terminal. If a
step of that hangs (Textual's shutdown waiting on a write to a terminal that is gone,
a thread that never ends), the watchdog ends the process with `os._exit` once the
database is closed, or once it has had a bounded time to close. Committed SQLite data is
safe whatever happens to the process; what `os._exit` skips is only the tidying up.

Armed with a byte written to a pipe: `os.write` takes no lock, so `arm` is safe from a
signal handler that interrupted any code, and from any thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

# First: does the event loop still run callbacks? If not (stuck, say, on a write that never
# ends), the app cannot save: the database thread is asked to finish its queue itself.
ANSWER_WAIT = 1.0
# If it does, the app saves and closes the database; its own save waits up to 5 s
# (safe_exit.FLUSH_TIMEOUT) for the last drafts, so it gets that long to close it ...
CLOSE_WAIT = 5.0
# ... or, when the watchdog stopped the database itself, this long to finish the queue.
STOP_WAIT = 2.0
# With the database closed, the normal exit has this long to finish.
GRACE = 2.0
# Then `last_words` (put the terminal back as it was) gets this long, in its own thread:
# on a terminal that takes no more output, its write would never return.
LAST_WORDS_WAIT = 0.3


class ExitWatchdog:
    """`loop_answers(timeout)`: the event loop ran a callback in time. `wait_closed(timeout)`:
    the database thread has ended. `stop_database()`: it finishes its queue, then ends.
    `last_words()`: run just before the process is ended, for at most LAST_WORDS_WAIT."""

    def __init__(
        self,
        loop_answers: Callable[[float], bool],
        wait_closed: Callable[[float], bool],
        stop_database: Callable[[], None],
        waits: tuple[float, float, float, float] = (ANSWER_WAIT, CLOSE_WAIT, STOP_WAIT, GRACE),
        last_words: Callable[[], None] = lambda: None,
    ) -> None:
        self._loop_answers = loop_answers
        self._wait_closed = wait_closed
        self._stop_database = stop_database
        self._last_words = last_words
        self._waits = waits
        self._arm_read, self._arm_write = os.pipe()
        os.set_blocking(self._arm_write, False)  # arming never waits
        self._thread = threading.Thread(target=self._run, name="p2pcall-exit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def arm(self, code: int) -> None:
        """From now on the process ends within a bounded time, with `code` if it has to."""
        with contextlib.suppress(OSError):  # the pipe is full: armed many times already
            os.write(self._arm_write, bytes([code & 0xFF]))

    def _run(self) -> None:
        code = os.read(self._arm_read, 1)[0]
        answer_wait, close_wait, stop_wait, grace = self._waits
        if not (self._loop_answers(answer_wait) and self._wait_closed(close_wait)):
            self._stop_database()  # drafts already queued still commit, in order
            self._wait_closed(stop_wait)
        # A clean exit ends this daemon thread with the process, well before this wait ends.
        threading.Event().wait(grace)
        speaker = threading.Thread(target=self._say_last_words, daemon=True)
        speaker.start()
        speaker.join(LAST_WORDS_WAIT)
        os._exit(code)

    def _say_last_words(self) -> None:
        with contextlib.suppress(Exception):  # nothing may stop the exit
            self._last_words()
