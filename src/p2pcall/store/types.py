"""Column types that keep the record unambiguous (the conversion itself is `timetext`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from p2pcall.store.timetext import FORMAT as _FORMAT
from p2pcall.store.timetext import from_text, to_text, to_utc, utc_moment

__all__ = ["_FORMAT", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as fixed-width UTC ISO 8601 text (sorts as it reads).

    SQLite has no time zone type and SQLAlchemy's DateTime drops the offset there, so a
    naive value is refused instead of being silently taken as local or UTC. On PostgreSQL
    the column is a timestamptz (an instant) and takes the UTC datetime itself.
    """

    impl = String(27)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(27))

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect | None
    ) -> str | datetime | None:
        if value is None:
            return None
        if dialect is not None and dialect.name == "postgresql":
            return to_utc(value)
        return to_text(value)

    def process_result_value(
        self, value: str | datetime | None, dialect: Dialect | None
    ) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return utc_moment(value)
        return from_text(value)
