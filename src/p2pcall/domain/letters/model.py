"""The letter document model: what a letter says, apart from how it is printed.

A letter is a list of blocks (headings, paragraphs, lists, quotes) made of inline pieces:
plain text, a `Blank` that says what goes there, or a `Check` the clinician must act on
and delete. The same model renders to plain text and Markdown here, and to PDF in
`p2pcall.letterpdf`, so the three formats always say the same thing.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

WIDTH = 76
BLANK_OPEN = "[to fill in: "
CHECK_OPEN = "[check: "
DRAFT_LINE = (
    "DRAFT: fill in every [to fill in: ...], act on and delete every [check: ...], read "
    "every line, then delete this paragraph."
)


@dataclass(frozen=True)
class Blank:
    """Something the record does not hold; `what` tells the clinician what goes there."""

    what: str

    def text(self) -> str:
        return f"{BLANK_OPEN}{self.what}]"


@dataclass(frozen=True)
class Check:
    """An instruction to the clinician, to act on and delete before sending."""

    what: str

    def text(self) -> str:
        return f"{CHECK_OPEN}{self.what}]"


Inline = str | Blank | Check


def flat(pieces: tuple[Inline, ...] | list[Inline]) -> str:
    return "".join(p if isinstance(p, str) else p.text() for p in pieces)


@dataclass(frozen=True)
class Para:
    pieces: tuple[Inline, ...]

    def text(self) -> str:
        return flat(self.pieces)


@dataclass(frozen=True)
class Heading:
    title: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Quote:
    """The reviewer's words as noted: `lead` says when, `words` is the note itself."""

    lead: str
    words: str


@dataclass(frozen=True)
class Lines:
    """Lines kept as they are (addresses, the signature block)."""

    lines: tuple[tuple[Inline, ...], ...]


Block = Para | Heading | Bullets | Quote | Lines


def para(*pieces: Inline) -> Para:
    return Para(tuple(p for p in pieces if p != ""))


@dataclass
class Letter:
    """One letter: its kind, the header lines, the body, the closing and signature."""

    kind: str
    title: str  # e.g. "Written confirmation of the peer-to-peer call"
    sender: Lines
    date: str
    recipient: Lines
    reference: Lines  # the Re: block
    salutation: str
    body: list[Block] = field(default_factory=list)
    closing: str = "Sincerely,"
    signature: Lines = field(default_factory=lambda: Lines(()))
    enclosures: tuple[tuple[Inline, ...], ...] = ()

    def blocks(self) -> list[Block]:
        """Every block in reading order, header and signature included."""
        out: list[Block] = [
            Para((DRAFT_LINE,)),
            self.sender,
            Para((self.date,)),
            self.recipient,
            self.reference,
            Para((self.salutation,)),
            *self.body,
            Para((self.closing,)),
            self.signature,
        ]
        if self.enclosures:
            out += [Heading("Enclosures"), Bullets(self.enclosures)]
        return out


# -- plain text ---------------------------------------------------------------------------


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    out: list[str] = []
    for index, line in enumerate(text.split("\n")):
        lead = first if index == 0 else rest
        out += textwrap.wrap(
            line,
            WIDTH,
            initial_indent=lead,
            subsequent_indent=rest,
            break_on_hyphens=False,
            break_long_words=True,
        ) or [lead.rstrip()]
    return out


def render_text(letter: Letter) -> str:
    """The letter as plain text, wrapped at 76 columns; blocks apart by one empty line."""
    chunks: list[list[str]] = []
    for block in letter.blocks():
        if isinstance(block, Heading):
            chunks.append([block.title, "-" * len(block.title)])
        elif isinstance(block, Para):
            chunks.append(_wrap(block.text()))
        elif isinstance(block, Bullets):
            lines: list[str] = []
            for item in block.items:
                lines += _wrap(flat(item), "  - ", "    ")
            chunks.append(lines)
        elif isinstance(block, Quote):
            chunks.append(_wrap(f"{block.lead} \u201c{block.words}\u201d", "  ", "    "))
        elif isinstance(block, Lines) and block.lines:
            chunks.append([ln for line in block.lines for ln in _wrap(flat(line))])
    # A heading sits directly on what follows it.
    out: list[str] = []
    previous_heading = False
    for chunk, block in zip(chunks, [b for b in letter.blocks() if _shown(b)], strict=True):
        if out and not previous_heading:
            out.append("")
        out += chunk
        previous_heading = isinstance(block, Heading)
    return "\n".join(line.rstrip() for line in out) + "\n"


def _shown(block: Block) -> bool:
    return not (isinstance(block, Lines) and not block.lines)


# -- Markdown -----------------------------------------------------------------------------


def _md(pieces: tuple[Inline, ...] | list[Inline]) -> str:
    from p2pcall.domain.export.markdown import md_text

    return md_text(flat(pieces))


def render_markdown(letter: Letter) -> str:
    """The letter as CommonMark; everything from the record is escaped to render literally."""
    from p2pcall.domain.export.markdown import md_text

    out: list[str] = []
    for block in letter.blocks():
        if isinstance(block, Heading):
            out.append(f"### {md_text(block.title)}")
        elif isinstance(block, Para):
            out.append(_md(block.pieces))
        elif isinstance(block, Bullets):
            out.append("\n".join(f"- {_md(item)}" for item in block.items))
        elif isinstance(block, Quote):
            out.append(f"> {md_text(block.lead)} \u201c{md_text(block.words)}\u201d")
        elif isinstance(block, Lines) and block.lines:
            out.append("\\\n".join(_md(line) for line in block.lines))
    return "\n\n".join(out) + "\n"


def plain_to_markdown(text: str) -> str:
    """A letter the user edited as plain text, written as Markdown that shows it as typed:
    paragraphs stay apart, line breaks inside a paragraph become hard breaks."""
    from p2pcall.domain.export.markdown import md_text

    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "\n\n".join(md_text(p.strip("\n")) for p in paragraphs) + "\n"
