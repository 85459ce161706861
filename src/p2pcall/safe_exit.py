"""Leaving without losing text or leaking it: unexpected errors, closed terminals, SIGTERM.

Mixed into the app ahead of `textual.app.App`. Textual's own crash report is a Rich
traceback with local variables (`show_locals=True`), which would print note text and
patient fields to the terminal; here an unhandled exception instead saves what is typed
and prints a short report (`p2pcall.safety.crash_report`) with no values in it.

A closed terminal (SIGHUP, or reads and writes failing: `p2pcall.terminal_guard`) and
SIGTERM save the drafts, then exit; the exit watchdog (`p2pcall.exit_watchdog`) makes
sure the process is gone within seconds even if Textual's shutdown hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    _AppMixin = App[Any]  # what the mixin below is mixed into, for the type checker
else:
    _AppMixin = object

# Seconds the UI thread waits for the database thread to commit the last drafts.
FLUSH_TIMEOUT = 5.0
# Seconds a signal waits for the keys already read to take effect before leaving anyway.
SIGNAL_KEYS_SECONDS = 2.0


class SafeExit(_AppMixin):
    """Needs the app's `db` (DatabaseThread), `live`, `flush_all()`, `data_dir` and
    `after_typed()` (p2pcall.key_order)."""

    db: Any
    live: Any
    flush_all: Callable[[], object]  # the app's: every draft and field queued for saving
    crash_text: str = ""  # printed by run_and_report once the terminal is restored
    _exit_watchdog: Any = None
    _leaving = False
    _restore_terminal: Any = None  # set by the guarded driver

    def set_terminal_restore(self, restore: Any) -> None:
        self._restore_terminal = restore

    def _last_words(self) -> None:
        if self._restore_terminal is not None:
            self._restore_terminal()

    def get_driver_class(self) -> Any:
        """Textual's Linux driver, guarded against a terminal that is gone (issue 18)."""
        from textual import constants

        driver_class = super().get_driver_class()
        if sys.platform == "win32" or constants.DRIVER is not None:
            return driver_class
        from p2pcall.terminal_guard import GuardedLinuxDriver

        return GuardedLinuxDriver

    def save_before_exit(self) -> str:
        """Queue every pending draft and wait for the database: what the report says."""
        from p2pcall.safety import NO_RECORD_OPEN, RECORD_MAYBE_LATE, RECORD_SAFE

        had_call = self.live is not None
        # The failing widget may be the one holding the draft: save what can be saved.
        with contextlib.suppress(Exception):
            self.flush_all()
        committed = self.db.wait_idle(FLUSH_TIMEOUT)
        if not had_call:
            return NO_RECORD_OPEN
        return RECORD_SAFE if committed else RECORD_MAYBE_LATE

    def _fatal_error(self) -> None:
        """Replaces Textual's traceback after an unhandled error (its bookkeeping, the return
        code and the error kept for `run_test`, is done before): drafts saved, our report."""
        from p2pcall.paths import database_path
        from p2pcall.safety import crash_report
        from p2pcall.textual_compat import close_app_now, error_being_reported

        app: Any = self
        error = error_being_reported(app)
        record = self.save_before_exit()
        if error is not None:
            # Printed by run_and_report, not by Textual's console, which would crop the path.
            self.crash_text = crash_report(error, database_path(app.data_dir), record)
        close_app_now(app)

    def install_exit_signals(self) -> None:
        """SIGHUP (terminal window closed) and SIGTERM (logout, shutdown): save, then leave."""
        app: Any = self
        if app.is_headless:
            return  # tests under Pilot share the test runner's process and its signals
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._leave_once, sig)
            # asyncio runs the handler above from the event loop; this one runs at once,
            # in the main thread, even while the loop is stuck (a write that never ends).
            signal.signal(sig, self._arm_on_signal)
        self.arm_exit_watchdog(None)  # started now, armed by the first way out

    def _arm_on_signal(self, signum: int, frame: object) -> None:
        self.arm_exit_watchdog(128 + signum)

    def arm_exit_watchdog(self, code: int | None) -> None:
        """Any thread or a signal handler: the process ends within seconds, with `code`."""
        from p2pcall.exit_watchdog import ExitWatchdog

        if self._exit_watchdog is None:
            try:
                loop = asyncio.get_running_loop()  # first called on the loop, from on_mount
            except RuntimeError:  # not mounted yet, or over: _leave_once arms it on the loop
                return

            def loop_answers(timeout: float) -> bool:
                answered = threading.Event()
                try:
                    loop.call_soon_threadsafe(answered.set)
                except RuntimeError:  # the loop has closed
                    return False
                return answered.wait(timeout)

            self._exit_watchdog = ExitWatchdog(
                loop_answers, self.db.wait_closed, self.db.stop, last_words=self._last_words
            )
            self._exit_watchdog.start()
        if code is not None:
            self._exit_watchdog.arm(code)

    def on_terminal_gone(self) -> None:
        """The terminal went away without a SIGHUP reaching us (or before it did)."""
        self._leave_once(signal.SIGHUP)

    def _leave_once(self, sig: signal.Signals) -> None:
        # A hang-up arrives as SIGHUP and as failed reads and writes: save and exit once.
        if self._leaving:
            return
        self._leaving = True
        self.arm_exit_watchdog(128 + sig)
        self._exit_on_signal(sig)

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
    code = app.return_code or 0
    app.arm_exit_watchdog(code)  # whatever is left (threads, interpreter exit) is bounded
    if app.crash_text:
        with contextlib.suppress(OSError):  # the terminal may be gone
            sys.stderr.write(app.crash_text + "\n")
            sys.stderr.flush()
    return code
