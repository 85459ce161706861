"""Letters as PDF on US Letter pages, through fpdf2 and a Unicode font shipped on PyPI.

Outside the domain package because it needs fpdf2 and a font file; imported only when a PDF
is asked for. The PDF's metadata holds the letter's kind and p2pcall, never record text: a
title or subject is what file managers and mail clients show without opening the file.

Font: Source Serif Pro from the `font-source-serif-pro` package (SIL Open Font License),
found through the package's location without importing it. A character the font has no
glyph for is printed as <U+XXXX> rather than dropped, so a quote is never silently changed.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from p2pcall.domain.letters.model import (
    Bullets,
    Heading,
    Letter,
    Lines,
    Para,
    Quote,
    flat,
)

PAGE = "Letter"  # 8.5 x 11 in, 612 x 792 pt
MARGIN = 72  # one inch
SIZE = 11
LEAD = 14.5  # line height, pt
FONT_PACKAGE = "font_source_serif_pro"
REGULAR = "SourceSerifPro-Regular.ttf"
BOLD = "SourceSerifPro-Bold.ttf"


class LetterPdfError(Exception):
    """The PDF cannot be made (font missing); the message says what to install."""


@cache
def _font_dir() -> Path:
    spec = importlib.util.find_spec(FONT_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = Path(location) / "files"
        if (folder / REGULAR).is_file() and (folder / BOLD).is_file():
            return folder
    raise LetterPdfError(
        "The PDF font is missing: install p2pcall's dependencies again "
        "(pip install font-source-serif-pro)."
    )


@cache
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(_font_dir() / REGULAR, lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable(text: str) -> str:
    """Text the font can draw: every other character as <U+XXXX>, line breaks kept."""
    covered = _covered()
    return "".join(ch if ch == "\n" or ord(ch) in covered else f"<U+{ord(ch):04X}>" for ch in text)


def _new_pdf(created: datetime):
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="pt", format=PAGE)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    folder = _font_dir()
    pdf.add_font("Serif", "", str(folder / REGULAR))
    pdf.add_font("Serif", "B", str(folder / BOLD))
    pdf.set_creator("p2pcall")
    pdf.set_producer("p2pcall")
    pdf.set_creation_date(created.astimezone(UTC))
    pdf.add_page()
    pdf.set_font("Serif", "", SIZE)
    return pdf


def _text(pdf, text: str, *, bold: bool = False, indent: float = 0, gap: float = LEAD / 2):
    from fpdf.enums import XPos, YPos

    pdf.set_font("Serif", "B" if bold else "", SIZE)
    pdf.set_x(MARGIN + indent)
    pdf.multi_cell(
        pdf.epw - indent, LEAD, printable(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    if gap:
        pdf.ln(gap)


def _finish(pdf, title: str) -> bytes:
    pdf.set_title(title)  # the kind of letter only: no record text in the metadata
    return bytes(pdf.output())


def letter_pdf(letter: Letter, created: datetime) -> bytes:
    """The letter as a PDF: headings bold, paragraphs wrapped, lists indented."""
    pdf = _new_pdf(created)
    for block in letter.blocks():
        if isinstance(block, Heading):
            if pdf.get_y() > pdf.h - MARGIN - 4 * LEAD:  # keep a heading with what follows
                pdf.add_page()
            _text(pdf, block.title, bold=True, gap=2)
        elif isinstance(block, Para):
            _text(pdf, block.text())
        elif isinstance(block, Bullets):
            for item in block.items:
                pdf.set_x(MARGIN + 12)
                pdf.cell(12, LEAD, "\u2022")
                _text(pdf, flat(item), indent=24, gap=2)
            pdf.ln(LEAD / 2 - 2)
        elif isinstance(block, Quote):
            _text(pdf, f"{block.lead} \u201c{block.words}\u201d", indent=24)
        elif isinstance(block, Lines) and block.lines:
            _text(pdf, "\n".join(flat(line) for line in block.lines))
    return _finish(pdf, letter.title)


def text_pdf(text: str, title: str, created: datetime) -> bytes:
    """A letter the user edited as plain text: each line as typed, wrapped if too long."""
    pdf = _new_pdf(created)
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        if paragraph.strip("\n"):
            _text(pdf, paragraph.strip("\n"))
    return _finish(pdf, title)
