"""Leaving without losing text or leaking it: unexpected errors, closed terminals, SIGTERM.

Mixed into the app ahead of `textual.app.App`. Textual's own crash report is a Rich
traceback with local variables (`show_locals=True`), which would print note text and
patient fields to the terminal; here an unhandled exception instead saves what is typed
and prints a short report (`p2pcall.safety.crash_report`) with no values in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Any

# Seconds the UI thread waits for the database thread to commit the last drafts.
FLUSH_TIMEOUT = 5.0
# Seconds a signal waits for the keys already read to take effect before leaving anyway.
SIGNAL_KEYS_SECONDS = 2.0


class SafeExit:
    """Needs the app's `db` (DatabaseThread), `live`, `flush_all()`, `data_dir` and
    `after_typed()` (p2pcall.key_order)."""

    db: Any
    live: Any
    crash_text: str = ""  # printed by run_and_report once the terminal is restored

    def save_before_exit(self) -> str:
        """Queue every pending draft and wait for the database: what the report says."""
        from p2pcall.safety import NO_RECORD_OPEN, RECORD_MAYBE_LATE, RECORD_SAFE

        had_call = self.live is not None
        # The failing widget may be the one holding the draft: save what can be saved.
        with contextlib.suppress(Exception):
            self.flush_all()  # type: ignore[attr-defined]
        committed = self.db.wait_idle(FLUSH_TIMEOUT)
        if not had_call:
            return NO_RECORD_OPEN
        return RECORD_SAFE if committed else RECORD_MAYBE_LATE

    def _handle_exception(self, error: Exception) -> None:
        """Replaces Textual's: same bookkeeping, but our report instead of its traceback."""
        from p2pcall.paths import database_path
        from p2pcall.safety import crash_report

        app: Any = self
        app._return_code = 1
        if app._exception is None:  # run_test re-raises it for the test framework
            app._exception = error
            app._exception_event.set()
        record = self.save_before_exit()
        # Printed by run_and_report, not by Textual's console, which would crop the path.
        self.crash_text = crash_report(error, database_path(app.data_dir), record)
        app._close_messages_no_wait()

    def install_exit_signals(self) -> None:
        """SIGHUP (terminal window closed) and SIGTERM (logout, shutdown): save, then leave."""
        app: Any = self
        if app.is_headless:
            return  # tests under Pilot share the test runner's process and its signals
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._exit_on_signal, sig)

    def _exit_on_signal(self, sig: signal.Signals) -> None:
        app: Any = self
        left = False

        def leave() -> None:
            nonlocal left
            if left:
                return
            left = True
            self.save_before_exit()
            self.db.stop()
            app.exit(return_code=128 + sig.value)  # the shell's convention for "ended by signal"

        # Keys already read (the end of a note typed just before the window was closed) take
        # effect first, as for Ctrl+Q; bounded, so a stuck key never keeps the app from leaving.
        app.after_typed(leave)
        asyncio.get_running_loop().call_later(SIGNAL_KEYS_SECONDS, leave)


def run_and_report(app: Any) -> int:
    """Run the app; after an unexpected error, print the short report on the restored terminal."""
    app.run()
    if app.crash_text:
        sys.stderr.write(app.crash_text + "\n")
        sys.stderr.flush()
    return app.return_code or 0
