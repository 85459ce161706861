"""Shared fixtures: every test gets its own real data directory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

# The session-scoped `pg_cluster` fixture: a throwaway PostgreSQL server (tests/pg_cluster.py).
pytest_plugins = ("pg_cluster",)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` holds: the database thread answers by message.

    A widget the predicate asks for that is still being mounted counts as "not yet".
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not _holds(predicate):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)


def _holds(predicate: Callable[[], object]) -> bool:
    from textual.css.query import NoMatches

    try:
        return bool(predicate())
    except NoMatches:
        return False
