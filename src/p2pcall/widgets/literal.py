"""Editors that never send raw control characters to the terminal.

The stored value stays exactly what was typed or pasted; only what is drawn is masked,
one character for one so cursor positions still line up.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, TextArea

from p2pcall.domain.text import mask_controls


class LiteralInput(Input):
    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        return Text(mask_controls(self.value), no_wrap=True, overflow="ignore", end="")


class LiteralTextArea(TextArea):
    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        masked = mask_controls(line.plain)
        if masked == line.plain:
            return line
        plain = Text(masked, end="")
        plain.spans = list(line.spans)
        return plain
