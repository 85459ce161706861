"""The call agenda, A to G. Talking points are our own words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Section(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"

    @property
    def info(self) -> SectionInfo:
        return SECTION_INFO[self]

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title() is never used on a Section
        return f"{self.value}. {self.info.title}"

    def step(self, offset: int) -> Section:
        """The section `offset` places away, clamped to A..G."""
        members = list(Section)
        index = max(0, min(len(members) - 1, members.index(self) + offset))
        return members[index]


@dataclass(frozen=True)
class SectionInfo:
    title: str
    short: str
    points: tuple[str, ...]


SECTION_INFO: dict[Section, SectionInfo] = {
    Section.A: SectionInfo(
        "Case summary",
        "Case",
        (
            "Introduce the patient: age, gender, what matters about their situation.",
            "Flag anything clinically new since the request went in.",
        ),
    ),
    Section.B: SectionInfo(
        "Reviewer background",
        "Reviewer",
        (
            "Ask for name, credentials, specialty and board certification.",
            "Has the reviewer treated this condition at this level of care?",
            "Did they read the full record? Same specialty as you?",
        ),
    ),
    Section.C: SectionInfo(
        "Treatment and level of care needed",
        "Treatment",
        (
            "State plainly the treatment and level of care the patient needs.",
            "Give codes, frequency and dates; tie them to the clinical picture.",
        ),
    ),
    Section.D: SectionInfo(
        "Basis of the reviewer's assessment",
        "Basis",
        (
            "Which criteria set and version did they apply?",
            "Which specific criterion is not met, in their words?",
        ),
    ),
    Section.E: SectionInfo(
        "Coverage status and next steps",
        "Status",
        (
            "Is the case understood? What is the status now?",
            "What is still needed, and when will a decision come?",
        ),
    ),
    Section.F: SectionInfo(
        "If not approved: their alternative",
        "Adverse",
        (
            "If your plan is not approved, ask what treatment they propose instead.",
            "Write their alternative in their words, or note that they declined.",
        ),
    ),
    Section.G: SectionInfo(
        "Documents to request",
        "Docs",
        (
            "Ask for the written decision citing the criterion applied.",
            "Ask for a copy of the criteria and the reviewer's credentials; get a date.",
        ),
    ),
}
