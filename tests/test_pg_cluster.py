"""The throwaway cluster itself: reachable on its socket, and its skip/fail rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pg_cluster


def test_cluster_answers_on_its_socket(pg_cluster: pg_cluster.PgCluster) -> None:
    import psycopg

    with psycopg.connect(pg_cluster.dsn()) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int, inet_server_addr()")
        version, address = row.fetchone() or (0, "?")
    assert version >= 150000
    assert address is None  # a Unix socket, no TCP


MISSING = """
import pytest
def test_needs_server(pg_cluster):
    pass
"""


@pytest.mark.parametrize(("require", "outcome"), [("", "1 skipped"), ("1", "1 error")])
def test_missing_binaries_skip_or_fail(tmp_path: Path, require: str, outcome: str) -> None:
    """Without a server: skipped with the reason in the summary; with the CI switch, an error."""
    (tmp_path / "test_x.py").write_text(MISSING)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ("pg_cluster",)\n')
    env = dict(os.environ)
    env[pg_cluster.BINDIR_ENV] = str(tmp_path / "no-such-bin")
    env[pg_cluster.REQUIRE_ENV] = require
    env["PYTHONPATH"] = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert outcome in done.stdout, done.stdout
    assert "no PostgreSQL server binaries" in done.stdout, done.stdout
    assert "no-such-bin" in done.stdout
