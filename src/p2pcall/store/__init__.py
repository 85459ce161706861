"""The store: the database behind the app and the commands.

`Store` (the app's, writing) loads SQLAlchemy and SQLModel; it is imported on first use, so
`from p2pcall.store import StoreError` and the read-only commands' `store.reader.Reader`
stay on the standard library. See `sqlite_dialect` for what is SQLite's, `queries` for the
reads' SQL, `readapi` for the reads every store offers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from p2pcall.store.errors import DatabaseError, StoreError

if TYPE_CHECKING:
    from p2pcall.store.store import Store

__all__ = ["DatabaseError", "Store", "StoreError"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from p2pcall.store.store import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
