"""Editors that never send raw control characters to the terminal.

The stored value stays exactly what was typed or pasted; only what is drawn is masked,
one character for one so cursor positions still line up.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import Input, TextArea

from p2pcall.domain.text import MAX_FIELD_CHARS, mask_controls, too_long

NEWLINE_SHOWN = "\u2424"  # ␤: a line break inside a one-line field


def _one_line(value: str) -> str:
    return mask_controls(value).replace("\n", NEWLINE_SHOWN)


class LiteralInput(Input):
    """A one-line field that keeps every pasted line: breaks are stored, shown as ␤."""

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(_one_line(self.value), no_wrap=True, overflow="ignore", end="")
        room = self.scrollable_content_region.width
        if not self.has_focus and room > 1 and text.cell_len > room:
            # Left alone and too long: end with … so a cut value never reads as whole.
            text.truncate(room, overflow="ellipsis")
        return text

    def _position_to_cell(self, position: int) -> int:
        # Measured on what is drawn: a control character is one cell (␛), not zero.
        if self.password:
            return super()._position_to_cell(position)
        return cell_len(_one_line(self.value[:position]))

    def _on_blur(self, event: events.Blur) -> None:
        # Left alone, a narrow field keeps showing the end of a long value ("lan Okafor" for
        # "Dr. Alan Okafor"): show its start. Input's own blur handler runs as well.
        self.cursor_position = 0

    def _on_focus(self, event: events.Focus) -> None:
        # Back in the field, the cursor goes to the end, ready to add to what is there.
        # A field with select_on_focus keeps Input's own choice: everything selected.
        if not self.select_on_focus:
            self.cursor_position = len(self.value)

    async def _on_key(self, event: events.Key) -> None:
        # Alt+letter carries its letter as a character, so Input would type it: Alt+Q (quote)
        # pressed in a field put a "q" there. It is a command: let it reach the bindings.
        if event.key.startswith("alt+"):
            event.prevent_default()

    def _on_paste(self, event: events.Paste) -> None:
        # Input's own handler keeps only the first line of a paste; this one runs instead.
        event.prevent_default()
        event.stop()
        text = event.text.replace("\r\n", "\n")
        size = len(self.value) - len(self.selected_text) + len(text)
        if size > MAX_FIELD_CHARS:
            self.notify(too_long("The field", size, MAX_FIELD_CHARS), severity="error")
            return
        if self.selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)


class LiteralTextArea(TextArea):
    async def _on_key(self, event: events.Key) -> None:
        # As in LiteralInput: Alt+letter is a command (Alt+Q quote), never the letter typed.
        # TextArea's own handler runs after this one unless prevented.
        if event.key.startswith("alt+"):
            event.prevent_default()

    def get_line(self, line_index: int) -> Text:
        # From the document, not TextArea.get_line: its rich Text drops BEL, BS, VT, FF and
        # CR without a trace, so they would be invisible and the cursor would drift.
        masked = mask_controls(self.document.get_line(line_index))
        return Text(masked, end="", no_wrap=True)
