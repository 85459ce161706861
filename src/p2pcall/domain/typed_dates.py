"""Dates the user types (YYYY-MM-DD) into the call's fields and the wrap-up: parsed, or a
message that names the field and says what is wrong. Below the planner and the follow-ups,
which both read typed dates."""

from __future__ import annotations

import re
from datetime import date

from p2pcall.domain.deadlines import DeadlineInputError
from p2pcall.domain.text import one_line

ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


class DateEntryError(DeadlineInputError):
    """A typed date that cannot be used; the message names the field and says why."""


def parse_typed_date(
    text: str | None, label: str, *, today: date | None = None, allow_future: bool = True
) -> date | None:
    """A YYYY-MM-DD date typed by the user; None when the field is empty.

    Raises DateEntryError for text that is not a date, for impossible dates (30 February)
    and, unless ``allow_future``, for a date after ``today``.
    """
    if text is None or not text.strip():
        return None
    match = ISO_DAY.match(text)
    if match is None:
        raise DateEntryError(
            f"{label}: '{one_line(text, 20)}' is not a date. Type it as YYYY-MM-DD, "
            "for example 2026-11-23."
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise DateEntryError(
            f"{label}: {year:04d}-{month:02d}-{day:02d} does not exist on the calendar. "
            "Check the notice and type the date again."
        ) from None
    if not allow_future and today is not None and parsed > today:
        raise DateEntryError(
            f"{label}: {parsed.isoformat()} is in the future. Type the date it actually "
            "happened (it is on the notice)."
        )
    return parsed
