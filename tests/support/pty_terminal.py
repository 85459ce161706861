"""A real terminal for the app: a pseudo-terminal, the child its session leader.

Closing the terminal (`hang_up`) is what closing a terminal window does: the kernel sends
SIGHUP (and SIGCONT) to the process that has the terminal as its controlling terminal.
The hang-up happens when the last reference to the master side is released, and a thread
blocked in `read` on it holds one even after `close`: so the reader waits in `select` and
is stopped before the master is closed, or the hang-up would wait for the app's next write.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ESCAPES = re.compile(
    rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)"
)

KEYS = {
    "enter": b"\r",
    "f1": b"\x1bOP",
    "f2": b"\x1bOQ",
    "f8": b"\x1b[19~",
    "f11": b"\x1b[23~",
    "f12": b"\x1b[24~",
    "ctrl+q": b"\x11",
    "ctrl+g": b"\x07",
    "tab": b"\t",
}


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "P2PCALL"))}
    env.update(TERM="xterm-256color", COLUMNS="80", LINES="24", **extra)
    return env


class Terminal:
    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path | None = None,
        controlling: bool = True,
    ) -> None:
        """`controlling=False`: the pty is not the app's controlling terminal, so closing it
        sends no SIGHUP; the app only sees its reads return EOF and its writes fail (EIO)."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.master: int | None = master
        self.output = bytearray()
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()  # tells the reader to stop
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            # The new session's leader takes the pty as its controlling terminal.
            preexec_fn=(lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0)) if controlling else None,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        # Keep reading: a full pty buffer would block the app's writes.
        assert self.master is not None
        fd = self.master
        while True:
            ready, _, _ = select.select([fd, self._wake_read], [], [])
            if self._wake_read in ready:
                return
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output.extend(chunk)

    def text(self, since: int = 0) -> str:
        """What was written, escape sequences removed (cursor moves leave pieces adjacent)."""
        with self._lock:
            raw = bytes(self.output[since:])
        return ESCAPES.sub(b"", raw).decode("utf-8", "replace")

    def mark(self) -> int:
        with self._lock:
            return len(self.output)

    def wait_for(self, needle: str, since: int = 0, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text(since):
            if self.process.poll() is not None:
                raise AssertionError(f"app exited ({self.process.returncode}) before {needle!r}")
            if time.monotonic() > deadline:
                tail = self.text(since)[-1500:]
                raise AssertionError(f"{needle!r} never appeared; last output:\n{tail}")
            time.sleep(0.02)

    def write(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.write(KEYS.get(key, key.encode()))
            time.sleep(0.02)

    def type(self, text: str) -> None:
        for char in text:
            self.write(char.encode())
            time.sleep(0.005)

    def paste(self, text: str) -> None:
        self.write(b"\x1b[200~" + text.encode() + b"\x1b[201~")

    def read_to_end(self, timeout: float = 10.0) -> None:
        """After the app has exited: wait until everything it wrote has been read."""
        self._reader.join(timeout)

    def hang_up(self) -> None:
        """Close the terminal now: the kernel sends SIGHUP to the app."""
        if self.master is not None:
            os.write(self._wake_write, b"x")
            self._reader.join()  # no read in progress holds the master open any more
            os.close(self.master)
            self.master = None

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the app did not exit") from None

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.hang_up()
        for fd in (self._wake_read, self._wake_write):
            if fd >= 0:
                os.close(fd)
        self._wake_read = self._wake_write = -1


def p2pcall_argv(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir)]
