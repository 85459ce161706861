"""Dated words in what the reviewer promised: "by 11/24", "Friday", "within 24h", "EOD".

Read relative to the moment they were said (a note's save time, or the call's connected time)
in the call's time zone. The result is a proposal: the wrap-up shows it for the user to confirm
or change, and never applies it silently. Ambiguous forms say so ("11/12": 12 Nov as written
in the US, or 11 Dec), and a date already past when it was said is flagged.

Conventions (written down because a reviewer's "by Friday" is not a regulation):
- A bare date or weekday means the end of that day (23:59:59 local), like every date-only due.
- "close of business" / "COB" means 17:00 local that day.
- "within N hours" is N elapsed hours from when it was said (a DST change does not stretch it).
- "in N business days" skips Saturdays and Sundays (holidays are not known here).
- A weekday named on that same weekday means the next one, a week on (flagged as ambiguous).
- A month/day without a year is the next such day on or after the call, unless it fell in
  the month before the call: then it is the past date, flagged.

Pure: no Textual, no database; pendulum is imported inside the functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from p2pcall.domain.deadlines import add_business_days

if TYPE_CHECKING:
    import pendulum

__all__ = ["DatedPhrase", "find_dated_phrases"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ABBR = {name[:3]: index for index, name in enumerate(_WEEKDAYS)}
_MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
    "a": 1,
    "an": 1,
}
_N = r"(\d{1,3}|one|two|three|four|five|six|seven|ten|an?)"
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("iso", r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"),
        ("slash", r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b"),
        ("month_day", rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"),
        ("day_month", rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\b"),
        ("hours", rf"\b(?:within|in|next)\s+{_N}\s*(?:h|hr|hrs|hours?)\b"),
        ("hours_short", r"\b(\d{1,3})\s*(?:h|hrs?)\b"),
        ("business", rf"\b(?:within|in)\s+{_N}\s+(?:business|working)\s+days?\b"),
        ("business_bare", rf"\b{_N}\s+(?:business|working)\s+days?\b"),
        ("days", rf"\b(?:within|in)\s+{_N}\s+(?:calendar\s+)?days?\b"),
        ("weeks", rf"\b(?:within|in)\s+{_N}\s+weeks?\b"),
        ("eod", r"\b(?:end\s+of\s+(?:the\s+)?day|eod|today|tonight)\b"),
        ("cob", r"\b(?:close\s+of\s+business|cob)\b"),
        ("tomorrow", r"\btomorrow\b"),
        (
            "weekday",
            r"\b(?:(next|this)\s+)?(monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|"
            r"thu|friday|fri|saturday|sat|sunday|sun)\b\.?",
        ),
    )
)


@dataclass(frozen=True)
class DatedPhrase:
    """One dated phrase found in a text, with the moment it proposes."""

    text: str  # the words as written
    due: datetime  # aware, in the call's zone
    ambiguous: str = ""  # another reading, when there is one
    past: bool = False  # already over when it was said

    def describe(self) -> str:
        extra = []
        if self.ambiguous:
            extra.append(f"or {self.ambiguous}?")
        if self.past:
            extra.append("already past when said")
        return f"'{self.text}'" + (f" ({'; '.join(extra)})" if extra else "")


def find_dated_phrases(text: str, said_at: datetime, tz: str) -> list[DatedPhrase]:
    """Every dated phrase in ``text``, read relative to ``said_at`` in ``tz``; earliest first."""
    import pendulum

    if not text or not text.strip():
        return []
    anchor = pendulum.instance(said_at).in_timezone(tz)
    taken: list[tuple[int, int]] = []
    found: list[DatedPhrase] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue  # "11/24" inside an ISO date or a longer phrase already read
            phrase = _read(kind, match, anchor, tz)
            if phrase is not None:
                taken.append(span)
                found.append(phrase)
    return sorted(found, key=lambda p: p.due)


def _read(
    kind: str, match: re.Match[str], anchor: pendulum.DateTime, tz: str
) -> DatedPhrase | None:
    words = match.group(0).strip()
    today: date = anchor.date()
    if kind == "iso":
        day = _date(*(int(g) for g in match.groups()))
        return _on_day(words, day, today, tz) if day else None
    if kind == "slash":
        return _slash(words, match, today, tz)
    if kind in ("month_day", "day_month"):
        month_name, day_text = match.groups() if kind == "month_day" else reversed(match.groups())
        return _month_day(words, _MONTHS[month_name.lower()], int(day_text), today, tz)
    if kind in ("hours", "hours_short"):
        hours = _number(match.group(1))
        if not 1 <= hours <= 240:
            return None
        due = anchor.in_timezone("UTC").add(hours=hours).in_timezone(tz)
        return DatedPhrase(words, due)
    if kind in ("business", "business_bare"):
        days = _number(match.group(1))
        return _end(words, add_business_days(today, days), tz) if 0 < days <= 60 else None
    if kind == "days":
        days = _number(match.group(1))
        return _end(words, today + timedelta(days=days), tz) if 0 < days <= 366 else None
    if kind == "weeks":
        weeks = _number(match.group(1))
        return _end(words, today + timedelta(weeks=weeks), tz) if 0 < weeks <= 52 else None
    if kind == "eod":
        return _end(words, today, tz)
    if kind == "cob":
        return _at(words, today, 17, tz)
    if kind == "tomorrow":
        return _end(words, today + timedelta(days=1), tz)
    if kind == "weekday":
        return _weekday(words, match, today, tz)
    return None


def _slash(words: str, match: re.Match[str], today: date, tz: str) -> DatedPhrase | None:
    first, second, year_text = match.groups()
    month, day = int(first), int(second)
    year = None
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    us = _with_year(month, day, year, today)
    if us is None:
        # 24/11: only the day/month reading exists.
        swapped = _with_year(day, month, year, today)
        return _on_day(words, swapped, today, tz) if swapped else None
    other = ""
    if month != day and day <= 12:
        alt = _with_year(day, month, year, today)
        if alt is not None:
            other = alt.strftime("%a %d %b %Y")
    phrase = _on_day(words, us, today, tz)
    return DatedPhrase(phrase.text, phrase.due, other, phrase.past)


def _month_day(words: str, month: int, day: int, today: date, tz: str) -> DatedPhrase | None:
    found = _with_year(month, day, None, today)
    return _on_day(words, found, today, tz) if found else None


def _weekday(words: str, match: re.Match[str], today: date, tz: str) -> DatedPhrase:
    qualifier, name = match.group(1), match.group(2).lower()
    target = _WEEKDAY_ABBR[name[:3]]
    ahead = (target - today.weekday()) % 7
    ambiguous = ""
    if ahead == 0:
        ahead = 7
        ambiguous = f"today, {today.strftime('%a %d %b')}"
    elif qualifier and qualifier.lower() == "next" and ahead < 7:
        # "next Friday" said on a Tuesday: this week's or the one after? Read as this week's
        # (the earlier, safer date) and say so.
        later = today + timedelta(days=ahead + 7)
        ambiguous = later.strftime("%a %d %b")
    return DatedPhrase(words, _end_of(today + timedelta(days=ahead), tz), ambiguous)


def _with_year(month: int, day: int, year: int | None, today: date) -> date | None:
    if year is not None:
        return _date(year, month, day)
    candidate = _date(today.year, month, day)
    if candidate is None:
        # 29 February in a year without one: the next year that has it, within four years.
        for offset in range(1, 5):
            found = _date(today.year + offset, month, day)
            if found is not None:
                return found
        return None
    if candidate >= today or (today - candidate).days <= 31:
        return candidate  # upcoming, or just past (flagged by the caller)
    return _date(today.year + 1, month, day)


def _on_day(words: str, day: date, today: date, tz: str) -> DatedPhrase:
    return DatedPhrase(words, _end_of(day, tz), past=day < today)


def _end(words: str, day: date, tz: str) -> DatedPhrase:
    return DatedPhrase(words, _end_of(day, tz))


def _at(words: str, day: date, hour: int, tz: str) -> DatedPhrase:
    import pendulum

    return DatedPhrase(words, pendulum.datetime(day.year, day.month, day.day, hour, tz=tz))


def _end_of(day: date, tz: str) -> datetime:
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, 23, 59, 59, tz=tz)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _number(text: str) -> int:
    text = text.lower()
    return _NUMBER_WORDS[text] if text in _NUMBER_WORDS else int(text)
