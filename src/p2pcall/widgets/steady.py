"""A Static whose updates lay out the screen only when its shape changes."""

from __future__ import annotations

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Static


class SteadyStatic(Static):
    """A Static whose updates lay out the screen only when its lines' widths change.

    A full layout walks every widget on the screen; the clock ticks every second, the save
    mark and a note's own mark change on every note, and none of them needs one unless a
    line grows or shrinks (the same widths wrap the same way).
    """

    _shown_shape: tuple[int, ...] | None = None

    def show_content(self, content: Content) -> None:
        shape = tuple(cell_len(line) for line in content.plain.split("\n"))
        self.update(content, layout=shape != self._shown_shape)
        self._shown_shape = shape
