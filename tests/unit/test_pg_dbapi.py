"""The store's SQLite-style SQL read by psycopg: placeholders translated, quoted text kept."""

from __future__ import annotations

import pytest

from p2pcall.store.postgres.dbapi import translate


@pytest.mark.parametrize(
    ("sql", "named", "expected"),
    [
        ("SELECT * FROM note WHERE id = ?", False, "SELECT * FROM note WHERE id = %s"),
        ("WHERE a = ? AND b LIKE '%?%'", False, "WHERE a = %s AND b LIKE '%%?%%'"),
        ("SELECT 100 % 7, ?", False, "SELECT 100 %% 7, %s"),
        ("WHERE id = :call AND k = ':x'", True, "WHERE id = %(call)s AND k = ':x'"),
        ("SELECT x::text FROM t WHERE y = :y", True, "SELECT x::text FROM t WHERE y = %(y)s"),
        ("SELECT 'it''s ?' , ?", False, "SELECT 'it''s ?' , %s"),
        ('SELECT "odd?col" FROM t WHERE a = ?', False, 'SELECT "odd?col" FROM t WHERE a = %s'),
        ("WHERE a = ? -- no named here", True, "WHERE a = ? -- no named here"),
    ],
)
def test_placeholders_become_psycopgs_and_quoted_text_stays(
    sql: str, named: bool, expected: str
) -> None:
    assert translate(sql, named) == expected
