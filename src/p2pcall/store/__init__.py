"""The store: SQLModel tables, engine and PRAGMAs, schema upgrades, queries.

Importing this package costs SQLAlchemy's import time (about half a second): the TUI only
imports it inside its database worker thread.
"""

from p2pcall.store.store import DatabaseError, Store, StoreError

__all__ = ["DatabaseError", "Store", "StoreError"]
