"""Letters: golden files for every kind x outcome x declined x programme, checked line by line
against the files, and every one against patterns a letter must never contain.

Regenerate after an intended change: P2PCALL_REGEN_GOLDEN=1 pytest tests/unit/test_letters.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from export_sample import GENERATED_AT, sample_record
from p2pcall.domain.letters import (
    LetterUnavailable,
    Practice,
    build_letter,
    facts_from,
    letter_choices,
    render_markdown,
    render_text,
)
from p2pcall.domain.vocab import Outcome

GOLDEN = Path(__file__).parents[1] / "golden" / "letters"
REGENERATE = os.environ.get("P2PCALL_REGEN_GOLDEN") == "1"
KINDS = ("confirmation", "expedited-appeal", "records-request", "complaint")
OUTCOMES = ("approved", "partially_approved", "denied", "pending")
PROGRAMMES = ("erisa", "aca", "marketplace", "medicare_advantage", "medicaid_managed", "other")
DECLINED_KEYS = {
    "reviewer_name", "reviewer_credentials", "reviewer_board", "reviewer_callback",
    "criterion_cited", "alternative_plan",
}  # fmt: skip


def variant(outcome: str, declined: bool, programme: str):
    """The sample call with this outcome and programme; `declined`: the reviewer refused to
    give name, degree, board, callback, criterion and alternative (their values are empty)."""
    record = sample_record(outcome=Outcome(outcome))
    values = record.call.values
    values["plan_type"] = programme
    values["coverage_status"] = outcome
    if declined:
        for key in DECLINED_KEYS:
            values.pop(key, None)
        record.call.declined = set(DECLINED_KEYS)
    else:
        record.call.declined = set()
    return record


def cases():
    for kind in KINDS:
        for outcome in OUTCOMES:
            for declined in (False, True):
                for programme in PROGRAMMES:
                    name = f"{kind}-{outcome}-{'declined' if declined else 'answered'}-{programme}"
                    yield name, kind, outcome, declined, programme


CASES = list(cases())


def make(kind: str, outcome: str, declined: bool, programme: str) -> str | None:
    try:
        letter = build_letter(kind, variant(outcome, declined, programme), GENERATED_AT)
    except LetterUnavailable:
        return None
    return render_text(letter)


@pytest.mark.parametrize(("name", "kind", "outcome", "declined", "programme"), CASES)
def test_golden_letter(name: str, kind: str, outcome: str, declined: bool, programme: str) -> None:
    produced = make(kind, outcome, declined, programme)
    path = GOLDEN / f"{name}.txt"
    if produced is None:
        assert not path.exists()
        assert kind == "expedited-appeal" and outcome in ("approved", "pending")
        return
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(produced, encoding="utf-8", newline="")
    assert produced.splitlines() == path.read_text(encoding="utf-8").splitlines()


def sentences(text: str) -> list[str]:
    """Sentences, never across paragraphs or list items."""
    out = []
    for block in re.split(r"\n\s*\n|\n\s*- ", text):
        flat = " ".join(block.split())
        out += [s for s in re.split(r"(?<=[.:;])\s+(?=[A-Z(\[])", flat) if s]
    return out


def forbidden(text: str, *, kind: str, outcome: str, declined: bool) -> list[str]:
    """Every rule this letter breaks, in words."""
    broken = []
    flat = " ".join(text.split())
    for sentence in sentences(text):
        if "declined" in sentence and "[to fill in" in sentence:
            broken.append(f"a blank next to a refusal: {sentence!r}")
    patterns = {
        r"You confirmed": "asserts the reviewer confirmed something",
        r"Dear Dr\.\s*(\[|,)": "a title the record does not hold",
        r"________": "a blank that does not say what goes there",
        r"\[to fill in:\s*\]": "an empty blank",
        r"Denied / upheld": "the outcome label read as a sentence",
        r"requested \[to fill in": "claims a document was requested",
        r"Residential, Residential": "the level of care twice",
        r"None were noted": "claims nothing was committed",
    }
    for pattern, why in patterns.items():
        if re.search(pattern, flat):
            broken.append(why)
    if "Dear Dr." in flat and declined:
        broken.append("'Dear Dr.' with the reviewer's name and degree declined")
    if kind == "confirmation" and outcome == "approved":
        for words in ("criterion you", "not met", "alternative", "declined to propose",
                      "criteria applied", "how to appeal"):  # fmt: skip
            if words in flat:
                broken.append(f"criterion or appeal talk in an approval: {words!r}")
    if not declined and re.search(r"\bdeclined\b", flat):
        broken.append("a refusal the record does not show")
    if re.search(r"during the call at \d\d:\d\d: \u201cReviewer offered", flat):
        broken.append("a late note presented as noted during the call")
    return broken


@pytest.mark.parametrize(("name", "kind", "outcome", "declined", "programme"), CASES)
def test_no_forbidden_patterns(name, kind, outcome, declined, programme) -> None:
    text = make(kind, outcome, declined, programme)
    if text is None:
        return
    assert forbidden(text, kind=kind, outcome=outcome, declined=declined) == []
    assert max(len(line) for line in text.splitlines()) <= 76


def test_the_checker_catches_what_it_claims() -> None:
    """Each rule of `forbidden` fails on a letter that breaks it (so the test can fail)."""
    bad = (
        "You gave your name as [to fill in: name] and you declined to give your name.\n"
        "You confirmed that you are not a psychiatrist. Dear Dr. ________,\n"
        "Outcome: Denied / upheld. Criteria: requested [to fill in: when]. The criterion you "
        "said was not met. You declined to propose an alternative."
    )
    found = forbidden(bad, kind="confirmation", outcome="approved", declined=False)
    assert len(found) >= 8


def test_late_quote_is_not_called_noted_during_the_call() -> None:
    from dataclasses import replace

    from p2pcall.domain.vocab import NoteKind

    record = sample_record()
    record.notes[-1] = replace(record.notes[-1], kind=NoteKind.QUOTE)  # the late note
    text = " ".join(render_text(build_letter("confirmation", record, GENERATED_AT)).split())
    assert "Noted after the call (10:40): \u201cReviewer offered PHP" in text


def test_practice_details_fill_the_signature_and_letterhead() -> None:
    practice = Practice(
        name="Jane Roe", credentials="MD", npi="1234567890", practice="Roe Psychiatry",
        address="1 Main St\nAlbany, NY", phone="555-0100", fax="555-0101",
    )  # fmt: skip
    text = render_text(build_letter("confirmation", sample_record(), GENERATED_AT, practice))
    assert text.count("Roe Psychiatry") == 2 and "1 Main St\nAlbany, NY" in text
    assert "Jane Roe, MD" in text and "NPI: 1234567890" in text and "Fax: 555-0101" in text
    signature = text.split("Sincerely,")[1]
    assert "[to fill in" not in signature


def test_choices_follow_the_record() -> None:
    approved = {c.kind: c for c in letter_choices(facts_from(variant("approved", False, "erisa")))}
    assert not approved["expedited-appeal"].available
    assert approved["complaint"].available  # the sample reviewer is not of the same specialty
    assert approved["records-request"].suggested  # criteria requested, credentials refused
    record = variant("denied", False, "erisa")
    record.call.values["reviewer_same_specialty"] = "yes"
    record.call.values.pop("reviewer_treated")
    record.call.values["doc_credentials"] = "received"
    record.call.values["doc_criteria"] = "promised"
    chosen = {c.kind: c for c in letter_choices(facts_from(record))}
    assert not chosen["complaint"].available and not chosen["records-request"].suggested
    with pytest.raises(LetterUnavailable, match="no ground for a complaint"):
        build_letter("complaint", record, GENERATED_AT)


def test_markdown_renders_the_same_words() -> None:
    from markdown_it import MarkdownIt

    from export_db import HOSTILE

    record = sample_record()
    record.call.values["the_ask"] = HOSTILE + " *not bold* # not a heading"
    letter = build_letter("confirmation", record, GENERATED_AT)
    html = MarkdownIt("commonmark").render(render_markdown(letter))
    assert "*not bold* # not a heading" in html
    assert "\x1b" not in html and "&lt;b&gt;y&lt;/b&gt;" in html
    assert "<h3>Who reviewed the request</h3>" in html
