"""Column types that keep the record unambiguous (the conversion itself is `timetext`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from p2pcall.store.timetext import FORMAT as _FORMAT
from p2pcall.store.timetext import from_text, to_text

__all__ = ["_FORMAT", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as fixed-width UTC ISO 8601 text (sorts as it reads).

    SQLite has no time zone type and SQLAlchemy's DateTime drops the offset there, so a
    naive value is refused instead of being silently taken as local or UTC.
    """

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect | None) -> str | None:
        return None if value is None else to_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect | None) -> datetime | None:
        return None if value is None else from_text(value)
