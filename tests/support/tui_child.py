"""The real app in a real terminal, plus F12 that raises: an unexpected error mid-call.

The failing action holds note text and patient fields in local variables and in the
exception's message, exactly what Textual's default crash report would print.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.binding import Binding

import p2pcall.app
from p2pcall.app import P2PCallApp
from p2pcall.paths import database_path
from p2pcall.safe_exit import run_and_report
from p2pcall.safety import disable_core_dumps, install_excepthooks


class FailingApp(P2PCallApp):
    CSS_PATH = str(Path(p2pcall.app.__file__).with_name("styles") / "app.tcss")
    BINDINGS = [
        *P2PCallApp.BINDINGS,
        Binding("f12", "fail", "Fail", id="fail", priority=True, show=False),
    ]

    def action_fail(self) -> None:
        patient_fields = dict(self.live.call.values)
        note_texts = [note.body for note in self.live.notes]
        raise ValueError(f"cannot handle {note_texts} for {patient_fields}")


def main(data_dir: Path) -> int:
    disable_core_dumps()
    install_excepthooks(database_path(data_dir))
    return run_and_report(FailingApp(data_dir))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
