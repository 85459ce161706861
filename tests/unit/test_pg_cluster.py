"""The throwaway cluster itself: reachable on its socket, and its skip/fail rule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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
    env["PYTHONPATH"] = str(Path(__file__).parents[1] / "support")
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


REPORTS = """
import os, signal
def test_server(pg_cluster):
    pid = (pg_cluster.data / "postmaster.pid").read_text().splitlines()[0]
    with open(os.environ["REPORT_TO"], "w") as out:
        out.write(f"{pg_cluster.root}\\n{pid}\\n")
    if os.environ["HOW"] == "fail":
        assert False, "a failing test"
    os.kill(os.getpid(), signal.SIGKILL)
"""


def wait_for(predicate: Callable[[], bool], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("how", ["fail", "kill"])
def test_the_server_stops_when_tests_fail_or_the_run_is_killed(
    pg_cluster: pg_cluster.PgCluster, tmp_path: Path, how: str
) -> None:
    """A failing test: the fixture stops the server. kill -9 of the whole run: the watchdog."""
    (tmp_path / "test_x.py").write_text(REPORTS)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ("pg_cluster",)\n')
    report = tmp_path / "report"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "support"), HOW=how)
    env["REPORT_TO"] = str(report)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert done.returncode == (1 if how == "fail" else -signal.SIGKILL), done.stdout
    root, pid = report.read_text().split()
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists()), f"postgres {pid} still runs"
    assert wait_for(lambda: not Path(root).exists()), f"{root} was left behind"
