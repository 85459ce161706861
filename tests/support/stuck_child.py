"""The real app in a real terminal, plus F11 that blocks its event loop for good.

Stands in for a shutdown stuck on something that never returns (Textual waiting on a
write to a terminal that is gone): only p2pcall's exit watchdog can end this process.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from textual.binding import Binding

import p2pcall.app
from p2pcall.app import P2PCallApp
from p2pcall.paths import database_path
from p2pcall.safe_exit import run_and_report
from p2pcall.safety import disable_core_dumps, install_excepthooks


class StuckApp(P2PCallApp):
    CSS_PATH = str(Path(p2pcall.app.__file__).with_name("styles") / "app.tcss")
    BINDINGS = [
        *P2PCallApp.BINDINGS,
        Binding("f11", "block", "Block", id="block", priority=True, show=False),
    ]

    def action_block(self) -> None:
        threading.Event().wait()  # never set: the loop runs nothing from here on


def main(data_dir: Path) -> int:
    disable_core_dumps()
    install_excepthooks(database_path(data_dir))
    return run_and_report(StuckApp(data_dir))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
