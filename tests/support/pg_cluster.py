"""A throwaway PostgreSQL cluster for the tests: a temporary folder, a Unix socket, no TCP port.

Started once per test session from the Debian server binaries (`postgresql` package:
/usr/lib/postgresql/<version>/bin), stopped with `pg_ctl stop -m fast` at the end, also
when tests fail or the run is interrupted, and its folder removed.

initdb and postgres refuse to run as root (CI runs as root), so as root the cluster runs as
an unprivileged system user: `postgres` when the package created it, else `nobody`. The
tests themselves stay root and connect through the socket, which root can always open.

Without server binaries (or psycopg) the PostgreSQL tests are skipped with the reason in
pytest's summary; with P2PCALL_REQUIRE_POSTGRES=1 (CI) the same condition fails them.
The fixture (`pg_cluster`) is registered in tests/conftest.py.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REQUIRE_ENV = "P2PCALL_REQUIRE_POSTGRES"
BINDIR_ENV = "P2PCALL_PG_BINDIR"  # another server build than the Debian one
SUPERUSER = "postgres"
DATABASE = "p2pcall_test"
PASSWORD_ROLE = "pw_user"  # the one role that must give a password
PASSWORD = "correct horse battery 9f3a"  # PASSWORD_ROLE's (see password_role)
# Every command gets this long at most: a server that cannot start says so, never hangs.
COMMAND_TIMEOUT = 120


# Run by the watchdog process (see PgCluster._watch): argv = stop command (JSON), folder.
WATCHDOG = """
import json, os, shutil, subprocess, sys
sys.stdin.buffer.read()  # returns when the test run closes the pipe or dies
stop, root = json.loads(sys.argv[1]), sys.argv[2]
if os.path.exists(os.path.join(root, "data", "postmaster.pid")):
    subprocess.run(stop, capture_output=True, timeout=120)
shutil.rmtree(root, ignore_errors=True)
"""


class ClusterUnavailable(Exception):
    """No server can be started here; the message says why, in one line."""


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres: P2PCALL_PG_BINDIR, else the newest
    Debian server under /usr/lib/postgresql, else what `pg_config --bindir` says."""
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    else:
        debian = Path("/usr/lib/postgresql")
        if debian.is_dir():
            versions = [p for p in debian.iterdir() if p.name.isdigit()]
            candidates += [p / "bin" for p in sorted(versions, key=lambda p: -int(p.name))]
        pg_config = shutil.which("pg_config")
        if pg_config:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                out = subprocess.run(
                    [pg_config, "--bindir"], capture_output=True, text=True, timeout=30
                )
                candidates.append(Path(out.stdout.strip()))
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    looked = ", ".join(str(c) for c in candidates) or "/usr/lib/postgresql/*/bin"
    raise ClusterUnavailable(
        f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {looked}; "
        "install the Debian package `postgresql` (apt-get install postgresql)"
    )


def server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None means "as this process" (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterUnavailable("running as root and there is no `postgres` or `nobody` account")


@dataclass
class PgCluster:
    """A running cluster; `dsn(user)` is a libpq connection string for one of its roles."""

    bindir: Path
    root: Path
    account: pwd.struct_passwd | None
    running: bool = False
    _stopped: bool = field(default=False, repr=False)
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def dsn(self, user: str = SUPERUSER, dbname: str = DATABASE) -> str:
        return f"host={self.socket_dir} port=5432 user={user} dbname={dbname}"

    def url(self, user: str = SUPERUSER, dbname: str = DATABASE) -> str:
        """The same as a URL, as `--database` takes it (socket folder as the host query)."""
        from urllib.parse import quote

        return f"postgresql://{user}@/{dbname}?host={quote(str(self.socket_dir), safe='/')}"

    def _command(self, args: list[str]) -> list[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.account is None:
            return command
        return [
            "setpriv",
            f"--reuid={self.account.pw_uid}",
            f"--regid={self.account.pw_gid}",
            "--clear-groups",
            *command,
        ]

    def _as_server(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        command = self._command(args)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": str(self.root),
            "TZ": "UTC",
        }
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.root,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )

    def _check(self, what: str, args: list[str]) -> None:
        try:
            done = self._as_server(args)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ClusterUnavailable(f"{what} could not run: {exc}") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            log_tail = (
                self.log.read_text(errors="replace").splitlines()[-5:] if self.log.exists() else []
            )
            raise ClusterUnavailable(f"{what} failed: {' | '.join(detail + log_tail)}")

    def start(self) -> None:
        self.socket_dir.mkdir()
        if self.account is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        self._check(
            "initdb",
            [
                "initdb",
                "--pgdata",
                str(self.data),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",  # only through the socket below, in a 0700 folder
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-sync",  # a throwaway cluster: no fsync of the template files
            ],
        )
        self._configure()
        self._watch()
        self._start_server()
        self.running = True
        self._check("createdb", ["createdb", "-h", str(self.socket_dir), "-U", SUPERUSER, DATABASE])

    def _start_server(self) -> None:
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
            "-c unix_socket_permissions=0700 -c fsync=off -c max_connections=100 "
            "-c shared_buffers=32MB -c timezone=UTC"
        )
        self._check(
            "pg_ctl start",
            [
                "pg_ctl",
                "start",
                "--wait",
                "--timeout",
                "90",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
            ],
        )

    def stop_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: the server dies as in a crash or power cut (every
        connection drops at once); `start_again` brings it back with its data."""
        self._check(
            "pg_ctl stop -m immediate",
            ["pg_ctl", "stop", "-m", "immediate", "--wait", "-D", str(self.data)],
        )
        self.running = False

    def start_again(self) -> None:
        self._start_server()
        self.running = True

    def _configure(self) -> None:
        """Trust on the socket for the test roles, but a password for PASSWORD_ROLE, so the
        tests can check libpq's own password sources (.pgpass, PGPASSWORD...)."""
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"local all {PASSWORD_ROLE} scram-sha-256\nlocal all all trust\n")

    def _watch(self) -> None:
        """A watchdog process that outlives this one: when the test run dies without
        stopping the server (kill -9, a CI timeout), the pipe it reads closes and it stops
        the server (`pg_ctl stop -m immediate`) and removes the folder."""
        stop = self._command(["pg_ctl", "stop", "-m", "immediate", "--wait", "-D", str(self.data)])
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, json.dumps(stop), str(self.root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl+C to the test run does not end it first
        )

    def stop(self) -> None:
        """`pg_ctl stop -m fast`, then the folder goes. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._stop_server()
        finally:
            watchdog = self._watchdog
            if watchdog is not None and watchdog.stdin is not None:
                watchdog.stdin.close()  # the server is stopped: it finds nothing to do
                with contextlib.suppress(subprocess.TimeoutExpired):
                    watchdog.wait(timeout=COMMAND_TIMEOUT)

    def _stop_server(self) -> None:
        """Fast (disconnect everyone, clean shutdown), else immediate. A server that would
        not stop keeps its folder (the watchdog tries again) and fails the teardown."""
        if self.running:
            for mode in ("fast", "immediate"):
                try:
                    self._check(
                        f"pg_ctl stop -m {mode}",
                        ["pg_ctl", "stop", "-m", mode, "--wait", "-D", str(self.data)],
                    )
                except ClusterUnavailable:
                    if mode == "immediate":
                        raise
                    continue
                break
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    bindir = find_bindir()
    account = server_account()
    # Not under pytest's tmp_path: that is 0700 root's, and the server account must reach it.
    root = Path(tempfile.mkdtemp(prefix="p2pcall-pg-"))
    cluster = PgCluster(bindir=bindir, root=root, account=account)
    atexit.register(cluster.stop)  # an interrupted run (Ctrl+C) still stops the server
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def unavailable(reason: str) -> None:
    """Fail (CI: P2PCALL_REQUIRE_POSTGRES=1) or skip, saying why."""
    message = f"PostgreSQL tests not run: {reason}"
    if required():
        pytest.fail(f"{message} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(message)


# What the summary says about the PostgreSQL tests (see pytest_terminal_summary).
_run: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line at the end: did the PostgreSQL tests run, and on what, or why not."""
    if "server" in _run:
        terminalreporter.write_line(
            f"PostgreSQL: the server tests ran on a throwaway cluster ({_run['server']}).",
            green=True,
        )
    elif "reason" in _run:
        terminalreporter.write_line(
            f"PostgreSQL: the server tests did NOT run: {_run['reason']}.", yellow=True
        )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    reason = ""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = 'psycopg is not installed (pip install -e ".[test]" brings it)'
    cluster: PgCluster | None = None
    if not reason:
        try:
            cluster = start_cluster()
        except ClusterUnavailable as exc:
            reason = str(exc)
    if cluster is None:
        _run["reason"] = reason
        unavailable(reason)  # outside the except: the summary shows only the reason
        return
    _run["server"] = f"server binaries in {cluster.bindir}"
    try:
        yield cluster
    finally:
        cluster.stop()


_databases = iter(range(1, 1_000_000))


def fresh_database(cluster: PgCluster, stem: str) -> str:
    """A new empty database on the shared cluster (one per test module or test); its name."""
    import psycopg

    name = f"{stem}_{next(_databases)}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


# The people of the role tests: login roles, each a member of one group (or none).
PEOPLE = {
    "dr_lee": "p2pcall_clinician",
    "dr_park": "p2pcall_clinician",
    "coord_kim": "p2pcall_coordinator",
    "admin_ray": "p2pcall_admin",
    "outsider": None,
}


def add_people(cluster: PgCluster) -> None:
    """Create the login roles of PEOPLE once per cluster (roles are cluster-wide). The
    group roles come from `db init`'s own code, run on a scratch database."""
    import psycopg

    from p2pcall.store.postgres import schema

    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'outsider'").fetchone():
            return
    with psycopg.connect(cluster.dsn(dbname=fresh_database(cluster, "people"))) as conn:
        schema.init(conn)
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        for person, group in PEOPLE.items():
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (person,)).fetchone():
                continue
            conn.execute(f"CREATE ROLE {person} LOGIN")
            if group is not None:
                conn.execute(f"GRANT {group} TO {person}")


TEMPLATE = "p2pcall_template"


def p2pcall_database(cluster: PgCluster, person: str = "dr_lee") -> str:
    """A new database set up by `db init` (cloned from a template made once per cluster),
    as the URL `person` connects with."""
    import psycopg

    from p2pcall.store.postgres import schema

    add_people(cluster)
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        made = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,))
        if made.fetchone() is None:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
            with psycopg.connect(cluster.dsn(dbname=TEMPLATE)) as template:
                schema.init(template)
        name = f"p2pcall_{next(_databases)}"
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
    return cluster.url(person, name)


def password_role(cluster: PgCluster) -> str:
    """PASSWORD_ROLE, a superuser that must give PASSWORD (pg_hba.conf asks it for one on the
    socket); created once per cluster. Its name."""
    import psycopg
    from psycopg import sql

    add_people(cluster)
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (PASSWORD_ROLE,)
        ).fetchone():
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(PASSWORD_ROLE), sql.Literal(PASSWORD)
                )
            )
    return PASSWORD_ROLE
