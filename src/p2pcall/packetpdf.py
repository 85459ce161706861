"""The evidence packet as a PDF, on the letters' pages and font (`letterpdf`).

For reading and printing: the same parts as the text packet (filter, summary, list of calls,
then each record as the text export, its digest line included), headings in bold. The PDF's
metadata says only that it is a p2pcall evidence packet, never record text. `p2pcall verify`
checks the text, Markdown and JSON packets; a PDF's records carry the same chain heads and
text-export digests, which a reader can compare with those.
"""

from __future__ import annotations

import textwrap
from typing import Any

from p2pcall.domain.export import common as c
from p2pcall.domain.packet.kind import TEXT_TITLE
from p2pcall.domain.packet.model import INTRO, Packet
from p2pcall.domain.packet.render import call_line, left_out_text, meta_line
from p2pcall.domain.packet.summary import summary_rows
from p2pcall.domain.text import one_line
from p2pcall.letterpdf import LEAD, MARGIN, _finish, _new_pdf, _text, printable

RECORD_SIZE = 8.5  # the records' own lines: smaller, so their label columns mostly fit
RECORD_LEAD = 10.5
TITLE = "p2pcall evidence packet"


def _rows(pdf: Any, rows: list[tuple[str, str]]) -> None:
    """Label and value side by side; the value wraps in its own column."""
    from fpdf.enums import XPos, YPos

    label_width = 150
    for label, value in rows:
        pdf.set_font("Serif", "B", 10)
        pdf.set_x(MARGIN)
        pdf.cell(label_width, LEAD, printable(label))
        pdf.set_font("Serif", "", 10)
        pdf.multi_cell(pdf.epw - label_width, LEAD, printable(value), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
    pdf.ln(LEAD / 2)


def _heading(pdf: Any, title: str) -> None:
    if pdf.get_y() > pdf.h - MARGIN - 4 * LEAD:  # keep a heading with what follows
        pdf.add_page()
    _text(pdf, title, bold=True, gap=2)


class _Widths:
    """Text widths at the current font, from each character's width measured once (fpdf2
    measures a string through its whole text pipeline: most of the time of a long packet)."""

    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf
        self.known: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        known = self.known
        total = 0.0
        for char in text:
            width = known.get(char)
            if width is None:
                width = known[char] = self.pdf.get_string_width(char)
            total += width
        return total * 1.01  # kerning aside, never less than fpdf2 would measure


def _fit(line: str, width: float, measure: _Widths) -> list[str]:
    """`line` cut at spaces into pieces no wider than `width` (measured, not guessed),
    continuation pieces indented like the line. fpdf2's own line breaking measures the line
    again for every character, which for a 200-call packet takes minutes."""
    measured = measure(line)
    if measured <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip(" "))]
    chars = max(8, int(len(line) * width / measured))
    while True:
        pieces = textwrap.wrap(
            line, chars, subsequent_indent=indent, break_on_hyphens=False
        ) or [line]  # fmt: skip
        if chars <= 8 or all(measure(piece) <= width for piece in pieces):
            return pieces
        chars -= max(1, chars // 10)


def _lines(pdf: Any, text: str, *, size: float, lead: float, bold: bool = False) -> None:
    """Each line of `text` as written (wrapped only where too wide), placed with `text()`:
    a record is thousands of lines, and `cell()` costs ten times more per line."""
    pdf.set_font("Serif", "B" if bold else "", size)
    measure = _Widths(pdf)
    bottom = pdf.h - MARGIN
    y = pdf.get_y()
    for line in printable(text).split("\n"):
        for piece in _fit(line, pdf.epw, measure):
            if y + lead > bottom:
                pdf.add_page()  # keeps the font; text() sets it on the new page
                y = pdf.get_y()
            if piece.strip():
                pdf.text(MARGIN, y + 0.75 * lead, piece)
            y += lead
    pdf.set_y(y)


def _record(pdf: Any, export: str) -> None:
    _lines(pdf, export.rstrip("\n"), size=RECORD_SIZE, lead=RECORD_LEAD)


def packet_pdf(packet: Packet) -> bytes:
    """The packet as PDF bytes (LetterPdfError when the font is missing)."""
    pdf = _new_pdf(packet.generated_at)
    _text(pdf, TEXT_TITLE, bold=True, gap=2)
    _text(pdf, meta_line("pdf", packet), gap=LEAD / 2)
    _text(pdf, INTRO)
    if packet.redact:
        _text(pdf, "REDACTED COPY. " + c.REDACTION_NOTICE)
    _heading(pdf, "Filter")
    _rows(pdf, [*packet.filter.described(), ("Left out", left_out_text(packet))])
    _heading(pdf, "Summary")
    _rows(pdf, summary_rows(packet.summary, packet.first_day, packet.last_day))
    _heading(pdf, "Calls")
    if not packet.calls:
        _text(pdf, "None.")
    for number, call in enumerate(packet.calls, start=1):
        lines = [
            f"{number}. {call_line(call)}",
            f"Reviewer: {one_line(call.reviewer)}",
            f"Chain head: {call.chain_head}",
            f"Export digest: {call.export_digest}",
        ]
        _lines(pdf, "\n".join(lines), size=10, lead=13)
        pdf.ln(4)
    for number, call in enumerate(packet.calls, start=1):
        pdf.add_page()
        _text(pdf, f"Record {number} of {len(packet.calls)}: call {call.call_id}", bold=True)
        _record(pdf, call.export)
    return _finish(pdf, TITLE)
