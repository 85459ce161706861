"""Textual's Linux driver, made safe for a terminal that goes away (issue 18).

Closing a terminal (window closed, tmux session killed, SSH dropped) hangs up the pty: the
kernel sends SIGHUP *and SIGCONT* to the app, then its reads return EOF and writes fail
with EIO. Textual 8.2's driver treats every SIGCONT as "back from Ctrl+Z" and starts
application mode again on the dead terminal: a second output thread, whose first write
fails with EIO, which kills it. Nothing drains its bounded queue (30 writes) any more, so
the shutdown's writes fill it and the main thread waits in `Queue.put` forever.

Here, (1) only a SIGCONT that follows our own suspend resumes, and only on a terminal that
is still there; (2) output goes through a file that drops what it cannot write, so the
output thread never dies; (3) losing the terminal (a failed write or read, a hang-up seen
by `poll`) is reported once: the app saves and exits, and its exit watchdog is armed.

Textual internals used, through p2pcall.textual_compat (checked by
tests/unit/test_textual_compat.py):
- `LinuxDriver._file`: the file `start_application_mode` hands to its output thread;
- `LinuxDriver._sigtstp_application` / `_sigcont_application`: the handlers its
  `__init__` installs for SIGTSTP / SIGCONT, which we install in their place;
- `LinuxDriver._app`: the app it was made for.
And `LinuxDriver.run_input_thread`, where its input thread reads (and fails on EIO).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import select
import signal
import termios
import threading
from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from p2pcall.textual_compat import (
    TerminalOutput,
    driver_app,
    driver_output,
    replace_driver_output,
    resume_as_textual_does,
    suspend_as_textual_does,
)

HANGUP_EXIT = 128 + signal.SIGHUP  # the shell's code for "ended by SIGHUP"
# What Textual's stop_application_mode writes: mouse, paste, focus, Kitty keys and the
# alternate screen off, line wrap and the cursor back on.
RESET_TERMINAL = (
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l\x1b[?7h"
    "\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l"
)


def terminal_present(fd: int) -> bool:
    """False once the terminal has hung up: its attributes can no longer be read."""
    try:
        termios.tcgetattr(fd)
    except termios.error:
        return False
    return True


class DroppingOutput:
    """The output thread's file: after the first failed write, output is dropped."""

    def __init__(self, file: TerminalOutput, on_failure: Any) -> None:
        self._file = file
        self._on_failure = on_failure
        self.failed = False

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                return self._file.write(text)
            except (OSError, ValueError):  # EIO from a hung-up terminal; a closed file
                self._fail()
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._fail()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()

    def _fail(self) -> None:
        self.failed = True
        self._on_failure()


class GuardedLinuxDriver(LinuxDriver):
    """LinuxDriver that lets go of a terminal that is gone instead of hanging on it.

    The app is told through optional methods: `arm_exit_watchdog(code)` (any thread, or
    a signal handler) and `on_terminal_gone()` (on the event loop); without them the app
    just exits. `set_terminal_restore(fn)` is handed `restore_terminal_now`.
    """

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._gone = False
        self._suspended = False
        self._app_loop: asyncio.AbstractEventLoop | None = None
        self._watching = False
        # The base class hands its output file to its output thread in start_application_mode.
        replace_driver_output(self, lambda file: DroppingOutput(file, self.terminal_gone))
        # In place of the base class's handlers, which it has just installed.
        signal.signal(signal.SIGTSTP, self._on_sigtstp)
        signal.signal(signal.SIGCONT, self._on_sigcont)
        register = getattr(app, "set_terminal_restore", None)
        if register is not None:
            register(self.restore_terminal_now)

    def restore_terminal_now(self) -> None:
        """For an exit that cannot wait for Textual's: the terminal as it was before.

        May block on a terminal that takes no output: call it from a thread you can abandon.
        """
        if self._gone:
            return
        if self.attrs_before is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fileno, termios.TCSANOW, self.attrs_before)
        os.write(driver_output(self).fileno(), RESET_TERMINAL.encode())

    # -- suspend and resume ------------------------------------------------------------

    def _on_sigtstp(self, signum: int, frame: object) -> None:
        self._suspended = True
        suspend_as_textual_does(self, signum, frame)  # stops the process until SIGCONT

    def _on_sigcont(self, signum: int, frame: object) -> None:
        # The kernel sends SIGCONT with the SIGHUP of a hang-up: that one is no resume.
        if not self._suspended:
            return
        self._suspended = False
        if not terminal_present(self.fileno):
            self.terminal_gone()
            return
        resume_as_textual_does(self, signum, frame)

    # -- noticing that the terminal is gone ----------------------------------------------

    def start_application_mode(self) -> None:
        self._app_loop = asyncio.get_running_loop()
        super().start_application_mode()
        if not self._watching and terminal_present(self.fileno):
            self._watching = True
            output = driver_output(self).fileno()
            watched = {self.fileno, output} if terminal_present(output) else {self.fileno}
            threading.Thread(
                target=self._watch_for_hangup,
                args=(sorted(watched),),
                name="p2pcall-hangup",
                daemon=True,
            ).start()

    def _watch_for_hangup(self, fds: list[int]) -> None:
        """Blocks in poll until a terminal reports a hang-up. No SIGHUP comes when the
        terminal is not our controlling terminal (started with `setsid`, say)."""
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLHUP)  # reported whatever is asked for
        while True:
            try:
                events = poller.poll()
            except InterruptedError:
                continue
            if any(
                mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events
            ):
                self.terminal_gone()
                return

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        except OSError as error:
            # Textual would show a crash screen (on the dead terminal) and skip the drafts.
            if error.errno not in (errno.EIO, errno.EBADF, errno.ENXIO):
                raise
            self.terminal_gone()

    def terminal_gone(self) -> None:
        """From any thread or a signal handler, any number of times: act on the first."""
        if self._gone:
            return
        self._gone = True
        if self._app_loop is not None and not self._app_loop.is_closed():
            # RuntimeError: the loop closed in between, so the app has finished anyway.
            with contextlib.suppress(RuntimeError):
                self._app_loop.call_soon_threadsafe(self._tell_app)
        arm = getattr(driver_app(self), "arm_exit_watchdog", None)
        if arm is not None:
            arm(HANGUP_EXIT)

    def _tell_app(self) -> None:
        app = driver_app(self)
        handler = getattr(app, "on_terminal_gone", None)
        if handler is not None:
            handler()
        else:
            app.exit(return_code=HANGUP_EXIT)
