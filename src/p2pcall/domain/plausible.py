"""Plausible dates: a date far from the call is more often a typo than a fact.

A denial notice, a reviewer's promise or a due date more than 60 days before or after the call
gets a one-line "did you mean ..." question. The date stays as typed; once the user confirms
it, the question is not asked again (the confirmation is kept on the call as a field).

Pure: no Textual, no database.
"""

from __future__ import annotations

from datetime import date

__all__ = ["PLAUSIBLE_DAYS", "confirmation_value", "confirmed_keys", "implausible"]

PLAUSIBLE_DAYS = 60


def implausible(
    day: date, call_day: date, label: str, keep: str = "k keeps it and stops asking."
) -> str | None:
    """The one-line question for a date over 60 days from the call, or None when it is near."""
    gap = (day - call_day).days
    if abs(gap) <= PLAUSIBLE_DAYS:
        return None
    side = "before" if gap < 0 else "after"
    guess = _nearest_same_day(day, call_day)
    mean = f" Did you mean {guess.isoformat()}?" if guess is not None else ""
    return (
        f"{label} {day.isoformat()} is {abs(gap)} days {side} the call.{mean} Kept as typed; {keep}"
    )


def _nearest_same_day(day: date, call_day: date) -> date | None:
    """The same month and day in the year that puts it nearest the call (2025 typed for 2026)."""
    best: date | None = None
    for year in (call_day.year - 1, call_day.year, call_day.year + 1):
        try:
            candidate = date(year, day.month, day.day)
        except ValueError:
            continue
        if abs((candidate - call_day).days) <= PLAUSIBLE_DAYS and (
            best is None or abs((candidate - call_day).days) < abs((best - call_day).days)
        ):
            best = candidate
    return best


def confirmation_value(key: str, value: str) -> str:
    """How one confirmed date is written into the call's ``dates_confirmed`` field."""
    return f"{key}={value.strip()}"


def confirmed_keys(stored: str) -> set[str]:
    """The ``key=value`` pairs the user confirmed (a changed value is asked about again)."""
    return {part.strip() for part in stored.split(";") if part.strip()}
