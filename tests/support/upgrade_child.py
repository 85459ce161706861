"""Run by test_upgrade_backups in its own process: open (and so upgrade) a database.

    upgrade_child.py DATA_DIR SIGNAL_DIR MODE

Writes SIGNAL_DIR/ready-PID once imported, waits for SIGNAL_DIR/go, then opens the store.
MODE `slow` holds each backup copy open for a moment (a wider window for two upgrades to
meet); `stuck` writes SIGNAL_DIR/in-backup when the backup copy is opened and then waits
to be killed. Prints `opened` or the store's one-line error; exit code 0 / 1.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

from p2pcall.store import StoreError
from p2pcall.store.opening import open_store

data_dir, signals, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
real_connect = sqlite3.connect


def connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
    connection = real_connect(database, *args, **kwargs)
    if "before-v" in str(database):  # the backup copy being made
        if mode == "stuck":
            (signals / "in-backup").write_text(str(os.getpid()))
            while True:
                time.sleep(1)
        if mode == "slow":
            time.sleep(0.3)  # a window, not a measurement: both must still succeed
    return connection


sqlite3.connect = connect
(signals / f"ready-{os.getpid()}").write_text("")
while not (signals / "go").exists():
    time.sleep(0.001)
try:
    open_store(data_dir).close()
except StoreError as exc:
    print(exc)
    sys.exit(1)
print("opened")
