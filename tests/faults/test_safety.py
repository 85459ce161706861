"""Outside the TUI too: an unexpected error prints its type and place, never its text."""

from __future__ import annotations

import subprocess
import sys

RAISES = """
import threading
from p2pcall.safety import install_excepthooks
install_excepthooks("/records/p2pcall.sqlite3")
patient = "PHI-MARKER-5521"
def worker():
    raise KeyError(patient)
thread = threading.Thread(target=worker)
thread.start()
thread.join()
raise ValueError(f"note text {patient}")
"""


def test_uncaught_errors_in_threads_and_main_print_no_values() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RAISES], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "PHI-MARKER-5521" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    report = " ".join(proc.stderr.split())  # wrapped at 78 columns
    assert "unexpected error (KeyError at <string>:7 in worker)" in report
    assert "unexpected error (ValueError at <string>:11 in <module>)" in report
    assert "\nYour records: /records/p2pcall.sqlite3\n" in proc.stderr  # never wrapped
