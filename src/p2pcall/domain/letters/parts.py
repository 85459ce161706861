"""Pieces every letter shares: the letterhead, the reference block, the signature, the
clinician's case, the reviewer as recorded, the reviewer's words, commitments, documents.

Each sentence says where its fact comes from ("my record of the call shows", "I noted")
and never more than the record holds. What the record does not hold is a `Blank` that says
what goes there; a refusal the record shows is said as a refusal, never next to a blank.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from p2pcall.domain.letters.facts import LetterFacts, NoteFact
from p2pcall.domain.letters.model import (
    Blank,
    Block,
    Bullets,
    Check,
    Heading,
    Inline,
    Lines,
    Para,
    Quote,
    para,
)
from p2pcall.domain.letters.practice import PRACTICE_FIELDS, Practice
from p2pcall.domain.sections import Section
from p2pcall.domain.text import visible
from p2pcall.domain.vocab import DocStatus, NoteKind, ReviewType

if TYPE_CHECKING:
    from p2pcall.domain.letters.rules import Programme

_BLANK_FOR = {key: what for key, _, what in PRACTICE_FIELDS}


def listing(items: list[str], joiner: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {joiner} " + items[-1]


# -- dates ---------------------------------------------------------------------------------


def call_day(f: LetterFacts) -> str:
    """'Monday 23 November 2026', or what to fill in when the call has no start."""
    from p2pcall.domain.timefmt import to_local

    if f.started_at is None:
        return ""
    return to_local(f.started_at, f.tz).format("dddd D MMMM YYYY")


def call_span(f: LetterFacts) -> str:
    """'from 10:00 to 10:18 (America/New_York, UTC-05:00)'."""
    from p2pcall.domain.timefmt import to_local, utc_offset

    if f.started_at is None:
        return ""
    start = to_local(f.started_at, f.tz)
    zone = f"({f.tz}, UTC{utc_offset(start)})"
    if f.ended_at is None:
        return f"starting at {start.format('HH:mm')} {zone}"
    end = to_local(f.ended_at, f.tz)
    return f"from {start.format('HH:mm')} to {end.format('HH:mm')} {zone}"


def when_pieces(f: LetterFacts) -> list[Inline]:
    day = call_day(f)
    if not day:
        return [Blank("the date and time of the call")]
    return [f"{day}, {call_span(f)}"]


def letter_date(f: LetterFacts, generated_at: datetime) -> tuple[str, bool]:
    """The letter's date in the call's zone, and whether it is the day of the call."""
    from p2pcall.domain.timefmt import to_local

    written = to_local(generated_at, f.tz)
    same_day = f.started_at is not None and to_local(f.started_at, f.tz).date() == written.date()
    return written.format("D MMMM YYYY"), same_day


# -- letterhead, reference, signature -------------------------------------------------------


def _shown(practice: Practice, key: str) -> str:
    """A setting as printed: typed by the user, so control characters made visible."""
    return visible(practice.get(key))


def _value_or_blank(practice: Practice, key: str, label: str = "") -> tuple[Inline, ...]:
    value = _shown(practice, key)
    if value:
        return (label + value,) if label else (value,)
    return (label, Blank(_BLANK_FOR[key])) if label else (Blank(_BLANK_FOR[key]),)


def sender(practice: Practice) -> Lines:
    lines: list[tuple[Inline, ...]] = [_value_or_blank(practice, "practice")]
    if practice.address:
        address = _shown(practice, "address")
        lines += [(line.strip(),) for line in address.split("\n") if line.strip()]
    else:
        lines.append((Blank("practice address"),))
    lines.append(_value_or_blank(practice, "phone", "Telephone: "))
    lines.append(_value_or_blank(practice, "fax", "Fax: "))
    return Lines(tuple(lines))


def signature(practice: Practice) -> Lines:
    name = _shown(practice, "name")
    creds = _shown(practice, "credentials")
    first: tuple[Inline, ...]
    if name and creds:
        first = (f"{name}, {creds}",)
    elif name:
        first = (name, ", ", Blank(_BLANK_FOR["credentials"]))
    else:
        first = (Blank("your name and credentials"),)
    lines: list[tuple[Inline, ...]] = [("",), first]
    if practice.specialty:
        lines.append((_shown(practice, "specialty"),))
    lines.append(_value_or_blank(practice, "npi", "NPI: "))
    lines.append(_value_or_blank(practice, "practice"))
    lines.append(_value_or_blank(practice, "phone", "Telephone: "))
    lines.append(_value_or_blank(practice, "fax", "Fax: "))
    return Lines(tuple(lines))


def insurer(f: LetterFacts) -> Inline:
    return f.text("insurer") or Blank("the insurer's name")


def reference(f: LetterFacts, subject: str, *, with_call: bool = True) -> Lines:
    lines: list[tuple[Inline, ...]] = [
        (f"Re: {subject}",),
        ("Patient: ", Blank("patient's full name"), "   Date of birth: ", Blank("date of birth")),
        ("Member ID: ", Blank("member ID")),
    ]
    if f.has("patient_ref"):
        lines.append((f"Our reference: {f.text('patient_ref')}",))
    lines.append(("Authorization / case no.: ", f.text("auth_ref") or Blank("case number")))
    for key, label in (
        ("claim_ref", "Claim no."),
        ("call_ref", "Call reference"),
        ("appeal_ref", "Appeal no."),
    ):
        if f.has(key):
            lines.append((f"{label}: {f.text(key)}",))
    if with_call and call_day(f):
        lines.append((f"Peer-to-peer call: {call_day(f)}",))
    return Lines(tuple(lines))


def salutation(f: LetterFacts, team: str) -> str:
    """'Dear <name as recorded>,' or the team: never a title the record does not hold."""
    if f.has("reviewer_name"):
        return f"Dear {f.text('reviewer_name')},"
    return f"To the {team}:"


# -- what was asked for ----------------------------------------------------------------------

REVIEW_PHRASES = {
    ReviewType.PRE_SERVICE: "the prior authorization request",
    ReviewType.CONCURRENT: "the concurrent review of the patient's ongoing care",
    ReviewType.RETROSPECTIVE: "the retrospective review",
    ReviewType.APPEAL: "the appeal",
}


def review_phrase(f: LetterFacts) -> str:
    return REVIEW_PHRASES.get(f.review_type, "the request") if f.review_type else "the request"


def service(f: LetterFacts) -> str:
    """The care asked for, once: 'Residential treatment, continued stay' rather than
    'Residential, Residential treatment, continued stay'."""
    level = f.text("level_of_care")
    detail = f.text("service_detail")
    if level and detail:
        if detail.lower().startswith(level.split(" (")[0].lower()):
            return detail
        return f"{detail} ({level})"
    return detail or level


def service_or_blank(f: LetterFacts) -> Inline:
    return service(f) or Blank("the care requested: service and level of care")


def service_lines(f: LetterFacts) -> list[tuple[Inline, ...]]:
    items: list[tuple[Inline, ...]] = [("Care requested: ", service_or_blank(f))]
    for key, label in (
        ("service_codes", "CPT / HCPCS"),
        ("service_units", "Units or frequency"),
        ("service_dates", "Dates"),
    ):
        if f.has(key):
            items.append((f"{label}: {f.text(key)}",))
    return items


# -- notes ----------------------------------------------------------------------------------


def note_lead(n: NoteFact) -> str:
    return f"({n.time}, added after the call)" if n.late else f"({n.time})"


def note_items(notes: list[NoteFact]) -> list[tuple[Inline, ...]]:
    return [(f"{note_lead(n)} {n.text}",) for n in notes]


def my_notes(f: LetterFacts, section: Section, intro: str) -> list[Block]:
    """The clinician's plain notes of one section, each with its time."""
    notes = f.notes_of(kind=NoteKind.NOTE, section=section)
    if not notes:
        return []
    return [para(intro), Bullets(tuple(note_items(notes)))]


# -- the clinician's case -----------------------------------------------------------------


def case_blocks(f: LetterFacts) -> list[Block]:
    """The medical-necessity case: the ask, the denial, history, guideline, new information."""
    blocks: list[Block] = []
    if f.has("the_ask"):
        blocks.append(para(f"What I asked for: {f.text('the_ask')}"))
    blocks.append(Bullets(tuple(service_lines(f))))
    if f.has("diagnosis"):
        blocks.append(para(f"Diagnosis: {f.text('diagnosis')}"))
    if f.has("denial_reason") or f.has("denial_date"):
        dated = f" dated {f.text('denial_date')}" if f.has("denial_date") else ""
        reason: list[Inline] = [f"The denial notice{dated} gives this reason: "]
        reason.append(f.text("denial_reason") or Blank("the reason given in the denial notice"))
        blocks.append(para(*reason))
    if f.has("denial_criteria"):
        blocks.append(para(f"The criteria the denial notice cites: {f.text('denial_criteria')}"))
    if f.has("prior_treatments"):
        tried = [(line.strip(),) for line in f.text("prior_treatments").split("\n") if line.strip()]
        blocks += [para("Treatment already tried, and its result:"), Bullets(tuple(tried))]
    if f.has("patient_factors"):
        blocks.append(
            para(f"What makes this patient's case different: {f.text('patient_factors')}")
        )
    if f.has("guideline"):
        blocks.append(para(f"Guideline support for the request: {f.text('guideline')}"))
    new_info = f.notes_of(kind=NoteKind.NEW_INFO)
    if new_info:
        blocks += [
            para("New clinical information I gave on the call (since the request was made):"),
            Bullets(tuple(note_items(new_info))),
        ]
    blocks += my_notes(f, Section.A, "From my notes on the case summary:")
    blocks += my_notes(f, Section.C, "From my notes on the treatment and level of care:")
    if (
        not any(f.has(k) for k in ("the_ask", "prior_treatments", "patient_factors", "guideline"))
        and not new_info
    ):
        blocks.append(
            para(
                Blank(
                    "the clinical case for this care: history, prior treatment and its "
                    "result, current risk, and the guideline that supports it"
                )
            )
        )
    return blocks


# -- the reviewer -----------------------------------------------------------------------------


def reviewer_blocks(f: LetterFacts) -> list[Block]:
    blocks: list[Block] = []
    given = f.reviewer_given()
    if given:
        details = "; ".join(f"{label}: {value}" for label, value in given)
        blocks.append(para(f"I recorded these details about you during the call: {details}."))
    refused = f.reviewer_refused()
    if not f.has("reviewer_name") and not f.refused("reviewer_name"):
        blocks.append(
            para("I did not record your name. ", Blank("the reviewer's name, if you have it"))
        )
    if refused:
        blocks.append(para(f"When asked, you declined to give your {listing(refused)}."))
    signs = f.not_qualified_signs()
    if signs:
        blocks.append(
            para(f"My record of the call also shows that {listing([s[1] for s in signs])}.")
        )
    blocks += my_notes(f, Section.B, "From my notes on your background:")
    return blocks


# -- criteria, the reviewer's words, the alternative ----------------------------------------


def criteria_blocks(f: LetterFacts, *, to_reviewer: bool = True) -> list[Block]:
    you, your = ("you", "your") if to_reviewer else ("the reviewer", "the reviewer's")
    blocks: list[Block] = []
    items: list[tuple[Inline, ...]] = []
    refused: list[str] = []
    criteria = f.values.get("criteria_set", "")
    if criteria == "not_stated":
        blocks.append(
            para(f"{you[:1].upper()}{you[1:]} did not say which criteria set was applied.")
        )
    elif f.has("criteria_set"):
        items.append((f"Criteria set: {f.text('criteria_set')}",))
    elif f.refused("criteria_set"):
        refused.append("the criteria set")
    else:
        items.append(("Criteria set: ", Blank("the criteria set the reviewer named, if any")))
    if f.has("criteria_version"):
        items.append((f"Version: {f.text('criteria_version')}",))
    elif f.refused("criteria_version"):
        refused.append("its version")
    elif criteria != "not_stated":
        items.append(("Version: ", Blank("the version, if the reviewer gave it")))
    if f.has("criterion_cited"):
        items.append((f"The criterion {you} cited: {f.text('criterion_cited')}",))
    elif f.refused("criterion_cited"):
        refused.append("the specific criterion applied")
    else:
        items.append(
            (f"The criterion {you} cited: ", Blank("the criterion, in the reviewer's words"))
        )
    if items:
        blocks.insert(0, para("My record of the call shows:"))
        blocks.insert(1, Bullets(tuple(items)))
    if refused:
        blocks.append(para(f"When asked, {you} declined to name {listing(refused)}."))
    blocks += my_notes(f, Section.D, f"From my notes on the basis of {your} assessment:")
    return blocks


def quote_blocks(f: LetterFacts, *, to_reviewer: bool = True) -> list[Block]:
    quotes = f.notes_of(kind=NoteKind.QUOTE)
    if not quotes:
        return []
    whose, said = ("Your", "you said them") if to_reviewer else ("The reviewer's", "they were said")
    blocks: list[Block] = [
        Heading(f"{whose} words, as I noted them"),
        para(
            f"I typed these as {said}. Each shows the time I saved it, and whether I noted it "
            "during the call or after it."
        ),
    ]
    for n in quotes:
        lead = (
            f"Noted after the call ({n.time}):" if n.late else f"Noted during the call at {n.time}:"
        )
        blocks.append(Quote(lead, n.text))
    return blocks


def alternative_blocks(f: LetterFacts) -> list[Block]:
    blocks: list[Block] = []
    if f.has("alternative_plan"):
        blocks.append(
            para(f"The alternative you proposed, as I noted it: {f.text('alternative_plan')}")
        )
    elif f.refused("alternative_plan"):
        blocks.append(para("When asked, you declined to propose an alternative treatment plan."))
    blocks += my_notes(f, Section.F, "From my notes on the alternative:")
    return blocks


def commitment_blocks(f: LetterFacts) -> list[Block]:
    commitments = f.notes_of(kind=NoteKind.COMMITMENT)
    if not commitments:
        return []
    items = []
    for n in commitments:
        due = f" Due: {n.due}." if n.due else ""
        items.append((f"{note_lead(n)} {n.text}{due}",))
    return [
        Heading("Commitments made on the call"),
        para("As I noted them, with the time of each:"),
        Bullets(tuple(items)),
    ]


_STATUS_WORDS = {
    DocStatus.PROMISED: "you said you would send it",
    DocStatus.REQUESTED: "I asked for it; my record shows no answer",
    DocStatus.REFUSED: "I asked for it and you refused",
    DocStatus.RECEIVED: "received",
}


def document_blocks(f: LetterFacts, *, ask_missing: bool) -> list[Block]:
    """What was asked for on the call and the answer; with `ask_missing`, the rest is asked
    for now, in the letter (never said to have been asked on the call)."""
    items: list[tuple[Inline, ...]] = []
    missing: list[str] = []
    for doc in f.documents():
        if doc.status is None:
            missing.append(doc.what)
            continue
        words = _STATUS_WORDS[doc.status]
        if doc.status is DocStatus.PROMISED and doc.by:
            words += f", by {doc.by}"
        items.append((f"{doc.what[:1].upper()}{doc.what[1:]}: {words}.",))
    if f.has("doc_other"):
        items.append((f"Other documents, as noted: {f.text('doc_other')}",))
    blocks: list[Block] = []
    if items:
        blocks += [para("Documents I asked for on the call:"), Bullets(tuple(items))]
    blocks += my_notes(f, Section.G, "From my notes on documents:")
    if ask_missing and missing:
        blocks.append(para(f"I also ask you now for {listing(missing)}."))
    wanted = [d for d in f.documents() if d.status in (DocStatus.PROMISED, DocStatus.REQUESTED)]
    if blocks and (wanted or (ask_missing and missing)):
        blocks.append(send_to_me())
    return blocks


def send_to_me() -> Para:
    return para("Please send them to me at the fax number or address above.")


def specialty_ask(programme: Programme, practice: Practice) -> str:
    """The request for a reviewer of the treating clinician's field, naming it when known."""
    field = f" ({_shown(practice, 'specialty')})" if practice.specialty else ""
    return f"{programme.same_specialty_ask}{field}."


def reviewer_rule_blocks(
    f: LetterFacts, programme: Programme, practice: Practice, *, ask: bool
) -> list[Block]:
    """The request for a reviewer of the treating clinician's field, with the rule."""
    from p2pcall.domain.letters.rules import NCQA_REVIEWER

    blocks: list[Block] = []
    if ask:
        blocks.append(para(specialty_ask(programme, practice)))
    if programme.reviewer_rule:
        blocks.append(para(programme.reviewer_rule))
    else:
        blocks.append(
            para(
                "The rule that applies: ",
                Blank(
                    "the rule on reviewer qualifications for this plan (the plan type is not "
                    "recorded), e.g. a state utilization review law"
                ),
                ".",
            )
        )
    blocks.append(para(NCQA_REVIEWER))
    if f.has("state"):
        blocks.append(
            para(Check(f"add any {f.text('state')} law on reviewer qualifications, or delete this"))
        )
    return blocks


def claim_file_para(f: LetterFacts) -> Para:
    return para(
        "Please place this letter in the file for this request and consider it in any further "
        "review or appeal. If your record of the call differs from this letter in any way, "
        "please tell me in writing."
    )
