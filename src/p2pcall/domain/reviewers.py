"""Reviewers across calls: who they are, how a name is matched, and their track record.

Pure: the store fills these from SQL, the screens show them. The words are our own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from p2pcall.domain.fields import FIELDS_BY_KEY
from p2pcall.domain.vocab import CriteriaSet, Outcome

MAX_NAME = 200
# Follow-ups that stand for something the reviewer promised: documents, a dated commitment.
PROMISE_ACTIONS = ("chase_documents", "reviewer_commitment")
SUGGESTIONS = 5

# Section B field -> reviewer attribute: what "record a new reviewer" takes from the call.
FROM_FIELDS: dict[str, str] = {
    "reviewer_name": "name",
    "reviewer_credentials": "credentials",
    "reviewer_specialty": "specialty",
    "reviewer_board": "board",
    "reviewer_license": "license_states",
    "reviewer_employer": "vendor",
}


def name_key(name: str) -> str:
    """The form names are matched on: compatibility-normalized, casefolded, one space."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())


@dataclass(frozen=True)
class ReviewerDetails:
    name: str
    credentials: str = ""
    specialty: str = ""
    board: str = ""
    license_states: str = ""
    npi: str = ""
    vendor: str = ""

    @classmethod
    def from_call_values(cls, values: dict[str, str]) -> ReviewerDetails:
        given = {attr: values.get(key, "").strip() for key, attr in FROM_FIELDS.items()}
        return cls(**given)


@dataclass(frozen=True)
class Reviewer:
    id: int
    details: ReviewerDetails
    calls: int = 0  # calls linked to this entry and to entries merged into it
    merged_into: int | None = None

    @property
    def name(self) -> str:
        return self.details.name

    def short(self) -> str:
        """Name, degree, specialty and vendor (no count: said beside it)."""
        d = self.details
        who = d.name + (f", {d.credentials}" if d.credentials else "")
        return " \u00b7 ".join([who, d.specialty or "specialty ?", d.vendor or "vendor ?"])

    def summary(self) -> str:
        """One line: name, degree, specialty, vendor, calls so far."""
        d = self.details
        who = d.name + (f", {d.credentials}" if d.credentials else "")
        parts = [who, d.specialty or "specialty not known", d.vendor or "vendor not known"]
        count = "1 call" if self.calls == 1 else f"{self.calls} calls"
        return " \u00b7 ".join([*parts, count])


@dataclass(frozen=True)
class TrackRecord:
    """What the calls before this one say about the reviewer (all counted in SQL)."""

    reviewer_id: int
    earlier_calls: int
    outcomes: dict[str, int] = field(default_factory=dict)  # Outcome value -> calls
    specialty_answered: int = 0  # calls where "same specialty" was yes or no
    not_same_specialty: int = 0
    declined: dict[str, int] = field(default_factory=dict)  # field key -> calls declined
    criteria: dict[str, int] = field(default_factory=dict)  # CriteriaSet value -> calls
    commitments: int = 0  # promised documents and commitments whose keeping is known
    commitments_not_kept: int = 0  # not received, overdue and open, or received late
    earlier_call_ids: tuple[int, ...] = ()  # newest first

    def lines(self) -> list[str]:
        """One or two lines for section B."""
        if self.earlier_calls == 0:
            return ["No earlier calls with this reviewer."]
        first = [_calls(self.earlier_calls) + " before:"]
        outcome_words = [
            f"{count} {_outcome_word(value)}"
            for value, count in sorted(self.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        if outcome_words:
            first[0] += " " + ", ".join(outcome_words)
        if self.specialty_answered:
            first.append(f"not same specialty {self.not_same_specialty}/{self.specialty_answered}")
        second = []
        if self.declined:
            second.append(
                "declined: "
                + ", ".join(
                    f"{_field_label(key)} \u00d7{count}"
                    for key, count in sorted(self.declined.items(), key=lambda kv: -kv[1])
                )
            )
        if self.criteria:
            second.append(
                "cited: "
                + ", ".join(
                    f"{_criteria_label(value)} \u00d7{count}"
                    for value, count in sorted(self.criteria.items(), key=lambda kv: -kv[1])
                )
            )
        if self.commitments:
            second.append(f"promises not kept {self.commitments_not_kept}/{self.commitments}")
        lines = [" \u00b7 ".join(first)]
        if second:
            lines.append(" \u00b7 ".join(second))
        return lines


def _calls(count: int) -> str:
    return "1 call" if count == 1 else f"{count} calls"


_OUTCOME_WORDS = {
    Outcome.APPROVED.value: "approved",
    Outcome.PARTIAL.value: "partly",
    Outcome.DENIED.value: "denied",
    Outcome.PENDING.value: "pending",
    Outcome.EDUCATIONAL.value: "educational",
    "": "not ended",
}


def _outcome_word(value: str) -> str:
    return _OUTCOME_WORDS.get(value, value)


def _field_label(key: str) -> str:
    spec = FIELDS_BY_KEY.get(key)
    return spec.label.lower() if spec else key


def _criteria_label(value: str) -> str:
    member = CriteriaSet.parse(value)
    return member.label.split(" (")[0] if member else value
