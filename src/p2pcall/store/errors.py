"""The store's errors: what a caller catches, whichever database or module raised it.

Standard library only: the read-only commands catch these without loading SQLAlchemy.
"""

from __future__ import annotations


class StoreError(Exception):
    """A problem the user must be told about, in words they can act on."""


class DatabaseError(StoreError):
    """The database file is damaged, not a database, or cannot be opened."""


class DamagedError(DatabaseError):
    """SQLite met a damaged page: nothing more should be written to this file."""


class NoSuchCallError(StoreError):
    """The call number asked for is not in the database."""


class UnreachableError(StoreError):
    """The practice server cannot be reached (down, network cut): what failed can be sent
    again once it is back."""


class NotTakenError(StoreError):
    """The record cannot take this note as typed (its call was finalized before the note
    reached the database): sending it again will never help."""


__all__ = [
    "DamagedError",
    "DatabaseError",
    "NoSuchCallError",
    "NotTakenError",
    "StoreError",
    "UnreachableError",
]
