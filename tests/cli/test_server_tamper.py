"""A practice server's record changed behind p2pcall's back: `verify` says so.

Only a superuser can get past the server's guards (disable a trigger, rewrite a note). An
export made before stays checkable against the server: the chain and the bytes no longer
match, and a guard left disabled is named.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

import pg_cluster as pgc
from conftest import Database
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store.opening import open_store

BODY = "Reviewer cited LOCUS level 3"


pytestmark = pytest.mark.server_only


@pytest.fixture
def server(database: Database) -> Database:
    return database


def finalized_export(data_dir: Path, target: Path) -> int:
    store = open_store(data_dir)
    try:
        call = store.start_call("America/New_York")
        store.add_note(call.id, Section.D, NoteKind.QUOTE, BODY, now_utc())
        store.end_call(call.id, Outcome.DENIED)
        store.finalize_call(call.id)
    finally:
        store.close()
    done = subprocess.run(
        [sys.executable, "-m", "p2pcall", "export", str(call.id), "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return call.id


def as_superuser(cluster: pgc.PgCluster, server: Database, *statements: str) -> None:
    assert server.url is not None
    name = conninfo.conninfo_to_dict(server.url)["dbname"]
    with psycopg.connect(cluster.dsn(dbname=str(name)), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def verify(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "verify", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_export_verifies_against_the_server(
    server: Database, data_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "call.txt"
    finalized_export(data_dir, target)
    done = verify(target)
    assert done.returncode == 0, done.stdout
    assert "guards: the database's tables, indexes and guards are p2pcall's own" in done.stdout
    assert done.stdout.rstrip().endswith(f"VERIFIED: {target}")


def test_a_note_rewritten_by_a_superuser_fails_chain_and_bytes(
    server: Database, pg_cluster: pgc.PgCluster, data_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "call.txt"
    finalized_export(data_dir, target)
    as_superuser(
        pg_cluster,
        server,
        "ALTER TABLE p2pcall.note DISABLE TRIGGER record_note",
        f"UPDATE p2pcall.note SET body = '{BODY} (changed)'",
        "ALTER TABLE p2pcall.note ENABLE TRIGGER record_note",
    )
    done = verify(target)
    assert done.returncode == 1, done.stdout
    assert "FAIL chain" in done.stdout and "FAIL database" in done.stdout, done.stdout
    assert "NOT VERIFIED" in done.stdout


def test_a_guard_left_disabled_is_named(
    server: Database, pg_cluster: pgc.PgCluster, data_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "call.txt"
    finalized_export(data_dir, target)
    as_superuser(pg_cluster, server, "ALTER TABLE p2pcall.note DISABLE TRIGGER record_note")
    done = verify(target)
    assert done.returncode == 1, done.stdout
    assert "trigger record_note on note is disabled" in done.stdout, done.stdout


def test_a_server_that_cannot_be_reached_is_never_verified(
    server: Database, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "call.txt"
    finalized_export(data_dir, target)
    monkeypatch.setenv("P2PCALL_DATABASE_URL", "postgresql://dr_lee@/nowhere?host=/nonexistent")
    done = verify(target)
    assert done.returncode == 1, done.stdout
    assert "not compared" in done.stdout and "NOT VERIFIED" in done.stdout, done.stdout


def check() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "check"], capture_output=True, text=True, timeout=60
    )


def test_check_reads_the_guards_and_every_chain_and_names_a_rewritten_call(
    server: Database, pg_cluster: pgc.PgCluster, data_dir: Path, tmp_path: Path
) -> None:
    call_id = finalized_export(data_dir, tmp_path / "call.txt")
    clean = check()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 finalized call(s) you can read match their chain heads" in clean.stdout
    as_superuser(
        pg_cluster,
        server,
        "ALTER TABLE p2pcall.note DISABLE TRIGGER record_note",
        f"UPDATE p2pcall.note SET body = '{BODY} (changed)'",
    )
    found = check()
    assert found.returncode == 1, found.stdout
    assert f"call {call_id}: the record no longer matches its chain head" in found.stdout
    assert "trigger record_note on note is disabled" in found.stdout


def test_check_of_a_server_that_cannot_be_reached_is_not_checked(
    server: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("P2PCALL_DATABASE_URL", "postgresql://dr_lee@/nowhere?host=/nonexistent")
    done = check()
    assert done.returncode == 1
    assert "NOT CHECKED" in done.stderr and done.stdout == ""
