"""Letters a clinician sends after a call, built from the record by one document model.

    letter = build_letter("confirmation", record, generated_at, practice)
    text = render_text(letter)            # or render_markdown(letter); PDF: p2pcall.letterpdf

Kinds: the written confirmation, the expedited appeal, the request for records, the
complaint. `letter_choices(facts)` says which suit a call, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from p2pcall.domain.formats import LETTER_FORMATS
from p2pcall.domain.letters.facts import LetterFacts, facts_from
from p2pcall.domain.letters.kinds import BUILDERS, LetterUnavailable, complaint_grounds
from p2pcall.domain.letters.model import Letter, plain_to_markdown, render_markdown, render_text
from p2pcall.domain.letters.practice import Practice
from p2pcall.domain.models import CallRecord

__all__ = [
    "FORMATS",
    "KINDS",
    "Choice",
    "Letter",
    "LetterFacts",
    "LetterUnavailable",
    "Practice",
    "build_letter",
    "facts_from",
    "letter_choices",
    "plain_to_markdown",
    "render_markdown",
    "render_text",
]

# kind -> (label, what it is)
KINDS: dict[str, tuple[str, str]] = {
    "confirmation": (
        "Written confirmation",
        "what was said and agreed on the call, to the insurer",
    ),
    "expedited-appeal": ("Expedited appeal", "urgent review of a denial, with your statement"),
    "records-request": (
        "Request for records",
        "claim file, criteria and reviewers, free of charge",
    ),
    "complaint": (
        "Complaint",
        "to the regulator: reviewer not qualified, unnamed, or no criterion",
    ),
}
FORMATS = LETTER_FORMATS
SUFFIXES = {"text": ".txt", "markdown": ".md", "pdf": ".pdf"}


@dataclass(frozen=True)
class Choice:
    kind: str
    label: str
    about: str
    available: bool
    suggested: bool
    why: str  # why it is suggested, or why it cannot be made


def letter_choices(f: LetterFacts) -> list[Choice]:
    """Every kind, whether the record allows it, and whether the call calls for it."""
    out = [
        Choice(
            "confirmation",
            *KINDS["confirmation"],
            True,
            f.outcome is not None,
            "send it the same day" if f.outcome is not None else "the call has no outcome yet",
        ),
    ]
    if f.adverse:
        urgent = f.urgent or f.concurrent
        why = "urgent or concurrent care was denied" if urgent else "a denial can be appealed"
        out.append(Choice("expedited-appeal", *KINDS["expedited-appeal"], True, urgent, why))
    else:
        out.append(
            Choice(
                "expedited-appeal",
                *KINDS["expedited-appeal"],
                False,
                False,
                "only after a denial or partial approval",
            )
        )
    open_requests = f.open_requests()
    out.append(
        Choice(
            "records-request",
            *KINDS["records-request"],
            True,
            bool(open_requests),
            "a document asked for in G was refused or not answered"
            if open_requests
            else "you may ask for these at any time",
        )
    )
    grounds = complaint_grounds(f)
    words = {
        "qualification": "reviewer not qualified",
        "identity": "reviewer did not identify",
        "criterion": "no criterion named",
    }
    out.append(
        Choice(
            "complaint",
            *KINDS["complaint"],
            bool(grounds),
            bool(grounds),
            ", ".join(words[g] for g in grounds)
            if grounds
            else "the record shows no ground for one",
        )
    )
    return out


def build_letter(
    kind: str,
    record: CallRecord,
    generated_at: datetime,
    practice: Practice | None = None,
    field_times: dict[str, datetime] | None = None,
) -> Letter:
    """The letter of `kind` for the call; LetterUnavailable when the record gives no ground."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise LetterUnavailable(f"Unknown letter {kind!r}: choose one of {', '.join(KINDS)}.")
    return builder(facts_from(record, field_times), practice or Practice(), generated_at)
