"""Under section B's fields: known reviewers matching the name typed, or the linked one's
track record. Text only (user text shown literally through Content, never markup)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from p2pcall.domain.reviewers import Reviewer, TrackRecord
from p2pcall.domain.text import one_line

LINK_KEYS = "Alt+L links \u00b7 Alt+J next"


class ReviewerPanel(Static):
    DEFAULT_CSS = """
    ReviewerPanel {
        height: auto;
        max-height: 9;
        color: $text-muted;
        display: none;
        border-bottom: hkey $panel-lighten-2;
    }
    ReviewerPanel.-shown { display: block; }
    ReviewerPanel.-linked { color: $text; }
    """

    lines: tuple[str, ...] = ()

    def show_lines(self, lines: list[str], *, linked: bool) -> None:
        # Each line visible as one line of text; long ones wrap (the panel grows to 4 lines).
        self.lines = tuple(one_line(line) for line in lines)
        self.set_class(bool(lines), "-shown")
        self.set_class(linked, "-linked")
        self.update(Content("\n".join(self.lines)))

    def show_suggestions(self, typed: str, found: list[Reviewer], selected: int) -> None:
        if not typed.strip():
            self.show_lines([], linked=False)
            return
        total = len(found) + 1  # the last choice: record a new reviewer
        if selected < len(found):
            choice = "\u25b6 " + found[selected].summary()
        else:
            choice = f"\u25b6 New reviewer: {' '.join(typed.split())}"
        if not found:
            head = "No known reviewer by that name."
            keys = "Alt+L records a new reviewer from these fields"
        else:
            head = f"Known {selected + 1}/{total}:"
            following = selected + 1
            upcoming = found[following].name if following < len(found) else "new reviewer"
            if following >= total:
                upcoming = found[0].name
            keys = f"{LINK_KEYS}: {upcoming}"
        self.show_lines([f"{head} {choice}", keys], linked=False)

    def show_linked(self, reviewer: Reviewer, record: TrackRecord) -> None:
        keys = "Alt+H calls, Alt+U undo" if record.earlier_calls else "Alt+U undo"
        lines = [f"\u2713 {reviewer.short()} ({keys})", *record.lines()]
        self.show_lines(lines, linked=True)

    def clear(self) -> None:
        self.show_lines([], linked=False)
