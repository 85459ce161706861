"""Times in the record: aware UTC in storage, local time with its offset on screen and paper."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pendulum


def now_utc() -> datetime:
    import pendulum  # deferred: keeps the TUI's first frame free of it

    return pendulum.now("UTC")


def local_tz_name() -> str:
    """The zone this computer is set to, always a name pendulum and zoneinfo can load."""
    from p2pcall.domain.localzone import resolve_local_zone

    return resolve_local_zone().name


def local_zone_notice() -> str | None:
    """One plain sentence when TZ is not simply a zone name (UTC+3), else None."""
    from p2pcall.domain.localzone import resolve_local_zone

    return resolve_local_zone().notice


def to_local(moment: datetime, tz: str | None = None) -> pendulum.DateTime:
    import pendulum

    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous and never enter the record")
    return pendulum.instance(moment).in_timezone(_zone(tz or local_tz_name()))


@lru_cache(maxsize=64)
def _zone(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    """The zone of that name, read once: pendulum reads the zone's file on every lookup by
    name, which was most of the time an export took (an invalid name raises each time)."""
    import pendulum

    return pendulum.timezone(name)


def end_of_day(day: date, tz: str) -> pendulum.DateTime:
    """23:59:59 local time on ``day``: the moment a date-only due date runs out."""
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, 23, 59, 59, tz=tz)


def utc_offset(local: datetime) -> str:
    """The offset of an aware local time as it is shown everywhere: -05:00, +05:30."""
    offset = local.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def clock_time(moment: datetime, tz: str | None = None) -> str:
    """Short local time for the live screens: 14:02:11."""
    return to_local(moment, tz).strftime("%H:%M:%S")


def stamp(moment: datetime, tz: str | None = None) -> str:
    """Unambiguous local time for lists and exports: 2026-11-23 14:02:11 -05:00."""
    local = to_local(moment, tz)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + utc_offset(local)


def shown_seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end as both are shown (to the second, cut like strftime).

    Subtracting the exact times and then cutting gave 10:00:00.9 to 10:05:00.1 as 0:04:59
    beside a start of 10:00:00 and an end of 10:05:00: the figures did not add up.
    """
    return max(0, math.floor(end.timestamp()) - math.floor(start.timestamp()))


def call_length(start: datetime, end: datetime) -> str:
    """0:05:00 for a call shown as starting 10:00:00 and ending 10:05:00."""
    return elapsed(shown_seconds_between(start, end))


def elapsed(seconds: float) -> str:
    """A call clock: 0:05:09, 1:02:03."""
    total = max(0, int(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
