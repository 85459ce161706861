"""Property tests: any text a user can type comes out of the Markdown export literally, and no
export carries a character a terminal would act on."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from export_sample import GENERATED_AT, sample_record
from p2pcall.domain.export import render
from p2pcall.domain.export.digest import check_digest
from p2pcall.domain.export.markdown import md_text
from p2pcall.domain.models import Note
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.vocab import NoteKind
from test_export_render import UNSAFE

# Text as pasted into a note: markup-heavy ASCII mixed with any Unicode (no lone surrogates,
# which cannot be stored in SQLite text).
MARKUP = st.sampled_from(list("\\`*_[]<>&~|#>-+=!():.0123456789 \t\n\r\x1b\x00\x7f\x9b\u202e"))
TEXT = st.lists(st.one_of(MARKUP, st.characters(blacklist_categories=("Cs",))), max_size=80).map(
    "".join
)


def inline_text(md: str) -> str:
    tokens = MarkdownIt("commonmark").parse(md)
    out = []
    for token in tokens:
        for child in token.children or []:
            if child.type == "text":
                out.append(child.content)
            elif child.type == "hardbreak":
                out.append("\n")
            elif child.type in ("strong_open", "strong_close"):
                continue  # the label's bold is ours
            elif child.type == "softbreak":
                out.append("<SOFT>")  # a break we did not make
            else:
                out.append(f"<{child.type}>")  # emphasis, links, code, html: never ours
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_markdown_escaping_gives_back_the_visible_text(text: str) -> None:
    md = f"- **Label:** {md_text(text, '  ')}\n"
    rendered = inline_text(md)
    expected = "Label: " + visible(text)
    if text.endswith("\n"):  # the one place we print a space for nothing (see md_text)
        expected += " "
    if not text:
        expected = "Label:"  # a paragraph's trailing space is not content
    assert rendered == expected, md


@settings(max_examples=60, deadline=None)
@given(TEXT, st.sampled_from(["text", "markdown", "json"]))
def test_any_note_exports_safely_with_a_valid_digest(text: str, fmt: str) -> None:
    record = sample_record()
    record.notes.append(
        Note(77, 42, Section.C, NoteKind.QUOTE, text, record.call.ended_at, record.call.ended_at,
             late=True, reason=text)
    )  # fmt: skip
    record.call.values["insurer"] = text
    out = render(record, fmt, GENERATED_AT, redact=False)
    assert not UNSAFE.search(out)
    assert check_digest(out)[0]
    if fmt == "json":
        document = json.loads(out)
        assert [n["text"] for n in document["notes"] if n["id"] == 77] == [text]
