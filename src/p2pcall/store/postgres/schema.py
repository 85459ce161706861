"""Server schema versions, and the transactional steps that reach the current one.

Each version is one SQL file in `sql/` (v1.sql, v2.sql, ...), run as it was shipped, inside
one transaction with the version rows it adds to `p2pcall.schema_version`: a failure leaves
the database as it was. Every step runs as the role p2pcall_owner, which owns the schema and
everything in it; the roles people connect as are members of the three group roles below,
never of the owner, so none of them can drop, alter or disable a table, trigger or policy.
Only a superuser runs init and upgrade (the owner role cannot log in and has no members).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

SCHEMA = "p2pcall"
OWNER = "p2pcall_owner"
GROUPS = ("p2pcall_clinician", "p2pcall_coordinator", "p2pcall_admin")
STEP_FILES = ("v1.sql", "v2_search.sql")
CURRENT_VERSION = len(STEP_FILES)
# Two `db init` or `db upgrade` at once: the second waits, then finds nothing to do.
_LOCK_KEY = 0x70327063616C6C  # "p2pcall"


class ServerSchemaError(Exception):
    """The server's schema cannot be set up or upgraded; nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    before: int  # the version found (0: no p2pcall schema yet)
    after: int


def step_sql(version: int) -> str:
    return resources.files(__package__).joinpath("sql", STEP_FILES[version - 1]).read_text("utf-8")


def version_of(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The highest version applied; 0 when the database has no p2pcall schema."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.schema_version",)
    ).fetchone()
    if row is None or not row[0]:
        return 0
    found = conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_version")
    value = found.fetchone()
    return value[0] if value is not None and isinstance(value[0], int) else 0


def init(conn: psycopg.Connection[tuple[object, ...]]) -> Outcome:
    """Roles, schema and every step: safe to run again (it then only checks)."""
    with conn.transaction():
        _lock(conn)
        _require_superuser(conn)
        _create_roles(conn)
        owner = _schema_owner(conn)
        if owner is None:
            conn.execute(f"CREATE SCHEMA {SCHEMA} AUTHORIZATION {OWNER}")
        elif owner != OWNER:
            raise ServerSchemaError(
                f"a schema named {SCHEMA} already exists and belongs to {owner}, not {OWNER}; "
                "p2pcall leaves it alone"
            )
        # unaccent is a trusted extension, but creating one still takes a superuser here.
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA {SCHEMA}")
        outcome = _run_steps(conn)
        _check_roles(conn)
    return outcome


def upgrade(conn: psycopg.Connection[tuple[object, ...]]) -> Outcome:
    """The pending steps only; refused where `db init` has not run."""
    with conn.transaction():
        _lock(conn)
        if _schema_owner(conn) is None or version_of(conn) == 0:
            raise ServerSchemaError(
                "this database has no p2pcall schema yet; run `p2pcall db init` first"
            )
        _require_superuser(conn)
        outcome = _run_steps(conn)
        _check_roles(conn)
    return outcome


def _lock(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))


def _run_steps(conn: psycopg.Connection[tuple[object, ...]]) -> Outcome:
    found = version_of(conn)
    if found > CURRENT_VERSION:
        raise ServerSchemaError(
            f"this database was set up by a newer p2pcall (server schema {found}, this one "
            f"knows {CURRENT_VERSION}); upgrade p2pcall rather than this database"
        )
    conn.execute(f"SET LOCAL ROLE {OWNER}")
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now(),
            applied_by text NOT NULL DEFAULT session_user
        )"""
    )
    conn.execute(f"GRANT SELECT ON {SCHEMA}.schema_version TO {', '.join(GROUPS)}")
    for version in range(found + 1, CURRENT_VERSION + 1):
        conn.execute(step_sql(version).encode("utf-8"))  # no parameters: several statements
        conn.execute(f"INSERT INTO {SCHEMA}.schema_version (version) VALUES (%s)", (version,))
    conn.execute("RESET ROLE")
    return Outcome(before=found, after=CURRENT_VERSION)


def _require_superuser(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Only a superuser changes the schema: the owner role has no members (see role_problems),
    so none of the roles people work as can."""
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if row is None or not row[0]:
        raise ServerSchemaError(
            "setting up or upgrading the p2pcall schema creates roles, tables and guards: "
            "connect as a superuser (for example the server's `postgres` role)"
        )


def _schema_owner(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    row = conn.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (SCHEMA,)
    ).fetchone()
    return None if row is None else str(row[0])


def _create_roles(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """The owner and the three groups: no login, no special powers. People's own login
    roles are made members of a group by the practice (docs/team.md)."""
    for role in (OWNER, *GROUPS):
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            conn.execute(f"CREATE ROLE {role} NOLOGIN")


# Powers that step around triggers, grants or row-level security.
_POWERS = ("rolsuper", "rolbypassrls", "rolcreaterole", "rolreplication")


def role_problems(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """What would let a person get past the guards: a group with special powers, a role
    other than a superuser in the owner role, a member of a group that bypasses row-level
    security. (A superuser gets past everything; docs/team.md says to keep those few.)"""
    problems: list[str] = []
    for role in (OWNER, *GROUPS):
        row = conn.execute(
            f"SELECT {', '.join(_POWERS)}, rolcanlogin FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        if row is None:
            problems.append(f"the role {role} is missing")
            continue
        powers = [name.removeprefix("rol") for name, on in zip(_POWERS, row, strict=False) if on]
        if powers:
            problems.append(f"the role {role} has {', '.join(powers)}: it must have none")
        if row[-1]:
            problems.append(
                f"the role {role} can log in: it is a group, people log in as themselves"
            )
    members = conn.execute(
        """SELECT m.rolname FROM pg_roles m
           WHERE m.rolname <> %s AND NOT m.rolsuper
             AND pg_has_role(m.oid, %s, 'MEMBER')""",
        (OWNER, OWNER),
    ).fetchall()
    for (name,) in members:
        problems.append(
            f"the role {name} is a member of {OWNER}: it could drop or disable the record's guards"
        )
    bypassing = conn.execute(
        """SELECT m.rolname FROM pg_roles m
           WHERE m.rolbypassrls AND NOT m.rolsuper
             AND (pg_has_role(m.oid, %s, 'MEMBER') OR pg_has_role(m.oid, %s, 'MEMBER')
                  OR pg_has_role(m.oid, %s, 'MEMBER'))
           ORDER BY 1""",
        GROUPS,
    ).fetchall()
    for (name,) in bypassing:
        problems.append(f"the role {name} has bypassrls: it would read every clinician's calls")
    return problems


def _check_roles(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    problems = role_problems(conn)
    if problems:
        raise ServerSchemaError("; ".join(problems))
