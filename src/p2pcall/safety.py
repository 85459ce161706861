"""Process-wide protection for a program that holds PHI.

No core dumps (a core file holds every note in memory), and crash output that names the
error's type and place but never its message or local variables: either can quote a note
or a patient field. Imports nothing heavy, so the CLI can call it before anything else.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import traceback
from pathlib import Path
from types import TracebackType

_PR_SET_DUMPABLE = 4


def disable_core_dumps() -> None:
    """Core size limit 0, and on Linux the process marked not dumpable.

    RLIMIT_CORE alone is enough for a plain core file; PR_SET_DUMPABLE also covers a
    core_pattern that pipes to a collector and stops same-user ptrace reading memory.
    Failures are ignored: a platform without these has no core files of this kind.
    """
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def where_it_failed(error: BaseException) -> str:
    """`file.py:line in function` of the innermost frame: code locations only, no values."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "no traceback"
    frame = frames[-1]  # where it was raised: the most useful place, and never a value
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


def crash_report(error: BaseException, database: Path | str, record: str) -> str:
    """What the user reads after an unexpected error: the record's safety and where it is.

    `record` says what happened to the open call (saved, drafts kept, nothing open).
    Wrapped here, not by the terminal, so the path stays whole on its own line.
    """
    paragraphs = [
        f"p2pcall stopped because of an unexpected error "
        f"({type(error).__name__} at {where_it_failed(error)}).",
        record,
        "Start p2pcall again to carry on. No note text or patient detail is shown here; "
        "to report the problem, the first paragraph is all that is needed.",
    ]
    wrapped = [textwrap.fill(paragraph, 78) for paragraph in paragraphs]
    return "\n\n".join([*wrapped[:2], f"Your records: {database}", wrapped[2]])


RECORD_SAFE = (
    "Your record is safe: every note marked \u2713 was already committed to the database, "
    "and text you had not saved yet was kept as a draft. Press r on the home screen to "
    "resume the call."
)
RECORD_MAYBE_LATE = (
    "Every note marked \u2713 was already committed to the database. The database did not "
    "confirm the last draft in time, so text typed in the last second or two may be missing."
)
NO_RECORD_OPEN = "No call was open; every note you saved earlier is in the database."


def install_excepthooks(database: Path | str) -> None:
    """Outside the TUI (start-up, commands, threads): the short report instead of a traceback."""

    def report(error: BaseException) -> None:
        sys.stderr.write(crash_report(error, database, NO_RECORD_OPEN) + "\n")

    def excepthook(
        kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if isinstance(error, KeyboardInterrupt):
            sys.stderr.write("Interrupted.\n")
            return
        report(error.with_traceback(tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            report(args.exc_value)

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
