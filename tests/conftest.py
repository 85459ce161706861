"""Shared fixtures: every test gets its own real data directory.

Tests are grouped by what they drive: unit/ (domain and store), tui/ (the app through Pilot
and snapshots), cli/ (the commands as subprocesses), faults/ (crashes, kills, damaged files,
lost terminals). Helpers, child scripts and the PostgreSQL cluster live in support/, which is
put on the import path here (`from pilot_helpers import ...`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))

# The session-scoped `pg_cluster` fixture: a throwaway PostgreSQL server
# (tests/support/pg_cluster.py).
pytest_plugins = ("pg_cluster",)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
