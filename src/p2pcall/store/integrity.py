"""Is the database's schema exactly the one p2pcall builds? (guards dropped or added, tables redone)

SQLite cannot refuse `DROP TRIGGER`, `DROP TABLE`, `ALTER TABLE` or a new `UNIQUE` index that
makes `REPLACE` delete a guarded row: whoever can write the file can change its schema. What
can be done is to notice it. The expected schema is built by running every schema step on an
empty in-memory database, so it follows whatever steps this version has; the file's
`sqlite_master` is compared with it object by object.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from typing import TYPE_CHECKING

from p2pcall.store import schema
from p2pcall.store import sqlite_dialect as dialect

if TYPE_CHECKING:
    from p2pcall.store.readapi import ReadApi

Objects = dict[tuple[str, str], str | None]  # (type, name) -> CREATE statement

# FTS5 writes its shadow tables' statements itself, and they may differ between SQLite
# versions: for those only their presence is compared.
_SEARCH_TABLES = ("note_search", "field_search")


def _normalized(sql: str | None) -> str | None:
    """The statement with quoted plain identifiers unquoted and runs of spaces made one: how
    SQLite itself rewrites statements (`ALTER TABLE ... RENAME` quotes names) does not count
    as a change, a different statement does."""
    if sql is None:
        return None
    return " ".join(_QUOTED_NAME.sub(r"\1", sql).split())


_QUOTED_NAME = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"')


def _objects(rows: list[tuple[str, str, str | None]]) -> Objects:
    return {
        (kind, name): _normalized(sql) for kind, name, sql in rows if not name.startswith("sqlite_")
    }


_MASTER = "SELECT type, name, sql FROM sqlite_master"


@cache
def expected_objects(version: int = schema.CURRENT_VERSION) -> Objects:
    """The objects the first `version` schema steps create, on an empty in-memory database."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for step in schema.STEPS[:version]:
            step(db)
        return _objects(db.execute(_MASTER).fetchall())
    finally:
        db.close()


def _shadow(name: str) -> bool:
    return any(name.startswith(f"{table}_") for table in _SEARCH_TABLES)


def differences(found: Objects, expected: Objects | None = None) -> list[str]:
    """What differs, one short phrase each ("trigger record_note_no_update is missing")."""
    expected = expected_objects() if expected is None else expected
    problems = []
    for (kind, name), sql in sorted(expected.items()):
        if (kind, name) not in found:
            problems.append(f"{kind} {name} is missing")
        elif found[(kind, name)] != sql and not _shadow(name):
            problems.append(f"{kind} {name} was changed")
    for kind, name in sorted(set(found) - set(expected)):
        problems.append(f"{kind} {name} was added")
    return problems


def schema_check(store: ReadApi) -> tuple[int, list[str]]:
    """The file's schema version, and how its schema differs from the one p2pcall builds for
    that version (empty list: identical). A file an older p2pcall wrote and this one has not
    upgraded (a read-only copy) is compared with its own version's schema."""
    with store.reading() as db:  # its errors (busy, damaged) come out as StoreError
        if not isinstance(db, sqlite3.Connection):  # a server: its guards, from its catalog
            from p2pcall.store.postgres import guards

            return guards.check(db)
        version = dialect.schema_version(db)
        rows = dialect.schema_objects(db)
    if not 0 < version <= schema.CURRENT_VERSION:
        return version, [f"schema version {version} is not one p2pcall writes"]
    return version, differences(_objects(rows), expected_objects(version))


def schema_differences(store: ReadApi) -> list[str]:
    """How the store's schema differs from p2pcall's own (empty list: identical)."""
    return schema_check(store)[1]
