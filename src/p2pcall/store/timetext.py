"""How the store writes times: aware datetimes as fixed-width UTC ISO 8601 text.

`2026-03-10T15:00:00.000000Z` sorts as it reads, so SQL compares times as text. One place
for both directions: the ORM column type (`types.UTCDateTime`) and the plain-SQL row
converters (`rows`) call these. Standard library only at import (pendulum when reading).
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_text(value: datetime) -> str:
    """The stored text of an aware datetime; ValueError for a naive one (never guessed)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime refused: the record keeps aware UTC times only")
    return value.astimezone(UTC).strftime(FORMAT)


def to_utc(value: datetime) -> datetime:
    """An aware datetime as a plain `datetime` in UTC (what a timestamptz column is given);
    ValueError for a naive one, as `to_text`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime refused: the record keeps aware UTC times only")
    t = value.astimezone(UTC)
    return datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond, UTC)


def utc_moment(t: datetime) -> datetime:
    """An aware datetime as the pendulum UTC DateTime `from_text` gives for the same moment."""
    import pendulum

    t = t.astimezone(UTC)
    return pendulum.DateTime(
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond, tzinfo=pendulum.UTC
    )


def from_text(value: str) -> datetime:
    """A stored time as an aware pendulum DateTime in UTC (ValueError if it is no time)."""
    import pendulum

    if len(value) == 27 and value[-1] == "Z":
        # What to_text writes: read without pendulum's general parser, which cost ~20 us
        # a value (a 2,000-note call holds 4,000 of them).
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            t = None
        if t is not None and t.utcoffset() is not None and not t.utcoffset():
            return pendulum.DateTime(
                t.year,
                t.month,
                t.day,
                t.hour,
                t.minute,
                t.second,
                t.microsecond,
                tzinfo=pendulum.UTC,
            )
    parsed = pendulum.parse(value)
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError("a stored time is a date or duration, not a moment")
    return parsed.in_timezone("UTC")


def time_of(value: object) -> datetime | None:
    """A time column's value as a datetime: None stays None, text is read, a datetime (from
    an ORM row, already read by its column type) is returned as it is."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return from_text(value)
    raise TypeError(f"a stored time is {type(value).__name__}, not text")


def required_time(value: object) -> datetime:
    moment = time_of(value)
    if moment is None:
        raise ValueError("a required time is missing")
    return moment
