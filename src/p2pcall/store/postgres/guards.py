"""Are the server's guards in place? What `verify` checks before it trusts a server's record.

The shipped schema steps (sql/v*.sql) say which triggers guard which table and which tables
have row-level security; the server's catalog says what is there now. A trigger missing,
disabled or added, a table without row-level security, or anything in the schema owned by
another role than p2pcall_owner is a problem: someone with a superuser changed the guards.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from p2pcall.store.postgres import schema

if TYPE_CHECKING:
    from p2pcall.store.queries.cursor import Db

_TRIGGER = re.compile(r"CREATE TRIGGER (\w+)\s.*?\sON (\w+)", re.DOTALL)
_RLS = re.compile(r"ALTER TABLE (\w+) ENABLE ROW LEVEL SECURITY")

_FOUND_TRIGGERS = (
    "SELECT t.tgname, c.relname, t.tgenabled FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'p2pcall' AND NOT t.tgisinternal"
)
_TABLES = (
    "SELECT c.relname, c.relrowsecurity, pg_get_userbyid(c.relowner) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'p2pcall' AND c.relkind IN ('r', 'v', 'p')"
)
_FUNCTIONS = (
    "SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'p2pcall'"
)


def expected(version: int) -> tuple[set[tuple[str, str]], set[str]]:
    """(trigger, table) pairs and tables with row-level security, as steps 1..version make."""
    triggers: set[tuple[str, str]] = set()
    secured: set[str] = set()
    for step in range(1, version + 1):
        text = schema.step_sql(step)
        triggers |= {(m.group(1), m.group(2)) for m in _TRIGGER.finditer(text)}
        secured |= {m.group(1) for m in _RLS.finditer(text)}
    return triggers, secured


def check(db: Db) -> tuple[int, list[str]]:
    """The server's schema version and how its guards differ from p2pcall's (empty: none)."""
    found_version = db.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    version = int(found_version[0])
    if not 0 < version <= schema.CURRENT_VERSION:
        return version, [f"server schema version {version} is not one this p2pcall knows"]
    triggers, secured = expected(version)
    problems: list[str] = []
    there = {(row[0], row[1]): row[2] for row in db.execute(_FOUND_TRIGGERS).fetchall()}
    for name, table in sorted(triggers):
        state = there.get((name, table))
        if state is None:
            problems.append(f"trigger {name} on {table} is missing")
        elif state != "O":  # 'D': disabled; 'R'/'A': fires only in replica mode
            problems.append(f"trigger {name} on {table} is disabled")
    problems += [f"trigger {n} on {t} was added" for n, t in sorted(set(there) - triggers)]
    for table, rls, owner in db.execute(_TABLES).fetchall():
        if table in secured and not rls:
            problems.append(f"row-level security on {table} is off")
        if owner != schema.OWNER:
            problems.append(f"{table} belongs to {owner}, not {schema.OWNER}")
    for function, owner in db.execute(_FUNCTIONS).fetchall():
        if owner != schema.OWNER and not function.startswith("unaccent"):
            problems.append(f"function {function} belongs to {owner}, not {schema.OWNER}")
    return version, problems
