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

# The app's own save waits up to 5 s (safe_exit.FLUSH_TIMEOUT) for the last drafts; the
# watchdog gives the normal path that long to close the database ...
CLOSE_WAIT = 5.0
# ... asks the database thread itself to finish its queue if the app never did (its event
# loop is stuck), and waits a little more for that ...
STOP_WAIT = 2.0
# ... and, with the database closed, lets the normal exit finish for this long.
GRACE = 1.5


class ExitWatchdog:
    def __init__(
        self,
        wait_closed: Callable[[float], bool],
        stop_database: Callable[[], None],
        grace: float = GRACE,
    ) -> None:
        self._wait_closed = wait_closed
        self._stop_database = stop_database
        self._grace = grace
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
        if not self._wait_closed(CLOSE_WAIT):
            self._stop_database()  # queued drafts still commit, in order
            self._wait_closed(STOP_WAIT)
        # A clean exit ends this daemon thread with the process, well before this wait ends.
        threading.Event().wait(self._grace)
        os._exit(code)
