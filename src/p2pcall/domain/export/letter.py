"""A draft of the written confirmation to the insurer, to send the same day as the call.

Plain text in our own words, built from the record: when the call took place, who the reviewer
said they were (or that they declined to say), what was discussed, the criteria cited, the
commitments made, the outcome and the documents requested. Anything the record does not hold
is left as a blank (``________``) for the clinician to fill in; a draft is never sent as is.

Notes that a later note corrects are replaced by the correction; entries added after the call
are marked so. Patient identifiers are kept: the insurer needs them to find the case.
"""

from __future__ import annotations

import textwrap
from datetime import datetime

from p2pcall.domain.export import common as c
from p2pcall.domain.fields import spec_for
from p2pcall.domain.models import Call, CallRecord
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.vocab import DocStatus, NoteKind

BLANK = "________"
WIDTH = 76


def _value(call: Call, key: str) -> str:
    """The field as a reader sees it, or a blank to fill in."""
    spec = spec_for(key)
    value = call.value(key)
    return visible(spec.display(value)) if value else BLANK


def _known(call: Call, key: str) -> str:
    value = call.value(key)
    return visible(spec_for(key).display(value)) if value else ""


def _para(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    ) or [indent.rstrip()]


def _bullet(text: str) -> list[str]:
    """A list item; the user's own line breaks are kept, each continuation indented."""
    out: list[str] = []
    for index, line in enumerate(text.split("\n")):
        prefix = "  - " if index == 0 else "    "
        out += textwrap.wrap(
            line, WIDTH, initial_indent=prefix, subsequent_indent="    ", break_on_hyphens=False
        ) or [prefix.rstrip()]
    return out


def _when(call: Call) -> tuple[str, str]:
    """('Monday 23 November 2026', 'from 10:00 to 10:17 (America/New_York, UTC-05:00)')."""
    from p2pcall.domain.timefmt import to_local

    if call.started_at is None:
        return BLANK, f"at {BLANK}"
    start = to_local(call.started_at, call.tz)
    day = start.format("dddd D MMMM YYYY")
    offset = start.format("Z")
    if call.ended_at is None:
        return day, f"starting at {start.format('HH:mm')} ({call.tz}, UTC{offset})"
    end = to_local(call.ended_at, call.tz)
    return day, (f"from {start.format('HH:mm')} to {end.format('HH:mm')} ({call.tz}, UTC{offset})")


_REVIEWER_WORDS = {
    "reviewer_name": "name",
    "reviewer_credentials": "degree",
    "reviewer_specialty": "specialty",
    "reviewer_subspecialty": "subspecialty",
    "reviewer_board": "board certification",
    "reviewer_license": "state(s) of license",
    "reviewer_employer": "employer or review company",
}


def _reviewer_lines(call: Call) -> list[str]:
    said, declined = [], []
    for key, label in _REVIEWER_WORDS.items():
        if call.value(key):
            said.append(f"{label}: {_known(call, key)}")
        elif key in call.declined:
            declined.append(label)
    lines: list[str] = []
    if said:
        lines += _para("You gave your details as follows: " + "; ".join(said) + ".")
    else:
        lines += _para(f"You gave your name as {BLANK} and your specialty as {BLANK}.")
    if declined:
        listed = (
            ", ".join(declined[:-1]) + " or " + declined[-1] if len(declined) > 1 else declined[0]
        )
        lines += _para(f"When asked, you declined to give your {listed}.")
    same = call.value("reviewer_same_specialty")
    if same == "no":
        lines += _para(
            "You confirmed that you do not practice in the same specialty as the treating "
            "clinician."
        )
    elif same == "yes":
        lines += _para("You confirmed that you practice in the same specialty.")
    return lines


def render_letter(record: CallRecord, generated_at: datetime) -> str:
    """The letter draft as plain text. `generated_at` dates the letter (in the call's zone)."""
    from p2pcall.domain.timefmt import to_local

    call = record.call
    views = c.note_views(record)
    current = [v for v in views if not v.corrected_by]  # a correction stands for its original

    def notes_of(kind: NoteKind | None = None, section: Section | None = None) -> list[str]:
        chosen = [
            v
            for v in current
            if (kind is None or v.note.kind is kind)
            and (section is None or v.note.section is section)
        ]
        return [
            visible(v.note.body) + (" (added after the call)" if v.note.late else "")
            for v in chosen
        ]

    day, span = _when(call)
    written = to_local(c.normalize_generated_at(generated_at), call.tz)
    letter_date = written.format("D MMMM YYYY")
    same_day = call.started_at is not None and (
        to_local(call.started_at, call.tz).date() == written.date()
    )
    insurer = _value(call, "insurer")
    name = call.value("reviewer_name")
    lines = [
        "DRAFT - complete every blank (________), check every line, then delete this line.",
        "",
        f"[Practice name, address, telephone, fax: {BLANK}]",
        "",
        letter_date,
        "",
        f"To: {insurer}, utilization management",
        f"    Sent by: {BLANK} (fax, portal or post)",
        "",
        f"Re: Peer-to-peer review call on {day}",
        f"    Patient: {BLANK}   Member ID: {BLANK}   Our reference: {_value(call, 'patient_ref')}",
        f"    Authorization / case no.: {_value(call, 'auth_ref')}",
    ]
    for key in ("claim_ref", "call_ref", "appeal_ref"):
        if call.value(key):
            lines.append(f"    {spec_for(key).label}: {_known(call, key)}")
    lines += ["", f"Dear {visible(name) if name else 'Dr. ' + BLANK},", ""]

    review = _known(call, "review_type").lower() or "review"
    service = ", ".join(
        part for part in (_known(call, "level_of_care"), _known(call, "service_detail")) if part
    )
    lines += _para(
        f"Thank you for speaking with me on {day}, {span}, about the {review} request for "
        f"{service or BLANK}. I am writing {'the same day ' if same_day else ''}to confirm what "
        "we discussed and what was agreed, so that we share one record of the call."
    )

    lines += ["", "The reviewer", *_reviewer_lines(call)]

    lines += ["", "What we discussed"]
    treatment = [
        f"{spec_for(k).label}: {_known(call, k)}"
        for k in (
            "level_of_care",
            "service_detail",
            "service_codes",
            "service_units",
            "service_dates",
        )
        if call.value(k)
    ]
    lines += _bullet(
        "The treatment requested: " + ("; ".join(treatment) if treatment else BLANK) + "."
    )
    for text in notes_of(NoteKind.NEW_INFO):
        lines += _bullet("New clinical information I gave you: " + text)
    for text in notes_of(section=Section.C, kind=NoteKind.NOTE):
        lines += _bullet(text)

    lines += ["", "Criteria cited"]
    criteria_set = _known(call, "criteria_set")
    if "criteria_set" in call.declined and not criteria_set:
        criteria_set = "you declined to say"
    lines += _bullet(f"Criteria set: {criteria_set or BLANK}")
    lines += _bullet(f"Version: {_known(call, 'criteria_version') or BLANK}")
    cited = _known(call, "criterion_cited")
    if "criterion_cited" in call.declined and not cited:
        cited = "you declined to name one"
    lines += _bullet(f"The criterion you said was not met: {cited or BLANK}")
    quotes = notes_of(NoteKind.QUOTE)
    if quotes:
        lines += ["", "Your words, as I noted them during the call"]
        for text in quotes:
            lines += _bullet(f"\u201c{text}\u201d")

    lines += ["", "Commitments made on the call"]
    commitments = notes_of(NoteKind.COMMITMENT)
    for text in commitments:
        lines += _bullet(text)
    if not commitments:
        lines += _bullet(f"None were noted during the call. {BLANK}")

    lines += ["", "Outcome"]
    outcome = call.outcome.label if call.outcome else _known(call, "coverage_status")
    lines += _para(
        f"As I understood it at the end of the call, the request is: {outcome or BLANK}."
    )
    if call.value("still_needed"):
        lines += _para(f"Still needed: {_known(call, 'still_needed')}")
    if call.value("decision_expected"):
        lines += _para(f"A decision is expected by: {_known(call, 'decision_expected')}")
    alternative = _known(call, "alternative_plan")
    if "alternative_plan" in call.declined and not alternative:
        lines += _para("You declined to propose an alternative treatment plan.")
    elif alternative:
        lines += _para(f"The alternative you proposed: {alternative}")

    lines += ["", "Documents requested"]
    for key, what in (
        ("doc_decision", "The written decision, naming the criterion applied"),
        ("doc_criteria", "A copy of the criteria used"),
        ("doc_credentials", "Your credentials"),
    ):
        status = DocStatus.parse(call.value(key))
        by = _known(call, f"{key}_by")
        state = status.label.lower() if status else f"requested {BLANK}"
        lines += _bullet(f"{what}: {state}" + (f", by {by}" if by else ""))
    if call.value("doc_other"):
        lines += _bullet(f"Other: {_known(call, 'doc_other')}")
    lines += [""]
    lines += _para(
        f"Please send these documents to {BLANK}. If your record of the call differs from this "
        f"letter in any way, please tell me in writing by {BLANK}."
    )
    lines += [
        "",
        "Sincerely,",
        "",
        "",
        BLANK * 3,
        f"[Name, credentials: {BLANK}]",
        f"[NPI and direct telephone: {BLANK}]",
        "",
    ]
    return "\n".join(line.rstrip() for line in lines)
