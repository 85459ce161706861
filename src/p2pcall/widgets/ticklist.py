"""A SelectionList whose boxes say whether they are ticked without relying on colour."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList

from p2pcall.textual_compat import toggle_box_inner

TICKED = "X"
UNTICKED = " "


class TickList(SelectionList[str]):
    """Textual draws every box with the same "X" and tells them apart by colour alone: on a
    monochrome or low-contrast terminal the wrap-up plan could not be read. Here an
    unticked box is empty."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 4 or segments[1].text != toggle_box_inner():
            return strip  # past the last option: no box on this line
        _x, scroll_y = self.scroll_offset
        option = self.get_option_at_index(scroll_y + y)
        mark = TICKED if option.value in self.selected else UNTICKED
        segments[1] = Segment(mark, segments[1].style)
        return Strip(segments, strip.cell_length)
