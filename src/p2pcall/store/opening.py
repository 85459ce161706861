"""Which store to open: the local SQLite file (the default) or a practice's server.

One place decides, for the app and every command: a URL (`--database`, else
P2PCALL_DATABASE_URL, see `paths.resolve_database_url`) opens the PostgreSQL store, nothing
opens the SQLite file in the data folder. psycopg is loaded only for a URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from p2pcall.store.errors import DatabaseError

if TYPE_CHECKING:
    from collections.abc import Callable

    from p2pcall.store.readapi import ReadApi
    from p2pcall.store.store import Store

EXTRA_HINT = 'install the PostgreSQL extra first: pip install "p2pcall[postgres]"'


def open_store(
    data_dir: Path, url: str | None = None, *, prompt: Callable[[str], str] | None = None
) -> Store:
    """The writing store: SQLite in `data_dir`, or the server at `url` (default: see module)."""
    from p2pcall.paths import resolve_database_url

    url = resolve_database_url(url)
    if url is None:
        from p2pcall.store.store import Store

        return Store.open(data_dir)
    try:
        from p2pcall.store.postgres.store import PgStore
    except ImportError:
        raise DatabaseError(f"psycopg is not installed; {EXTRA_HINT}.") from None
    return PgStore.open_url(url, data_dir, prompt=prompt)


def open_reader(data_dir: Path, url: str | None = None) -> ReadApi | None:
    """A store that only reads: the read-only commands' way in. None when there is no
    local database file yet (a server always answers, or raises)."""
    from p2pcall.paths import resolve_database_url

    url = resolve_database_url(url)
    if url is None:
        import os

        from p2pcall.paths import database_path
        from p2pcall.store.reader import Reader

        if not os.path.lexists(database_path(data_dir)):
            return None
        return Reader.open(data_dir)
    return open_server_reader(url)


def open_server_reader(url: str) -> ReadApi:
    """The server at `url`, to read only (`store.postgres.reader.PgReader`)."""
    try:
        from p2pcall.store.postgres.reader import PgReader
    except ImportError:
        raise DatabaseError(f"psycopg is not installed; {EXTRA_HINT}.") from None
    return PgReader.open_url(url)
