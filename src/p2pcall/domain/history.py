"""Finding past calls: the filter a user gives, and its safe translation for the store.

Pure Python (pendulum only inside functions) so the CLI, the TUI and the tests share the
same rules for dates, outcomes and search text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from p2pcall.domain.models import SearchMatch
from p2pcall.domain.sections import Section
from p2pcall.domain.text import one_line
from p2pcall.domain.vocab import Outcome

UNFINISHED = "unfinished"  # pseudo-outcome: calls that have not been ended yet

# unicode61 (the FTS tokenizer) keeps letters, digits and private-use characters in a
# token and treats everything else as a separator; searching for the same runs here means
# quotes, operators, brackets and emoji in the user's text never reach FTS5 as syntax.
_WORD = re.compile(r"[^\W_]+")


MIN_PREFIX = 2  # the FTS tables keep prefix indexes for 2 and 3 characters


class FilterError(ValueError):
    """A filter value the user typed cannot be understood; the message says why."""


@dataclass(frozen=True)
class HistoryFilter:
    """What to list. Empty values mean "any".

    insurer: case-insensitive substring of the insurer field ("aetna" finds "Aetna Better
        Health"). Case folding is SQLite's LIKE: ASCII letters only.
    outcome: an Outcome value, or UNFINISHED for calls not yet ended.
    since/until: calendar days in `tz` (the practice's time zone), both inclusive, compared
        with the call's start.
    search: words to find in notes and fields; all words must occur in the same note or
        field, the last one as a prefix ("cred" finds "credentials").
    """

    insurer: str = ""
    outcome: str = ""
    since: date | None = None
    until: date | None = None
    search: str = ""
    tz: str | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.insurer.strip() or self.outcome or self.since or self.until or self.fts_query
        )

    @property
    def fts_query(self) -> str | None:
        return fts_query(self.search)


def outcome_choices() -> list[str]:
    return [member.value for member in Outcome] + [UNFINISHED]


def parse_outcome(text: str) -> str:
    """An Outcome value (or UNFINISHED) from its value or label, any case; FilterError else."""
    wanted = text.strip().casefold().replace("-", "_").replace(" ", "_")
    if not wanted:
        return ""
    if wanted in (UNFINISHED, "in_progress", "open"):
        return UNFINISHED
    for member in Outcome:
        if wanted in (member.value, member.label.casefold().replace(" ", "_")):
            return member.value
    aliases = {"partial": Outcome.PARTIAL, "educational": Outcome.EDUCATIONAL}
    if wanted in aliases:
        return aliases[wanted].value
    raise FilterError(
        f"unknown outcome {one_line(text, 40)!r}; use one of: {', '.join(outcome_choices())}"
    )


def parse_day(text: str, what: str = "date") -> date:
    """A calendar day written YYYY-MM-DD; FilterError with a readable message else."""
    cleaned = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        try:
            return date.fromisoformat(cleaned)
        except ValueError:
            pass
    raise FilterError(f"{what} {one_line(text, 40)!r} is not a date; write it as YYYY-MM-DD")


def utc_bounds(flt: HistoryFilter) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC for the filter's days: local midnight to the midnight after."""
    import pendulum

    from p2pcall.domain.timefmt import local_tz_name

    tz = flt.tz or local_tz_name()

    def midnight(day: date) -> datetime | None:
        try:
            return pendulum.datetime(day.year, day.month, day.day, tz=tz).in_timezone("UTC")
        except OverflowError:  # 0001-01-01 east of UTC is before the first representable day
            return None

    start = midnight(flt.since) if flt.since else None
    end = None
    # The next local day's midnight, not +24 h: a DST change makes some days 23 or 25 hours.
    # Up to 9999-12-31 means "no end" (there is no next day to stop at).
    if flt.until and flt.until < date.max:
        end = midnight(flt.until + timedelta(days=1))
    return start, end


def search_words(text: str) -> list[str]:
    return _WORD.findall(text)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for what the user typed, or None if it has no words.

    Every word becomes a quoted string (so AND, OR, NEAR, *, ^, : and quotes are just text),
    all must match; the last word matches as a prefix unless the text ends with a space.
    Symbols after the last word (`cred*`, `cred"`, `cred.`) are not a space: still a prefix.
    The history screen and `p2pcall list --search` both build their query here.
    """
    words = search_words(text)
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    # A one-letter prefix would merge the postings of thousands of words on every query.
    if len(words[-1]) >= MIN_PREFIX and not text[-1:].isspace():
        quoted[-1] += "*"
    return " ".join(quoted)


def _fold(char: str) -> str:
    """One character folded the way the index folds it (case, diacritics), length kept."""
    base = unicodedata.normalize("NFD", char)[:1] or char
    lowered = base.lower()
    return lowered if len(lowered) == 1 else base


def snippet(text: str, search: str, width: int = 60) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A one-line excerpt of `text` around the first searched word, with the words marked.

    Works on what the user typed (not FTS5's snippet(), which re-runs the whole MATCH per
    row): words are found case- and accent-insensitively at word starts; the last word as
    a prefix when the search is a prefix search. Control characters are masked.
    """
    words = ["".join(_fold(c) for c in word) for word in search_words(search) if word]
    folded = "".join(_fold(c) for c in text)
    prefix_last = (fts_query(search) or "").endswith("*")
    spans: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        tail = "" if prefix_last and index == len(words) - 1 else r"(?![^\W_])"
        for found in re.finditer(rf"(?<![^\W_]){re.escape(word)}{tail}", folded):
            spans.append(found.span())
    spans.sort()
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 4, len(text) - width))
    # Cut at a word start so the excerpt does not begin mid-word (the text's own start
    # counts as one: rfind gives -1 there).
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if first - space < width // 2 else start
    line = "\u2026" if start > 0 else ""
    marks: list[tuple[int, int]] = []
    cursor = start
    for a, b in spans:
        if a < cursor or b > start + width:
            continue
        line += one_line(text[cursor:a])
        shown = one_line(text[a:b])
        marks.append((len(line), len(line) + len(shown)))
        line += shown
        cursor = b
    line += one_line(text[cursor : start + width])
    if start + width < len(text):
        line += "\u2026"
    return line, tuple(marks)


def note_match(search: str, section: str, body: str) -> SearchMatch:
    """Where a call matched: a note (its section), with the words marked in an excerpt."""
    line, marks = snippet(body, search)
    return SearchMatch("note", Section(section), line, marks)


def field_match(search: str, key: str, value: str) -> SearchMatch:
    """Where a call matched: a field (its key), with the words marked in an excerpt."""
    line, marks = snippet(value, search)
    return SearchMatch(key, None, line, marks)
