"""An option list whose highlighted line carries a shape, not only a colour."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import OptionList

MARK = "\u25b6 "  # ▶ before the highlighted option
NO_MARK = "  "


class MarkedOptionList(OptionList):
    """Each option's prompt is plain text; the highlighted one starts with ▶.

    Telling the highlighted line by colour alone fails on monochrome terminals, for colour-blind
    users, and at a glance: the end-call dialog's outcome was picked that way.
    """

    def __init__(self, *prompts: tuple[str, str], **kwargs: Any) -> None:
        from textual.widgets.option_list import Option

        self._prompts = {option_id: text for option_id, text in prompts}
        self._marked: int | None = None
        super().__init__(
            *[Option(Content(NO_MARK + text), id=option_id) for option_id, text in prompts],
            **kwargs,
        )

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if self._marked is not None and self._marked != highlighted:
            self._set_mark(self._marked, False)
        if highlighted is not None:
            self._set_mark(highlighted, True)
        self._marked = highlighted

    def _set_mark(self, index: int, on: bool) -> None:
        if not 0 <= index < self.option_count:
            return
        option = self.get_option_at_index(index)
        text = self._prompts.get(option.id or "", "")
        self.replace_option_prompt_at_index(index, Content((MARK if on else NO_MARK) + text))
