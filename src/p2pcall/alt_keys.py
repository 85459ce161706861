"""Alt+letter stays Alt+letter when more keys follow it in the same read.

A terminal sends Alt+M as ESC m. Textual's input reader (`XTermParser`, 8.2) decides what an
ESC starts by reading on: alone (nothing more within its escape delay) ESC m is Alt+M, but
when more keys arrive in the same read (a burst over SSH, a fast typist) it keeps reading,
finds no known sequence, and gives the bytes back as typed text with the ESC shown as "^":
`Alt+M` then "Will fax" became the note "^mWill fax" instead of a commitment.

Before the reader sees them, ESC + lowercase letter are rewritten as the same key in the
unambiguous CSI u form (ESC [ 109 ; 3 u is Alt+M), which the reader matches at once. ESC b and
ESC f are left alone: the reader already maps them (word moves, as macOS terminals send
them). An ESC at the very end of one read followed by the letter in the next is not seen
(the reader then behaves as before).
"""

from __future__ import annotations

import re

_ALT_LETTER = re.compile("\x1b([ac-eg-z])")
ALT_MODIFIER = 3  # CSI u modifiers are 1 + bits; Alt is bit 1


def _as_csi_u(match: re.Match[str]) -> str:
    return f"\x1b[{ord(match[1])};{ALT_MODIFIER}u"


def alt_letters_as_csi_u(keys: str) -> str:
    """Key input (never pasted text) with each ESC + letter written as CSI u Alt+letter."""
    return _ALT_LETTER.sub(_as_csi_u, keys) if "\x1b" in keys else keys
