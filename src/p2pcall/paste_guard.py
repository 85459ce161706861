"""Pasted text stays text, even when it holds escape sequences.

Textual's input reader (`XTermParser`, 8.2) handles an ESC inside a bracketed paste as the
start of a key sequence and turns what follows into key presses: a pasted `ESC ] 0 ; ...
BEL` arrives as stray keys plus Ctrl+G, and a crafted clipboard could press Enter in a
dialog. Terminals such as tmux 3.3 pass ESC inside pastes unchanged.

The guard sits in front of that reader: between the paste markers (ESC [200~ ... ESC
[201~) each ESC is swapped for a private-use stand-in, so the reader sees plain text; the
Paste event it produces gets the ESC back. The note then holds exactly what was pasted.
Limits: a U+E01B in pasted text itself also becomes ESC, and a paste-start marker split
across two reads is not seen (the reader then behaves as before).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import events

from p2pcall.alt_keys import alt_letters_as_csi_u
from p2pcall.textual_compat import XTermParser, use_input_parser

ESC = "\x1b"
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
ESC_STAND_IN = "\ue01b"


def _partial_end(text: str, marker: str) -> int:
    """Length of the longest tail of `text` that is a proper beginning of `marker`."""
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


class PasteGuardParser(XTermParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_paste = False
        self._held = ""  # inside a paste: a tail that may be the start of the end marker

    def feed(self, data: str) -> Iterable[Any]:
        guarded = self.guard(data) if data else ""  # "" is end of input: pass it on
        for event in super().feed(guarded):
            if isinstance(event, events.Paste) and ESC_STAND_IN in event.text:
                event = events.Paste(event.text.replace(ESC_STAND_IN, ESC))
            yield event

    def guard(self, data: str) -> str:
        text, self._held = self._held + data, ""
        out: list[str] = []
        position = 0
        while position < len(text):
            if not self._in_paste:
                start = text.find(PASTE_START, position)
                if start == -1:
                    # keys: never held back (a lone Esc)
                    out.append(alt_letters_as_csi_u(text[position:]))
                    break
                out.append(alt_letters_as_csi_u(text[position:start]) + PASTE_START)
                position = start + len(PASTE_START)
                self._in_paste = True
            else:
                end = text.find(PASTE_END, position)
                if end == -1:
                    rest = text[position:]
                    keep = _partial_end(rest, PASTE_END)
                    out.append(rest[: len(rest) - keep].replace(ESC, ESC_STAND_IN))
                    self._held = rest[len(rest) - keep :]
                    break
                out.append(text[position:end].replace(ESC, ESC_STAND_IN) + PASTE_END)
                position = end + len(PASTE_END)
                self._in_paste = False
        return "".join(out)


def install_paste_guard() -> None:
    """Make Textual's terminal drivers read input through PasteGuardParser."""
    use_input_parser(PasteGuardParser)
