"""Shared fixtures: every test gets its own real data directory.

Tests are grouped by what they drive: unit/ (domain and store), tui/ (the app through Pilot
and snapshots), cli/ (the commands as subprocesses), faults/ (crashes, kills, damaged files,
lost terminals). Helpers, child scripts and the PostgreSQL cluster live in support/, which is
put on the import path here (`from pilot_helpers import ...`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))

# The session-scoped `pg_cluster` fixture: a throwaway PostgreSQL server
# (tests/support/pg_cluster.py).
pytest_plugins = ("pg_cluster",)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(autouse=True)
def _no_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own P2PCALL_DATABASE_URL never reaches a test: each says which database."""
    monkeypatch.delenv("P2PCALL_DATABASE_URL", raising=False)


@dataclass(frozen=True)
class Database:
    """Which database a test runs on: `url` None is the local SQLite file (the default)."""

    kind: str  # "sqlite" or "postgres"
    url: str | None

    @property
    def server(self) -> bool:
        return self.url is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that asks for `database` runs on both databases (marks: sqlite_only,
    server_only)."""
    if "database" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("sqlite_only") is not None:
            return  # not parametrized: the test keeps its name (and its snapshot's)
        kinds = ["sqlite", "postgres"]
        if metafunc.definition.get_closest_marker("server_only") is not None:
            kinds = ["postgres"]
        metafunc.parametrize("database", kinds, indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The database of this run of the test, also in P2PCALL_DATABASE_URL, so the app, the
    commands (subprocesses inherit it) and `open_store` all use it: on PostgreSQL a fresh
    database set up by `db init`, connected to as the clinician dr_lee."""
    if getattr(request, "param", "sqlite") == "sqlite":  # sqlite_only: not parametrized
        return Database("sqlite", None)
    from pg_cluster import p2pcall_database

    url = p2pcall_database(request.getfixturevalue("pg_cluster"))
    monkeypatch.setenv("P2PCALL_DATABASE_URL", url)
    return Database("postgres", url)
