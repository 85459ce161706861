"""A psycopg connection that answers the store's plain SQL the way `sqlite3` does.

The reads of `store.queries` (and the few plain statements elsewhere) are written once,
with SQLite's placeholders (`?`, or `:name` with a mapping) and run through
`db.execute(sql, params)` / `db.cursor()` with a `row_factory`. `PgDb` takes the same calls
on a psycopg connection: placeholders become psycopg's (`%s`, `%(name)s`; a literal `%`
doubled), and rows go through the same `row_factory` as on SQLite. Times come back as
pendulum UTC DateTimes, as `timetext.from_text` reads them from SQLite, so every converter
and the hash chain see the same values whichever database answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

RowFactory = Callable[[Any, tuple[Any, ...]], Any]


@lru_cache(maxsize=512)
def translate(sql: str, named: bool) -> str:
    """SQLite placeholders -> psycopg's, outside quoted text (`'...'`, `"..."`)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # '' inside a literal
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
            continue
        if ch == "%":
            out.append("%%")
        elif ch == "?" and not named:
            out.append("%s")
        elif ch == ":" and named and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            if i > 0 and sql[i - 1] == ":":  # a `::type` cast
                out.append(ch)
            else:
                end = i + 1
                while end < n and (sql[end].isalnum() or sql[end] == "_"):
                    end += 1
                out.append(f"%({sql[i + 1 : end]})s")
                i = end
                continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class PgCursor:
    """The part of `sqlite3.Cursor` the store uses: execute, fetch, iterate, description."""

    def __init__(self, cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor
        self.row_factory: RowFactory | None = None

    @property
    def description(self) -> Sequence[Any] | None:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> PgCursor:
        named = isinstance(params, Mapping)
        self._cursor.execute(translate(sql, named), params if params else None)
        return self

    def _made(self, row: tuple[Any, ...]) -> Any:
        return row if self.row_factory is None else self.row_factory(self, row)

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        return None if row is None else self._made(row)

    def fetchall(self) -> list[Any]:
        return [self._made(row) for row in self._cursor.fetchall()]

    def fetchmany(self, size: int) -> list[Any]:
        return [self._made(row) for row in self._cursor.fetchmany(size)]

    def __iter__(self) -> Iterator[Any]:
        for row in self._cursor:
            yield self._made(row)

    def close(self) -> None:
        self._cursor.close()


class PgDb:
    """The part of `sqlite3.Connection` the store's plain SQL uses, on psycopg."""

    # What the shared queries ask of a connection (queries.cursor.on_server): a server
    # records who wrote each row and may hold calls copied from laptops.
    on_server = True

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def cursor(self) -> PgCursor:
        return PgCursor(self.conn.cursor())

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> PgCursor:
        return self.cursor().execute(sql, params)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.conn.close()
