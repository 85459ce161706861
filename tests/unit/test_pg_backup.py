"""docs/team.md's backup advice, tried: pg_dump and pg_restore keep the record and its guards."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

import pg_cluster as pgc
from p2pcall.store.postgres import schema

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_a_dump_restores_finalized_calls_authors_and_guards(
    pg_cluster: pgc.PgCluster, tmp_path: Path
) -> None:
    pgc.add_people(pg_cluster)
    name = pgc.fresh_database(pg_cluster, "dumped")
    with psycopg.connect(pg_cluster.dsn(dbname=name)) as su:
        schema.init(su)
    with psycopg.connect(pg_cluster.dsn(user="dr_lee", dbname=name), autocommit=True) as lee:
        lee.execute("SET search_path = p2pcall")
        row = lee.execute(
            "INSERT INTO call (created_at, tz, ended_at) VALUES (%s, 'UTC', %s) RETURNING id",
            (T0, T0 + timedelta(minutes=20)),
        ).fetchone()
        assert row is not None
        call = row[0]
        lee.execute(
            "INSERT INTO note (call_id, section, kind, body, started_at, saved_at) "
            "VALUES (%s, 'B', 'note', 'Señor Ames agreed', %s, %s)",
            (call, T0, T0 + timedelta(minutes=1)),
        )
        lee.execute(
            "UPDATE call SET finalized_at = %s, chain_head = %s WHERE id = %s",
            (T0 + timedelta(minutes=30), "0f" * 32, call),
        )
    dump = tmp_path / "p2pcall.dump"
    base = ["-h", str(pg_cluster.socket_dir), "-U", pgc.SUPERUSER]
    subprocess.run(
        [str(pg_cluster.bindir / "pg_dump"), *base, "--format=custom", f"--file={dump}", name],
        check=True,
        capture_output=True,
        timeout=120,
    )
    restored = pgc.fresh_database(pg_cluster, "restored")
    done = subprocess.run(
        [str(pg_cluster.bindir / "pg_restore"), *base, "--exit-on-error", "-d", restored, dump],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_cluster.dsn(dbname=restored), autocommit=True) as su:
        su.execute("SET search_path = p2pcall")
        assert su.execute("SELECT author, body FROM note").fetchall() == [
            ("dr_lee", "Señor Ames agreed")
        ]
        assert su.execute("SELECT chain_head FROM call").fetchone() == ("0f" * 32,)
        assert schema.version_of(su) == schema.CURRENT_VERSION
        hits = su.execute(
            "SELECT count(*) FROM note WHERE search @@ to_tsquery('p2pcall.record_text', 'senor')"
        ).fetchone()
        assert hits == (1,)
        try:
            su.execute("UPDATE note SET body = 'changed'")
        except psycopg.Error as exc:
            assert "a saved note is never changed" in str(exc)
        else:
            raise AssertionError("the restored note could be changed")
    with psycopg.connect(pg_cluster.dsn(user="dr_park", dbname=restored), autocommit=True) as park:
        assert park.execute("SELECT count(*) FROM p2pcall.call").fetchone() == (0,)
