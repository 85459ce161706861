"""The export renderers: golden files, schema, CommonMark, redaction, hostile text, digest.

Golden files live in tests/golden/export/. After an intended change to an export's wording or
layout, regenerate them and read the diff before committing:

    P2PCALL_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_export_render.py

(and bump EXPORT_FORMAT_VERSION in domain/export/common.py when a renderer's output changes,
so `p2pcall verify` can tell an older export from an edited one).
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from markdown_it import MarkdownIt

from export_sample import GENERATED_AT, IDENTIFIERS, sample_record
from p2pcall.domain.export import FORMATS, ExportError, ExportMeta, render, render_letter
from p2pcall.domain.export.digest import check_digest, read_meta
from p2pcall.domain.models import Note
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.vocab import NoteKind

GOLDEN = Path(__file__).parents[1] / "golden" / "export"
REGENERATE = os.environ.get("P2PCALL_REGEN_GOLDEN") == "1"
CASES = {
    "record.txt": lambda: render(sample_record(), "text", GENERATED_AT),
    "record.md": lambda: render(sample_record(), "markdown", GENERATED_AT),
    "record.json": lambda: render(sample_record(), "json", GENERATED_AT),
    "record-redacted.txt": lambda: render(sample_record(), "text", GENERATED_AT, redact=True),
    "letter.txt": lambda: render_letter(sample_record(), GENERATED_AT),
}
# Everything a terminal could act on: C0 (but newline), DEL, C1, bidi/invisible controls.
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)


def schema() -> dict:
    text = resources.files("p2pcall.domain.export").joinpath("record.schema.json").read_text()
    return json.loads(text)


def commonmark() -> MarkdownIt:
    return MarkdownIt("commonmark")


def rendered_text_of(html_tokens) -> str:
    """The text a reader sees in a parsed Markdown document (inline text, code, breaks)."""
    out = []
    for token in html_tokens:
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append("\n")
        if token.type in ("paragraph_close", "heading_close"):
            out.append("\n")
    return "".join(out)


# -- golden files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    produced = CASES[name]()
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(produced, encoding="utf-8", newline="")
    expected = path.read_text(encoding="utf-8")
    assert produced.splitlines() == expected.splitlines()
    assert produced == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_is_deterministic_and_ignores_sub_second_and_offset_of_generated_at(fmt) -> None:
    first = render(sample_record(), fmt, GENERATED_AT)
    same_moment_elsewhere = GENERATED_AT.astimezone(timezone(timedelta(hours=9)))
    assert (
        render(sample_record(), fmt, same_moment_elsewhere + timedelta(microseconds=999)) == first
    )
    assert render(sample_record(), fmt, GENERATED_AT + timedelta(seconds=1)) != first


def test_text_record_reads_as_the_call_happened() -> None:
    text = render(sample_record(), "text", GENERATED_AT)
    lines = text.splitlines()
    # Sections in agenda order, each note with its local time and offset, quotes quoted.
    headings = [line for line in lines if re.match(r"^[A-G]\. ", line)]
    assert [h[0] for h in headings] == list("ABCDEFG")
    assert "  [3] 2026-11-23 10:03:12 -05:00  QUOTE (the reviewer's words)" in lines
    assert "      \u201cI only look at whether the criteria are met.\u201d" in lines
    assert "  Board cert.         declined to give" in lines

    def block(number: int) -> list[str]:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"  [{number}] "))
        return lines[start : start + 3]

    assert block(10)[1] == "    * ADDED AFTER THE CALL, reason: remembered after hanging up"
    assert block(9)[1] == "    * CORRECTION of note 4 (note 4 is kept as written)"
    assert block(4)[1] == "    * corrected by note 9"
    assert block(4)[2] == "      Explained 2 failed step-downs (IOP in June)."
    # Both versions are printed: the original is kept.
    assert "IOP in June" in text and "IOP in May" in text
    # Follow-ups: rule, citation, override with reason, reminder to check the notice.
    assert "internal_appeal_filing: File the internal appeal (180 calendar days)" in text
    assert "29 CFR 2560.503-1(h)(3)(i); 45 CFR 147.136(b)" in text
    assert "reason: The notice gives 14 May 2027." in text
    assert "Check each" in text and "notice" in text
    assert "  Hash-chain head     not finalized" in lines
    assert lines[-1].startswith("SHA-256 of everything above this line: ")


def test_finalized_record_prints_its_chain_head() -> None:
    head = "ab" * 32
    record = sample_record(finalized_at=sample_record().call.ended_at, chain_head=head)
    for fmt in FORMATS:
        out = render(record, fmt, GENERATED_AT)
        assert head in out
        assert "not finalized" not in out
    assert (
        "  Finalized           2026-11-23 10:18:30 -05:00"
        in render(record, "text", GENERATED_AT).splitlines()
    )


def test_unknown_format_and_naive_time_are_refused() -> None:
    with pytest.raises(ExportError, match="Unknown export format"):
        render(sample_record(), "pdf", GENERATED_AT)
    with pytest.raises(ExportError, match="time zone"):
        render(sample_record(), "text", datetime(2026, 11, 24, 14, 30))


# -- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize("redact", [False, True])
def test_json_validates_against_its_schema(redact: bool) -> None:
    document = json.loads(render(sample_record(), "json", GENERATED_AT, redact=redact))
    validator = Draft202012Validator(schema(), format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_rejects_what_it_should() -> None:
    """The schema is not vacuous: a missing member, a naive time or an extra key fail."""
    document = json.loads(render(sample_record(), "json", GENERATED_AT))
    validator = Draft202012Validator(schema(), format_checker=FormatChecker())
    broken = json.loads(json.dumps(document))
    del broken["notes"][0]["saved_at"]
    assert list(validator.iter_errors(broken))
    broken = json.loads(json.dumps(document))
    broken["notes"][0]["saved_at"] = "2026-11-23T10:01:00"
    assert list(validator.iter_errors(broken))
    broken = json.loads(json.dumps(document))
    broken["call"]["surprise"] = 1
    assert list(validator.iter_errors(broken))


def test_json_times_carry_offsets_and_text_is_exact() -> None:
    record = sample_record()
    document = json.loads(render(record, "json", GENERATED_AT))
    assert document["export"]["generated_at"] == "2026-11-24T14:30:05+00:00"
    assert document["call"]["started_at"] == "2026-11-23T10:00:00.250000-05:00"
    assert [n["text"] for n in document["notes"]] == [
        n.body for n in sorted(record.notes, key=lambda n: n.saved_at)
    ]
    assert document["notes"][-1]["late"] is True
    assert document["notes"][-2]["corrects_note_number"] == 4


# -- Markdown ------------------------------------------------------------------------------

HOSTILE_BODIES = [
    "[link](http://evil.example) and ![img](x.png)",
    "*stars* _under_ **bold** __b__ ~~strike~~",
    "# not a heading",
    "> not a quote",
    "- not a list\n+ nor this\n1. nor this\n2) nor this",
    "<b>html</b> <script>alert(1)</script> <!-- c -->",
    "`code` ``double`` ```\nfenced\n```",
    "&amp; &copy; &#65; \\backslash\\ trailing\\",
    "---",
    "===",
    "| a | b |\n|---|---|",
    "    indented code?\n\ttabbed",
    "line with two trailing spaces  \nnext",
    "  leading and trailing spaces  ",
    "\n\nblank lines\n\n",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]52;c;ZXZpbA==\x07 \x1b[2J \x00 NUL \x7f \x9b",
    "bidi \u202eevil\u202c and \u2066isolate\u2069 zero\u200bwidth",
    "emoji \U0001f600 combining e\u0301 CJK \u6f22\u5b57",
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_markdown_renders_user_text_literally(body: str) -> None:
    record = sample_record()
    record.notes = [Note(1, 42, Section.A, NoteKind.NOTE, body, record.call.started_at,
                         record.call.started_at)]  # fmt: skip
    record.call.values["insurer"] = body
    md = render(record, "markdown", GENERATED_AT)
    tokens = commonmark().parse(md)
    html = commonmark().render(md)
    seen = rendered_text_of(tokens)
    expected = visible(body)
    # The note body and the field come out as the same visible text, line for line.
    for line in expected.split("\n"):
        assert line in seen, (line, seen)
    # Nothing the user typed became structure: look where the note and the field landed.
    note_part = html.split("<h2>A. Case summary</h2>")[1].split("<h2>B. ")[0]
    field_part = html.split("<strong>Insurer:</strong>")[1].split("<strong>Plan type:")[0]
    for part in (note_part, field_part):
        for tag in ("<a ", "<img", "<em>", "<h1>", "<blockquote>", "<ol", "<pre>", "<hr",
                    "<table", "<script", "<b>", "<!--", "<code>", "<del>", "<h2>"):  # fmt: skip
            assert tag not in part, tag
    assert "<strong>" in html  # our own emphasis still works
    assert not UNSAFE.search(md)


def test_markdown_structure_is_as_designed() -> None:
    md = render(sample_record(), "markdown", GENERATED_AT)
    tokens = commonmark().parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0] == "Call record: call 42"
    assert [h[:2] for h in headings if re.match(r"^[A-G]\. ", h)] == [f"{s}." for s in "ABCDEFG"]
    assert headings[-3:] == ["Outcome", "Follow-ups", "Record status"]
    assert md.splitlines()[-1].startswith("SHA-256 of everything above this line: ")


# -- redaction -----------------------------------------------------------------------------


REDACTED_ROWS = {
    "text": ["  Patient ref         [redacted]", "  Age                 [redacted]",
             "  Gender              [redacted]", "  Diagnosis           [redacted]"],
    "markdown": ["- **Patient ref:** \\[redacted\\]", "- **Age:** \\[redacted\\]",
                 "- **Gender:** \\[redacted\\]", "- **Diagnosis:** \\[redacted\\]"],
}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_redaction_removes_every_identifier(fmt: str) -> None:
    out = render(sample_record(), fmt, GENERATED_AT, redact=True)
    body = out.rsplit("SHA-256", 1)[0] if fmt != "json" else out.rsplit('"digest"', 1)[0]
    for key, value in IDENTIFIERS.items():
        # Any recognisable piece: the chart number, the diagnosis code, the gender word;
        # short ones (the age) only as a whole word, since digits appear in times.
        for piece in [value, *re.findall(r"[A-Za-z0-9.-]{5,}", value)]:
            if piece.lower() not in {"major", "disorder", "recurrent", "severe"}:
                assert piece not in body, (key, piece)
        pattern = rf"(?<![\w:.-]){re.escape(value)}(?![\w:.-])"
        assert not re.search(pattern, body), key
    lines = out.splitlines()
    for row in REDACTED_ROWS.get(fmt, []):
        assert row in lines
    meta = read_meta(out)
    assert meta is not None and meta.redact is True
    unredacted = render(sample_record(), fmt, GENERATED_AT)
    for value in IDENTIFIERS.values():
        assert value in unredacted or fmt == "markdown"  # (Markdown escapes the "-" in JD-0412)


def test_redacted_json_marks_fields() -> None:
    document = json.loads(render(sample_record(), "json", GENERATED_AT, redact=True))
    redacted = {f["key"] for f in document["fields"] if f["redacted"]}
    assert redacted == set(IDENTIFIERS)
    assert document["export"]["redacted"] is True


# -- hostile and odd text ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [*FORMATS, "letter"])
def test_no_format_carries_raw_control_characters(fmt: str) -> None:
    record = sample_record()
    nasty = "\n".join(HOSTILE_BODIES)
    record.notes = [
        Note(i, 42, section, kind, nasty, record.call.started_at, record.call.started_at,
             late=True, reason=nasty)
        for i, (section, kind) in enumerate(zip(Section, NoteKind, strict=False), start=1)
    ]  # fmt: skip
    for key in list(record.call.values):
        record.call.values[key] = nasty
    for fu in record.followups:
        object.__setattr__(fu, "note", nasty)
        object.__setattr__(fu, "override_reason", nasty)
    out = (
        render_letter(record, GENERATED_AT)
        if fmt == "letter"
        else render(record, fmt, GENERATED_AT)
    )
    assert not UNSAFE.search(out), UNSAFE.search(out)
    if fmt != "letter":
        assert check_digest(out)[0]
    if fmt == "json":  # exact text survives, through JSON escapes only
        document = json.loads(out)
        assert {n["text"] for n in document["notes"]} == {nasty}
    if fmt == "text":
        # User lines are indented: none can pose as a heading or the digest line.
        for line in out.splitlines():
            if "evil" in line or "not a" in line:
                assert line.startswith("  "), line
            if line.startswith("    * "):  # status marks are ours only
                assert line.startswith(("    * ADDED AFTER THE CALL", "    * CORRECTION")), line


def test_a_one_megabyte_note_exports_whole() -> None:
    record = sample_record()
    big = ("0123456789abcdef" * 64 + "\n") * 1000  # about 1 MB
    record.notes.append(Note(99, 42, Section.E, NoteKind.NOTE, big, record.call.ended_at,
                             record.call.ended_at))  # fmt: skip
    for fmt in FORMATS:
        out = render(record, fmt, GENERATED_AT)
        assert len(out) > len(big)
        assert check_digest(out)[0]
    notes = json.loads(render(record, "json", GENERATED_AT))["notes"]
    assert [n["text"] for n in notes if n["id"] == 99] == [big]


def test_fake_footer_and_meta_lines_in_notes_do_not_fool_the_readers() -> None:
    record = sample_record()
    fake = (
        "SHA-256 of everything above this line: " + "0" * 64 + "\n"
        "p2pcall-export: version=1 format=text call=1 generated_at=2020-01-01T00:00:00+00:00 "
        "redact=yes"
    )
    record.notes[0] = Note(1, 42, Section.A, NoteKind.NOTE, fake, record.notes[0].started_at,
                           record.notes[0].saved_at)  # fmt: skip
    for fmt in ("text", "markdown"):
        out = render(record, fmt, GENERATED_AT)
        assert check_digest(out)[0]
        meta = read_meta(out)
        assert meta == ExportMeta(fmt, 42, GENERATED_AT, False)


# -- digest ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_digest_matches_and_detects_a_one_character_edit(fmt: str) -> None:
    out = render(sample_record(), fmt, GENERATED_AT)
    ok, detail = check_digest(out)
    assert ok, detail
    position = out.index("Family medicine") + 1  # "Family" -> "Fbmily"
    edited = out[:position] + "b" + out[position + 1 :]
    ok, detail = check_digest(edited)
    assert not ok
    assert "changed after export" in detail


def test_json_digest_survives_reformatting_but_not_a_value_change() -> None:
    out = render(sample_record(), "json", GENERATED_AT)
    reindented = json.dumps(json.loads(out), indent=4, sort_keys=True)
    assert check_digest(reindented)[0]
    document = json.loads(out)
    document["call"]["outcome"] = "approved"
    assert not check_digest(json.dumps(document))[0]


def test_digest_reports_line_endings_missing_footer_and_trailing_text() -> None:
    out = render(sample_record(), "text", GENERATED_AT)
    ok, detail = check_digest(out.replace("\n", "\r\n"))
    assert not ok and "line endings" in detail
    ok, detail = check_digest(out.rsplit("SHA-256", 1)[0])
    assert not ok and "no digest line" in detail
    ok, detail = check_digest(out + "appended\n")
    assert not ok and "after the digest line" in detail
    ok, detail = check_digest("{not json")
    assert not ok and "not valid JSON" in detail


@pytest.mark.parametrize("fmt", FORMATS)
def test_meta_gives_back_what_is_needed_to_re_render(fmt: str) -> None:
    for redact in (False, True):
        out = render(sample_record(), fmt, GENERATED_AT + timedelta(microseconds=5), redact)
        meta = read_meta(out)
        assert meta == ExportMeta(fmt, 42, GENERATED_AT, redact)
        assert meta.generated_at.tzinfo is not None
        assert render(sample_record(), meta.format, meta.generated_at, meta.redact) == out


def test_meta_is_none_for_foreign_text() -> None:
    assert read_meta("hello\nworld\n") is None
    assert read_meta('{"a": 1}') is None
    assert (
        ExportMeta.from_line(
            "p2pcall-export: version=1 format=text call=3 "
            "generated_at=2026-01-01T00:00:00 redact=no"
        )
        is None
    )  # a naive time is refused
    assert ExportMeta.from_line(
        "p2pcall-export: version=1 format=text call=3 generated_at=2026-01-01T00:00:00Z redact=no"
    ) == ExportMeta("text", 3, datetime(2026, 1, 1, tzinfo=UTC), False)


# -- letter ----------------------------------------------------------------------------------


def test_letter_draft_contents() -> None:
    letter = render_letter(sample_record(), GENERATED_AT)
    assert letter.startswith("DRAFT")
    assert "24 November 2026" in letter
    assert "Monday 23 November 2026, from 10:00 to 10:18 (America/New_York, UTC-05:00)" in (
        " ".join(letter.split())
    )
    flat = " ".join(letter.split())
    assert "name: Dr. A. Ruiz; degree: MD; specialty: Family medicine" in flat
    assert "you declined to give your board certification and state(s) of licence" in flat
    assert "InterQual" in flat and "Residential 3.2: imminent risk not documented" in flat
    assert "Reviewer will fax the written denial by 11/25." in flat
    assert "I will send the safety plan today." in flat
    assert "Denied / upheld" not in flat and "the request remains denied" in flat
    assert "Your credentials: I asked for it and you refused." in flat
    assert "Copy of the reviewer's notes" in flat
    # Notes from D and E are kept (they were dropped), with the clinician's case.
    assert "Reviewer is family medicine, not psychiatry." in flat
    assert "Denial upheld on the call." in flat
    assert "Sertraline 200 mg, 12 weeks, partial response" in flat
    # The corrected note is replaced by its correction; the late entry is marked.
    assert "IOP in June" not in flat and "IOP in May" in flat
    assert "(10:40, added after the call) Reviewer offered PHP as the alternative." in flat
    assert "\u201cImminent risk is not documented in the record.\u201d" in flat


def test_letter_leaves_blanks_where_the_record_is_silent() -> None:
    record = sample_record()
    record.call.values = {}
    record.call.declined = set()
    record.notes = []
    letter = render_letter(record, GENERATED_AT)
    flat = " ".join(letter.split())
    assert "Dear Dr." not in flat and "To the utilization management team:" in flat
    assert "Care requested: [to fill in: the care requested: service and level of care]" in flat
    assert "Criteria set: [to fill in: the criteria set the reviewer named, if any]" in flat
    assert "Commitments made on the call" not in flat  # none noted: nothing claimed


def test_unfinished_call_and_odd_follow_ups_render_plainly() -> None:
    from p2pcall.domain.models import FollowUp
    from p2pcall.domain.vocab import FollowUpAction, FollowUpStatus

    record = sample_record(ended_at=None, outcome=None)
    record.followups = [
        FollowUp(5, 42, FollowUpAction.OTHER, FollowUpStatus.PLANNED, record.call.started_at,
                 rule_id="retired_rule", computed_due=record.call.started_at),
    ]  # fmt: skip
    text = render(record, "text", GENERATED_AT)
    lines = text.splitlines()
    assert "  Ended               not recorded" in lines
    assert "  Duration            call not ended" in lines
    assert "  Outcome             call not ended" in lines
    assert "retired_rule (a rule this version of p2pcall no longer knows)" in text
    document = json.loads(render(record, "json", GENERATED_AT))
    assert document["call"]["ended_at"] is None and document["call"]["duration_seconds"] is None
    assert document["followups"][0]["rule"] is None
    Draft202012Validator(schema(), format_checker=FormatChecker()).validate(document)
    letter = render_letter(record, GENERATED_AT)
    assert "starting at 10:00" in " ".join(letter.split())
