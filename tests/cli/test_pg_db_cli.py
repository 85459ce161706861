"""`p2pcall db init` and `p2pcall db upgrade` as a subprocess, against the real server.

Also the upgrade machinery itself (in process): a later version applied on top of the first
server schema, and a failing step that leaves everything as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import pg_cluster as pgc
from p2pcall.store.postgres import connection, schema

CURRENT = schema.CURRENT_VERSION  # the server schema this p2pcall sets up
SECRET = pgc.PASSWORD  # the password of pgc.PASSWORD_ROLE

# Everything a schema is made of, with owners and privileges: equal before and after a
# second `db init` or a no-op upgrade means nothing changed.
FINGERPRINT = """
SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (
    SELECT format('%s %s %s %s', c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relacl)
    FROM pg_class c WHERE c.relnamespace = 'p2pcall'::regnamespace
    UNION ALL SELECT format('%s %s %s', t.tgname, t.tgrelid::regclass, t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'p2pcall'::regnamespace
    UNION ALL SELECT format('%s %s %s', p.polname, p.polrelid::regclass,
        pg_get_expr(p.polqual, p.polrelid)) FROM pg_policy p
    UNION ALL SELECT format('%s %s', p.proname, p.proacl) FROM pg_proc p
    WHERE p.pronamespace = 'p2pcall'::regnamespace
    UNION ALL SELECT format('%s %s %s', version, applied_at, applied_by) FROM p2pcall.schema_version
) AS parts(x)
"""


@pytest.fixture(scope="module")
def cluster(pg_cluster: pgc.PgCluster) -> Iterator[pgc.PgCluster]:
    pgc.password_role(pg_cluster)
    yield pg_cluster


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with its own HOME (no ~/.pgpass of the machine) and data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.pop(connection.URL_ENV, None)
    env["HOME"] = str(tmp_path / "home")
    env["P2PCALL_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "home").mkdir()
    return env


def db(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "db", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def fingerprint(cluster: pgc.PgCluster, name: str) -> str:
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        row = conn.execute(FINGERPRINT).fetchone()
    assert row is not None and row[0]
    return str(row[0])


def has_schema(cluster: pgc.PgCluster, name: str) -> bool:
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        row = conn.execute("SELECT to_regnamespace('p2pcall') IS NOT NULL").fetchone()
    return bool(row and row[0])


def test_init_twice_is_safe_and_upgrade_of_a_current_schema_changes_nothing(
    cluster: pgc.PgCluster, home: dict[str, str]
) -> None:
    name = pgc.fresh_database(cluster, "cli")
    url = cluster.url(dbname=name)
    first = db(home, "init", "--database", url)
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout == f"{name} on {cluster.socket_dir} as postgres: "
        f"set up at server schema {CURRENT} (roles, tables, guards)\n"
    )
    assert first.stderr == ""
    before = fingerprint(cluster, name)
    again = db(home, "init", "--database", url)
    assert again.returncode == 0, again.stderr
    assert f"server schema {CURRENT} is current, already set up; roles checked" in again.stdout
    assert fingerprint(cluster, name) == before
    home[connection.URL_ENV] = url  # the environment instead of --database
    upgraded = db(home, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"server schema {CURRENT} is current, nothing to change" in upgraded.stdout
    assert fingerprint(cluster, name) == before


def test_two_inits_at_once_set_up_once(cluster: pgc.PgCluster, home: dict[str, str]) -> None:
    """The second waits for the first (an advisory lock), then finds the schema current."""
    name = pgc.fresh_database(cluster, "cli")
    command = [
        sys.executable,
        "-m",
        "p2pcall",
        "db",
        "init",
        "--database",
        cluster.url(dbname=name),
    ]
    running = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=home
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=120) for proc in running]
    assert [proc.returncode for proc in running] == [0, 0], results
    said = sorted(out for out, _err in results)
    assert "already set up" in said[0] and f"set up at server schema {CURRENT}" in said[1], said
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        count = conn.execute("SELECT count(*) FROM p2pcall.schema_version").fetchone()
    assert count == (CURRENT,)  # one row per step, each applied once


def test_upgrade_before_init_is_refused_and_creates_nothing(
    cluster: pgc.PgCluster, home: dict[str, str]
) -> None:
    name = pgc.fresh_database(cluster, "cli")
    done = db(home, "upgrade", "--database", cluster.url(dbname=name))
    assert done.returncode == 1
    assert "run `p2pcall db init` first" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not has_schema(cluster, name)


def test_init_as_a_working_role_is_refused_and_creates_nothing(
    cluster: pgc.PgCluster, home: dict[str, str]
) -> None:
    name = pgc.fresh_database(cluster, "cli")
    done = db(home, "init", "--database", cluster.url(user="dr_lee", dbname=name))
    assert done.returncode == 1
    assert "connect as a superuser" in done.stderr and "nothing was changed" in done.stderr
    assert not has_schema(cluster, name)


def test_a_member_of_the_owner_role_is_refused(
    cluster: pgc.PgCluster, home: dict[str, str]
) -> None:
    """A working role that could drop the guards: init says so and changes nothing."""
    name = pgc.fresh_database(cluster, "cli")
    url = cluster.url(dbname=name)
    assert db(home, "init", "--database", url).returncode == 0
    before = fingerprint(cluster, name)
    with psycopg.connect(cluster.dsn(), autocommit=True) as su:
        su.execute(f"GRANT {schema.OWNER} TO dr_park")
        try:
            for action in ("init", "upgrade"):
                done = db(home, action, "--database", url)
                assert done.returncode == 1
                assert "dr_park is a member of p2pcall_owner" in done.stderr
        finally:
            su.execute(f"REVOKE {schema.OWNER} FROM dr_park")
    assert fingerprint(cluster, name) == before


def test_a_working_role_that_bypasses_row_security_is_refused(
    cluster: pgc.PgCluster, home: dict[str, str]
) -> None:
    name = pgc.fresh_database(cluster, "cli")
    url = cluster.url(dbname=name)
    with psycopg.connect(cluster.dsn(), autocommit=True) as su:
        su.execute("ALTER ROLE coord_kim BYPASSRLS")
        try:
            done = db(home, "init", "--database", url)
        finally:
            su.execute("ALTER ROLE coord_kim NOBYPASSRLS")
    assert done.returncode == 1
    assert "coord_kim has bypassrls" in done.stderr
    assert not has_schema(cluster, name)
    assert db(home, "init", "--database", url).returncode == 0


def test_a_password_in_the_url_is_refused_and_never_printed(
    cluster: pgc.PgCluster, home: dict[str, str]
) -> None:
    name = pgc.fresh_database(cluster, "cli")
    secret = SECRET.replace(" ", "%20")
    url = f"postgresql://{pgc.PASSWORD_ROLE}:{secret}@/{name}?host={cluster.socket_dir}"
    done = db(home, "init", "--database", url)
    assert done.returncode == 1
    assert "holds a password" in done.stderr and "~/.pgpass" in done.stderr
    home[connection.URL_ENV] = f"host={cluster.socket_dir} dbname={name} password='{SECRET}'"
    from_env = db(home, "init")
    assert from_env.returncode == 1 and "P2PCALL_DATABASE_URL holds a password" in from_env.stderr
    for output in (done.stdout, done.stderr, from_env.stdout, from_env.stderr):
        assert "horse" not in output and "9f3a" not in output
    assert not has_schema(cluster, name)


def test_the_password_comes_from_pgpass(
    cluster: pgc.PgCluster, home: dict[str, str], tmp_path: Path
) -> None:
    name = pgc.fresh_database(cluster, "cli")
    url = cluster.url(user=pgc.PASSWORD_ROLE, dbname=name)
    asked = db(home, "init", "--database", url)  # no password anywhere, no terminal
    assert asked.returncode == 1
    assert "wants a password" in asked.stderr and "~/.pgpass" in asked.stderr
    passfile = tmp_path / "home" / ".pgpass"
    passfile.write_text(f"*:*:{name}:{pgc.PASSWORD_ROLE}:{SECRET}\n")
    passfile.chmod(0o600)
    done = db(home, "init", "--database", url)
    assert done.returncode == 0, done.stderr
    assert f"as {pgc.PASSWORD_ROLE}: set up at server schema {CURRENT}" in done.stdout
    assert SECRET not in done.stdout + done.stderr + asked.stdout + asked.stderr


def test_the_password_prompt_hands_the_answer_to_libpq(cluster: pgc.PgCluster) -> None:
    name = pgc.fresh_database(cluster, "cli")
    questions: list[str] = []

    def prompt(question: str) -> str:
        questions.append(question)
        return SECRET

    with connection.connect(
        cluster.url(user=pgc.PASSWORD_ROLE, dbname=name), prompt=prompt
    ) as conn:
        assert conn.execute("SELECT session_user").fetchone() == (pgc.PASSWORD_ROLE,)
    assert questions == [f"Password for {name} on {cluster.socket_dir} as {pgc.PASSWORD_ROLE}: "]

    with pytest.raises(connection.ConnectionProblem) as wrong:
        connection.connect(
            cluster.url(user=pgc.PASSWORD_ROLE, dbname=name), prompt=lambda _: "not it"
        )
    assert "password authentication failed" in str(wrong.value)
    assert "not it" not in str(wrong.value)

    def end_of_input(question: str) -> str:
        raise EOFError  # what getpass does on Ctrl+D

    with pytest.raises(connection.ConnectionProblem, match="no password given"):
        connection.connect(cluster.url(user=pgc.PASSWORD_ROLE, dbname=name), prompt=end_of_input)


def test_an_unreachable_server_is_one_line(home: dict[str, str], tmp_path: Path) -> None:
    done = db(home, "init", "--database", f"postgresql://someone@/p2pcall?host={tmp_path}")
    assert done.returncode == 1
    assert done.stderr.startswith("p2pcall db init: cannot connect to p2pcall on ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_an_unverified_tls_connection_gets_a_note(home: dict[str, str]) -> None:
    done = db(home, "upgrade", "--database", "postgresql://someone@127.0.0.1:1/p2pcall")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert "sslmode=prefer" in lines[0] and "verify-full" in lines[0]
    assert lines[1].startswith("p2pcall db upgrade: cannot connect")


def test_without_psycopg_the_command_says_which_extra(home: dict[str, str]) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from p2pcall.cli import main\n"
        "sys.exit(main(['db', 'init', '--database', 'postgresql:///x']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=home, timeout=60
    )
    assert done.returncode == 1
    assert 'pip install "p2pcall[postgres]"' in done.stderr


# -- the upgrade machinery ----------------------------------------------------------------------

BROKEN_STEP = """
ALTER TABLE p2pcall.note ADD COLUMN scratch text;
SELECT no_such_function();
"""


def shipped_up_to(monkeypatch: pytest.MonkeyPatch, version: int) -> None:
    """Pretend this p2pcall ships the steps up to `version` only (an older release)."""
    monkeypatch.setattr(schema, "STEP_FILES", schema.STEP_FILES[:version])
    monkeypatch.setattr(schema, "CURRENT_VERSION", version)


def test_upgrade_from_the_first_server_schema(
    cluster: pgc.PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server set up by the first release (schema 1) is brought to the current schema by
    the shipped steps, owned by the owner role, and the guards keep working."""
    name = pgc.fresh_database(cluster, "up")
    with monkeypatch.context() as older:
        shipped_up_to(older, 1)
        with psycopg.connect(cluster.dsn(dbname=name)) as conn:
            assert schema.init(conn) == schema.Outcome(before=0, after=1)
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        current = schema.CURRENT_VERSION
        assert schema.upgrade(conn) == schema.Outcome(before=1, after=current)
        assert schema.upgrade(conn) == schema.Outcome(before=current, after=current)
        versions = [r[0] for r in conn.execute("SELECT version FROM p2pcall.schema_version")]
        owner = conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'ix_note_client_key'"
        ).fetchone()
    assert versions == list(range(1, current + 1))
    assert owner == (schema.OWNER,)


def test_a_failing_upgrade_leaves_the_schema_as_it_was(
    cluster: pgc.PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = pgc.fresh_database(cluster, "up")
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        schema.init(conn)
    before = fingerprint(cluster, name)
    shipped = schema.step_sql
    broken = schema.CURRENT_VERSION + 1
    monkeypatch.setattr(schema, "STEP_FILES", (*schema.STEP_FILES, "broken.sql"))
    monkeypatch.setattr(schema, "CURRENT_VERSION", broken)
    monkeypatch.setattr(schema, "step_sql", lambda v: BROKEN_STEP if v == broken else shipped(v))
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        with pytest.raises(psycopg.errors.UndefinedFunction):
            schema.upgrade(conn)
        assert schema.version_of(conn) == broken - 1
        column = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'note' "
            "AND column_name = 'scratch'"
        ).fetchone()
    assert column is None
    assert fingerprint(cluster, name) == before


def first_version_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend this p2pcall ships only the first server schema (v1.sql)."""
    shipped_up_to(monkeypatch, 1)


def test_a_newer_server_schema_is_left_alone(cluster: pgc.PgCluster) -> None:
    name = pgc.fresh_database(cluster, "up")
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        schema.init(conn)
        conn.execute("INSERT INTO p2pcall.schema_version (version) VALUES (99)")
        conn.commit()
        with pytest.raises(schema.ServerSchemaError, match="newer p2pcall"):
            schema.upgrade(conn)
        with pytest.raises(schema.ServerSchemaError, match="newer p2pcall"):
            schema.init(conn)


def test_the_search_step_splits_words_of_notes_saved_before_it(
    cluster: pgc.PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v2.sql on a server set up at the first schema, with notes and fields in it:
    the search columns are rebuilt (words split at every symbol), nothing else changes and
    the notes stay guarded."""
    pgc.add_people(cluster)
    name = pgc.fresh_database(cluster, "up")
    with psycopg.connect(cluster.dsn(dbname=name)) as conn, monkeypatch.context() as first:
        first_version_only(first)
        schema.init(conn)
    search = (
        "SELECT count(*) FROM p2pcall.{} WHERE search @@ plainto_tsquery('p2pcall.record_text', %s)"
    )
    with psycopg.connect(cluster.dsn("dr_lee", name), autocommit=True) as lee:
        lee.execute("SET search_path = p2pcall")
        call = lee.execute(
            "INSERT INTO call (created_at, tz) VALUES (now(), 'UTC') RETURNING id"
        ).fetchone()[0]
        lee.execute(
            "INSERT INTO note (call_id, section, kind, body, started_at, saved_at) "
            "VALUES (%s, 'B', 'note', 'PCR positive for covid-19, ref REF-12345', now(), now())",
            (call,),
        )
        lee.execute(
            "INSERT INTO call_field (call_id, key, value, updated_at) "
            "VALUES (%s, 'insurer', 'care@aetna.com', now())",
            (call,),
        )
        assert lee.execute(search.format("note"), ("covid 19",)).fetchone() == (0,)
        before = lee.execute("SELECT id, body, saved_at FROM note").fetchall()
    with psycopg.connect(cluster.dsn(dbname=name)) as conn:
        assert schema.upgrade(conn) == schema.Outcome(before=1, after=CURRENT)
    with psycopg.connect(cluster.dsn("dr_lee", name), autocommit=True) as lee:
        lee.execute("SET search_path = p2pcall")
        assert lee.execute(search.format("note"), ("covid 19",)).fetchone() == (1,)
        assert lee.execute(search.format("note"), ("12345",)).fetchone() == (1,)
        assert lee.execute(search.format("call_field"), ("aetna",)).fetchone() == (1,)
        assert lee.execute("SELECT id, body, saved_at FROM note").fetchall() == before
    with psycopg.connect(cluster.dsn(dbname=name), autocommit=True) as su:
        with pytest.raises(psycopg.errors.CheckViolation, match="never changed"):
            su.execute("UPDATE p2pcall.note SET body = 'changed'")
        owner = su.execute(
            "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'search_text'"
        ).fetchone()
    assert owner == (schema.OWNER,)
