"""User text shown literally: control characters and invisible direction marks made visible.

Rich and Textual strip only a few control characters, so an escape sequence pasted into a
note would otherwise reach the terminal. Everything we show of user text goes through here.
"""

from __future__ import annotations

# How much one note or field may hold. A note's limit is about 30 pages: room for any
# quote or pasted letter, while a terminal editor stays responsive (a 1 MB paste took
# Textual's TextArea 4-11 s to lay out, and longer to draw). Larger pastes are refused
# with a message; the text already in the field stays as it was.
MAX_NOTE_CHARS = 100_000
MAX_FIELD_CHARS = 2_000
# A saved note longer than this shows its beginning and how much more is kept.
SHOWN_NOTE_CHARS = 2_000

# Characters that reorder or hide text (Trojan Source style): shown by code point.
_BIDI_AND_INVISIBLE = {
    0x061C, 0x200B, 0x200E, 0x200F, 0x2028, 0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0xFEFF,
}  # fmt: skip


# Characters that join or restyle the emoji before them. Terminals and Rich disagree on the
# width of the result (tmux draws "👍🏽" in 4 cells, Rich counts 2; "❤️" 1 cell against 2), and
# each cell of disagreement pushed a dialog's right border over. Shown split instead, in
# pieces whose width everyone agrees on: the joiner (ZWJ) and the emoji/text presentation
# selectors are left out of what is drawn (they are invisible anyway: "👩‍⚕️" reads 👩⚕),
# skin-tone modifiers and tag characters, which Rich counts as zero cells, by code point.
_JOINERS = {0x200D, 0xFE0E, 0xFE0F}
_ZERO_WIDTH_EMOJI_PARTS = {*range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}


def _visible_char(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: NUL -> ␀, ESC -> ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    if code in _JOINERS:
        return ""
    if 0x80 <= code <= 0x9F or code in _BIDI_AND_INVISIBLE or code in _ZERO_WIDTH_EMOJI_PARTS:
        return f"<U+{code:04X}>"
    return char


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """The text with every control character replaced by a visible stand-in.

    Newlines (and tabs, as spaces) are kept when `keep_newlines` is set, for multi-line
    notes; otherwise they become ⏎ so a one-line view stays one line.
    """
    out: list[str] = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char == "\t":
            out.append("    " if keep_newlines else " ")
        elif char == "\n":
            out.append("\u23ce ")
        else:
            out.append(_visible_char(char))
    return "".join(out)


def one_line(text: str, width: int | None = None) -> str:
    """A single visible line, cut with an ellipsis at `width` characters."""
    line = visible(text, keep_newlines=False)
    if width is not None and len(line) > width:
        return line[: max(0, width - 1)] + "\u2026"
    return line


def mask_controls(text: str) -> str:
    """Visible stand-ins, one character for one, for editors that track cursor offsets.

    Control characters become control pictures (ESC -> ␛); C1 controls, invisible or
    direction-changing characters, and the parts that join emoji (ZWJ, variation selectors,
    skin tones: see _JOINERS) become U+FFFD, one cell wide for Rich and every terminal.
    Newlines are kept.
    """
    return text.translate(_MASK)


_MASK: dict[int, str] = {
    **{code: chr(0x2400 + code) for code in range(0x20) if code != 0x0A},
    0x7F: "\u2421",
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
    **{code: "\ufffd" for code in _BIDI_AND_INVISIBLE},
    **{code: "\ufffd" for code in _JOINERS | _ZERO_WIDTH_EMOJI_PARTS},
}


def count(n: int, noun: str) -> str:
    """'1 note', '2 notes'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def too_long(what: str, size: int, limit: int) -> str:
    """The message for text over a limit, in words the user can act on."""
    return (
        f"{what} would be {size:,} characters; it can hold {limit:,}. Nothing was changed: "
        "split the text, or keep the document itself and note where it is."
    )


def shown_note(body: str) -> str:
    """A note's text for the screen: visible, and cut after SHOWN_NOTE_CHARS."""
    if len(body) <= SHOWN_NOTE_CHARS:
        return visible(body)
    rest = len(body) - SHOWN_NOTE_CHARS
    return f"{visible(body[:SHOWN_NOTE_CHARS])}\u2026 [{rest:,} more characters, kept in full]"
