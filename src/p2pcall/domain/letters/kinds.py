"""The four letters: written confirmation, expedited appeal, request for records, complaint.

Each builder turns `LetterFacts` (and the practice's details) into a `Letter`; which
paragraphs appear depends on the facts: outcome, urgency, programme, review type, what was
declined, what was promised. A letter the record gives no ground for raises
`LetterUnavailable` with the reason in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from p2pcall.domain.letters import parts as p
from p2pcall.domain.letters.facts import LetterFacts
from p2pcall.domain.letters.model import (
    Blank,
    Block,
    Bullets,
    Check,
    Heading,
    Inline,
    Letter,
    Lines,
    para,
)
from p2pcall.domain.letters.practice import Practice
from p2pcall.domain.letters.rules import Programme, programme_for
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import DocStatus, NoteKind, Outcome, ReviewType, YesNo


class LetterUnavailable(ValueError):
    """The record gives no ground for this letter; the message says why."""


def _programme(f: LetterFacts) -> Programme:
    return programme_for(f.plan_type.value if f.plan_type else "")


def _frame(
    f: LetterFacts,
    practice: Practice,
    generated_at: datetime,
    *,
    kind: str,
    title: str,
    subject: str,
    recipient: list[tuple[Inline, ...]],
    team: str,
    body: list[Block],
    salute_reviewer: bool = False,
) -> Letter:
    date, _ = p.letter_date(f, generated_at)
    return Letter(
        kind=kind,
        title=title,
        sender=p.sender(practice),
        date=date,
        recipient=Lines(tuple(recipient)),
        reference=p.reference(f, subject),
        salutation=p.salutation(f, team) if salute_reviewer else f"To the {team}:",
        body=body,
        signature=p.signature(practice),
    )


def _insurer_lines(f: LetterFacts, department: str) -> list[tuple[Inline, ...]]:
    return [
        (p.insurer(f),),
        (department,),
        ("By fax, portal or post: ", Blank("the fax number, portal or address to send it to")),
    ]


# -- 1. the written confirmation ----------------------------------------------------------------


def confirmation(f: LetterFacts, practice: Practice, generated_at: datetime) -> Letter:
    programme = _programme(f)
    _, same_day = p.letter_date(f, generated_at)
    body: list[Block] = [
        para(
            "Thank you for speaking with me on ",
            *p.when_pieces(f),
            f", about {p.review_phrase(f)}"
            f"{' for ' + p.service(f) if p.service(f) else ''}. I am writing"
            f"{' the same day' if same_day else ''} to confirm what was discussed and agreed, "
            "so that we both hold the same record of the call. My notes were typed during the "
            "call; anything I added after it is marked as such.",
        ),
        Heading("Who reviewed the request"),
        *p.reviewer_blocks(f),
        Heading("The case I presented"),
        *p.case_blocks(f),
        Heading("The decision"),
        *_decision_blocks(f),
    ]
    if f.outcome is not Outcome.APPROVED:
        body += [Heading("The criteria applied"), *p.criteria_blocks(f)]
    body += p.quote_blocks(f)
    if f.adverse:
        alternative = p.alternative_blocks(f)
        if alternative:
            body += [Heading("The alternative you proposed"), *alternative]
    body += p.commitment_blocks(f)
    documents = p.document_blocks(f, ask_missing=f.adverse)
    if documents:
        body += [Heading("Documents"), *documents]
    if f.yes_no("reviewer_same_specialty") is YesNo.NO and f.outcome is not Outcome.APPROVED:
        body += [
            Heading("A reviewer in my field"),
            *p.reviewer_rule_blocks(f, programme, practice, ask=True),
        ]
    body.append(p.claim_file_para(f))
    return _frame(
        f,
        practice,
        generated_at,
        kind="confirmation",
        title="Written confirmation of the peer-to-peer call",
        subject="Written confirmation of the peer-to-peer review call",
        recipient=_insurer_lines(f, "Utilization management"),
        team="utilization management team",
        body=body,
        salute_reviewer=True,
    )


def _decision_blocks(f: LetterFacts) -> list[Block]:
    outcome = f.outcome
    blocks: list[Block] = []
    if outcome is Outcome.APPROVED:
        blocks += [
            para("At the end of the call I understood that you approved the request."),
            para(
                "Please confirm the approval in writing, with the authorization number and the "
                "approved level of care, units and dates. My record shows:"
            ),
            Bullets(
                (
                    (
                        "Authorization / case no.: ",
                        f.text("auth_ref") or Blank("the authorization number given on the call"),
                    ),
                    ("Requested: ", _requested(f)),
                    (
                        "Approved: ",
                        Blank("what was approved on the call: level of care, units, dates"),
                    ),
                )
            ),
        ]
    elif outcome is Outcome.PARTIAL:
        blocks += [
            para(
                "At the end of the call I understood that you approved part of the request and "
                "not the rest. My record shows:"
            ),
            Bullets(
                (
                    (
                        "Authorization / case no.: ",
                        f.text("auth_ref") or Blank("the authorization number given on the call"),
                    ),
                    ("Requested: ", _requested(f)),
                    ("Approved: ", Blank("the part approved: level of care, units, dates")),
                    ("Not approved: ", Blank("the part not approved")),
                )
            ),
            para(
                "Please send the written decision on the part not approved, with the criterion "
                "applied and how to appeal."
            ),
        ]
    elif outcome is Outcome.DENIED:
        if f.review_type is ReviewType.APPEAL:
            blocks.append(
                para("At the end of the call I understood that the denial was upheld on appeal.")
            )
        else:
            blocks.append(
                para("At the end of the call I understood that the request remains denied.")
            )
        blocks.append(
            para("Please send the written decision, with the criterion applied and how to appeal.")
        )
    elif outcome is Outcome.PENDING:
        blocks.append(para("No decision was made on the call."))
    elif outcome is Outcome.EDUCATIONAL:
        blocks.append(para("The call was for discussion only: no decision was made on it."))
    else:
        blocks.append(para("The outcome of the call: ", Blank("what was decided, if anything")))
    if outcome not in (Outcome.APPROVED, Outcome.DENIED) or f.has("decision_expected"):
        if f.has("decision_expected"):
            blocks.append(
                para(f"I understood that a decision will come by {f.text('decision_expected')}.")
            )
        elif outcome in (Outcome.PENDING, Outcome.EDUCATIONAL, None):
            blocks.append(para("Please tell me when a decision will be made."))
    if f.has("still_needed"):
        blocks.append(para(f"What I understood is still needed: {f.text('still_needed')}"))
    blocks += p.my_notes(f, Section.E, "From my notes on the status and next steps:")
    return blocks


def _requested(f: LetterFacts) -> str | Blank:
    parts = [p.service(f)] + [f.text(k) for k in ("service_units", "service_dates")]
    shown = ", ".join(x for x in parts if x)
    return shown or Blank("what was requested")


# -- 2. the expedited appeal --------------------------------------------------------------------


def expedited_appeal(f: LetterFacts, practice: Practice, generated_at: datetime) -> Letter:
    if not f.adverse:
        shown = f.outcome.label if f.outcome else "no outcome yet"
        raise LetterUnavailable(
            f"An expedited appeal answers a denial; this call's outcome is {shown}."
        )
    programme = _programme(f)
    word = programme.appeal_word
    day = p.call_day(f)
    dated = f"the decision dated {f.text('denial_date')}" if f.has("denial_date") else ""
    decided: list[Inline]
    if dated and day:
        decided = [f"{dated}, maintained on the peer-to-peer call of {day},"]
    elif dated or day:
        decided = [dated or f"the decision given on the peer-to-peer call of {day},"]
    else:
        decided = [Blank("the decision and its date"), ","]
    what = (
        " which approved only part of the request for "
        if f.outcome is Outcome.PARTIAL
        else " which did not approve the request for "
    )
    body: list[Block] = [
        para(
            f"I am the treating clinician, and I ask for an expedited {word} of ",
            *decided,
            what,
            p.service_or_blank(f),
            ".",
        ),
    ]
    body += _representative_checks(programme)
    body.append(Heading("Why this cannot wait"))
    if not f.urgent:
        body.append(
            para(
                Check(
                    "the call record does not mark this case as urgent; keep the next "
                    "paragraph only if it is your clinical judgment"
                )
            )
        )
    body.append(
        para(
            f"In my judgment as the treating clinician, applying the standard timeframe for this "
            f"{word} could seriously jeopardize the patient's life or health or ability to "
            "regain maximum function, because ",
            Blank(
                "in one or two sentences, what could happen to the patient without this care now"
            ),
            ".",
        )
    )
    if programme.urgent_rule:
        body.append(para(programme.urgent_rule))
    body.append(Heading("The care at stake"))
    if f.concurrent:
        body.append(
            para(
                "This is care the patient is receiving now (a concurrent review). The current "
                "authorization ends on ",
                Blank("the last covered day of the current authorization"),
                ".",
            )
        )
    body.append(Bullets(tuple(p.service_lines(f))))
    body += [Heading("The clinical case"), *_case_without_service(f)]
    body += [Heading("The decision and the review")]
    body += p.criteria_blocks(f, to_reviewer=False)
    signs = f.not_qualified_signs()
    if signs:
        body.append(para(f"My record of the call shows that {p.listing([s[2] for s in signs])}."))
    body += p.quote_blocks(f, to_reviewer=False)
    body += [Heading("What I ask")]
    asks: list[tuple[Inline, ...]] = []
    if programme.expedited_clock:
        asks.append((f"An expedited {word}: {programme.expedited_clock}.",))
    else:
        asks.append(
            (
                f"An expedited {word}, within ",
                Blank("the expedited timeframe that applies to this plan"),
                ".",
            )
        )
    if signs:
        asks.append((p.specialty_ask(programme, practice),))
    body.append(Bullets(tuple(asks)))
    if f.concurrent and programme.continued_coverage:
        body.append(para(programme.continued_coverage))
    elif f.concurrent:
        body.append(
            para(
                Check(
                    "ask here for coverage to continue while the appeal is decided, if this plan "
                    "provides it"
                )
            )
        )
    if programme.key == "medicaid_managed" and f.concurrent:
        body.append(
            para(
                Check(
                    "continued benefits must be asked for by or for the enrollee, within 10 days "
                    "of the notice or before the change takes effect (42 CFR 438.420)"
                )
            )
        )
    if programme.external_review:
        body.append(para(programme.external_review))
    if signs and programme.reviewer_rule:
        body.append(para(programme.reviewer_rule))
    body.append(
        para(
            "I am available to discuss this case with the reviewer at the telephone number "
            "above, and ask to be called before any decision is made."
        )
    )
    letter = _frame(
        f,
        practice,
        generated_at,
        kind="expedited-appeal",
        title=f"Request for an expedited {word}",
        subject=f"Request for an expedited {word} (urgent)",
        recipient=_insurer_lines(f, "Appeals" if word == "appeal" else "Reconsiderations"),
        team="appeals department" if word == "appeal" else "reconsideration team",
        body=body,
    )
    letter.enclosures = (
        (Blank("the clinical records enclosed"),),
        ("My written confirmation of the peer-to-peer call, if sent",),
    )
    return letter


def _representative_checks(programme: Programme) -> list[Block]:
    """Who may ask for the appeal for the patient, as the programme's rule says."""
    if programme.key in ("erisa", "aca", "marketplace"):
        text = (
            "for an urgent claim a health care professional with knowledge of the patient's "
            "condition may act as the patient's representative (29 CFR 2560.503-1(b)(4)); "
            "otherwise attach the patient's signed designation"
        )
    elif programme.key == "medicare_advantage":
        text = (
            "a physician may ask for an expedited reconsideration for the enrollee (42 CFR "
            "422.584(a)); other clinicians need the enrollee's appointment of a representative"
        )
    elif programme.key == "medicaid_managed":
        text = (
            "a provider may file an appeal for the enrollee with the enrollee's written "
            "consent (42 CFR 438.402(c)(1)(ii)): attach it"
        )
    else:
        text = "attach the patient's signed designation of you as representative if the plan asks"
    return [para(Check(text))]


def _case_without_service(f: LetterFacts) -> list[Block]:
    """The case as in the confirmation, without the list of care already shown above."""
    blocks = p.case_blocks(f)
    first_bullets = next(i for i, b in enumerate(blocks) if isinstance(b, Bullets))
    return blocks[:first_bullets] + blocks[first_bullets + 1 :]


# -- 3. the request for records ----------------------------------------------------------------


def records_request(f: LetterFacts, practice: Practice, generated_at: datetime) -> Letter:
    programme = _programme(f)
    body: list[Block] = [
        para(
            "I am the treating clinician for the patient named above. I ask, free of charge, "
            "for the following records of this request and its review:"
        ),
    ]
    wanted: list[tuple[Inline, ...]] = [
        (
            "The complete claim or case file: every document, record and note relevant to the "
            "request, including the reviewers' notes and any record of the peer-to-peer call.",
        ),
        (
            "The criteria and any guideline or internal policy relied on: their name and version, "
            "and the specific criterion applied.",
        ),
        (
            "The name, qualifications and specialty of every clinician or other expert consulted "
            "on the request, including the reviewer on the call, whether or not their advice was "
            "relied on.",
        ),
    ]
    if f.documents()[0].status is not DocStatus.RECEIVED:
        wanted.append(("The written decision, naming the criterion applied.",))
    body.append(Bullets(tuple(wanted)))
    if programme.records_rules or programme.criteria_rule:
        body.append(para(f"These rules give {programme.person} the right to them:"))
        rules = [(rule[:1].upper() + rule[1:] + ".",) for rule in programme.records_rules]
        if programme.criteria_rule:
            crit = programme.criteria_rule
            rules.append((crit[:1].upper() + crit[1:] + ".",))
        body.append(Bullets(tuple(rules)))
    else:
        body.append(
            para(
                "The rule that gives this right: ",
                Blank("the rule for this plan (the plan type is not recorded)"),
            )
        )
    on_call = _asked_on_call(f)
    if on_call:
        body += [Heading("What happened when I asked on the call"), *on_call]
    timing = programme.records_timing
    if timing:
        body.append(
            para(
                f"Please send them {timing}, and in any case within ",
                Blank("number of days"),
                " days.",
            )
        )
    else:
        body.append(
            para(
                "Please send them within ",
                Blank("number of days"),
                " days, and in any case "
                "before any decision on an appeal, to the fax number or address above.",
            )
        )
    body.append(
        para(
            Check(
                "most of these rights belong to the patient: attach the patient's signed "
                "authorization or designation of you as representative, unless you ask only for "
                "the criteria, which contracting providers may request themselves"
            )
        )
    )
    return _frame(
        f,
        practice,
        generated_at,
        kind="records-request",
        title="Request for the claim file, the criteria and the reviewers' identities",
        subject="Request for the claim file, criteria and reviewer identities",
        recipient=_insurer_lines(f, "Utilization management and appeals"),
        team="utilization management team",
        body=body,
    )


def _asked_on_call(f: LetterFacts) -> list[Block]:
    items: list[tuple[Inline, ...]] = []
    for doc in f.open_requests():
        what = doc.what.replace("your ", "the reviewer's ")
        if doc.status is DocStatus.REFUSED:
            items.append((f"I asked for {what}; the reviewer refused.",))
        else:
            items.append((f"I asked for {what}; my record shows no answer.",))
    refused = f.reviewer_refused()
    if refused:
        items.append((f"When asked, the reviewer declined to give their {p.listing(refused)}.",))
    if f.criterion_refused():
        items.append(("The reviewer did not name the criterion applied when asked.",))
    if not items:
        return []
    day = p.call_day(f)
    lead = f"On the peer-to-peer call of {day}:" if day else "On the peer-to-peer call:"
    return [para(lead), Bullets(tuple(items))]


# -- 4. the complaint --------------------------------------------------------------------------


def _at(f: LetterFacts, key: str) -> str:
    """' (recorded at 10:03)' when the field's history says when it was set, else ''."""
    return f" (recorded at {f.time_of(key)})" if f.time_of(key) else ""


def complaint_grounds(f: LetterFacts) -> list[str]:
    grounds = []
    if f.not_qualified_signs():
        grounds.append("qualification")
    if f.reviewer_refused() or f.values.get("doc_credentials") == DocStatus.REFUSED.value:
        grounds.append("identity")
    if f.criterion_refused():
        grounds.append("criterion")
    return grounds


def complaint(f: LetterFacts, practice: Practice, generated_at: datetime) -> Letter:
    grounds = complaint_grounds(f)
    if not grounds:
        raise LetterUnavailable(
            "The record shows no ground for a complaint: no reviewer marked as not of your "
            "specialty, nothing they declined to say about themselves, no criterion refused."
        )
    programme = _programme(f)
    recipient: list[tuple[Inline, ...]]
    if programme.key == "medicare_advantage":
        recipient = [
            (p.insurer(f),),
            ("Grievances",),
            ("By fax, portal or post: ", Blank("where the plan takes grievances")),
        ]
    elif programme.complaint_to:
        recipient = [
            (Blank(f"the name and address of {programme.complaint_to}"),),
        ]
    else:
        recipient = [
            (
                Blank(
                    "the regulator for this plan: the state insurance regulator, or the agency "
                    "that oversees it"
                ),
            )
        ]
    p.call_day(f)
    body: list[Block] = [
        para(
            "I am the treating clinician for the patient named above. I write to complain about "
            "how ",
            p.insurer(f),
            f" handled {p.review_phrase(f)} for ",
            p.service_or_blank(f),
            ", in a peer-to-peer call on ",
            *p.when_pieces(f),
            ".",
        ),
    ]
    if programme.name:
        body.append(para(f"The coverage is {programme.name}."))
    else:
        body.append(
            para(
                "The coverage is ",
                Blank("the type of plan: employer plan, individual, Medicare Advantage, Medicaid"),
                ".",
            )
        )
    if programme.key == "medicare_advantage":
        body.append(
            para(
                Check(
                    "Medicare also takes complaints at 1-800-MEDICARE (1-800-633-4227); use this "
                    "letter when you call, or send it where they tell you"
                )
            )
        )
    elif programme.key == "erisa":
        body.append(
            para(
                Check(
                    "a self-funded employer plan is overseen by the U.S. Department of Labor "
                    "(EBSA), an insured one by the state insurance regulator: ask the plan or the "
                    "employer which it is"
                )
            )
        )
    body.append(Heading("What happened"))
    facts: list[tuple[Inline, ...]] = []
    outcome = f.outcome.label.split(" /")[0].lower() if f.outcome else ""
    if outcome:
        facts.append((f"Outcome recorded at the end of the call: {outcome}.",))
    if "qualification" in grounds:
        for key, _, about in f.not_qualified_signs():
            facts.append((f"My record of the call shows that {about}{_at(f, key)}.",))
        if f.has("reviewer_specialty"):
            facts.append(
                (f"The reviewer's specialty, as recorded: {f.text('reviewer_specialty')}.",)
            )
    if "identity" in grounds:
        from p2pcall.domain.letters.facts import REVIEWER_ITEMS

        refused = [(key, label) for key, label in REVIEWER_ITEMS if f.refused(key)]
        if refused and any(f.time_of(key) for key, _ in refused):
            for key, label in refused:  # one line each, with the time it was recorded
                facts.append(
                    (f"When asked, the reviewer declined to give their {label}{_at(f, key)}.",)
                )
        elif refused:
            labels = p.listing([label for _, label in refused])
            facts.append((f"When asked, the reviewer declined to give their {labels}.",))
        if f.values.get("doc_credentials") == DocStatus.REFUSED.value:
            facts.append(
                (
                    "I asked for the reviewer's credentials in writing; the reviewer refused"
                    f"{_at(f, 'doc_credentials')}.",
                )
            )
    if "criterion" in grounds:
        if f.values.get("criteria_set") == "not_stated":
            facts.append(
                (
                    "The reviewer did not say which criteria set was applied"
                    f"{_at(f, 'criteria_set')}.",
                )
            )
        if f.refused("criteria_set"):
            facts.append(
                (
                    "When asked, the reviewer declined to name the criteria set"
                    f"{_at(f, 'criteria_set')}.",
                )
            )
        if f.refused("criterion_cited"):
            facts.append(
                (
                    "When asked, the reviewer declined to name the specific criterion applied"
                    f"{_at(f, 'criterion_cited')}.",
                )
            )
    facts += p.note_items(f.notes_of(kind=NoteKind.NOTE, section=Section.B))
    facts += p.note_items(f.notes_of(kind=NoteKind.NOTE, section=Section.D))
    body.append(Bullets(tuple(facts)))
    body += p.quote_blocks(f, to_reviewer=False)
    body.append(Heading("The rules these facts bear on"))
    body.append(para("I ask you to review whether the plan met these requirements:"))
    rules: list[tuple[Inline, ...]] = []
    if "qualification" in grounds:
        rules.append(
            (
                "Who may review: ",
                programme.reviewer_rule
                or Blank("the rule on reviewer qualifications for this plan"),
            )
        )
    if "identity" in grounds:
        rules.append(
            (
                "Identifying the reviewer: ",
                programme.identity_rule or Blank("the rule on identifying reviewers for this plan"),
                ".",
            )
        )
    if "criterion" in grounds:
        rules.append(
            (
                "Naming the criterion: ",
                programme.criterion_rule or Blank("the rule on disclosing criteria for this plan"),
                ".",
            )
        )
    body.append(Bullets(tuple(rules)))
    from p2pcall.domain.letters.rules import NCQA_REVIEWER

    if "qualification" in grounds:
        body.append(para(NCQA_REVIEWER))
    if f.has("state"):
        body.append(
            para(Check(f"add any {f.text('state')} law these facts bear on, or delete this"))
        )
    body.append(Heading("The record of the call"))
    body.append(
        para(
            "I attach the record of the call, exported from the program I took notes in during "
            "the call (p2pcall): ",
            Blank("the file name of the attached export"),
            ". Each note "
            "carries the time it was saved, and anything added after the call is marked as such.",
        )
    )
    if f.finalized and f.chain_head:
        body.append(
            para(
                "The record was finalized after the call. Its hash-chain head, a fingerprint "
                f"of the whole record that changes if any of it changes, is {f.chain_head}."
            )
        )
    else:
        body.append(
            para(
                Check(
                    "the record is not finalized yet: finish the call's wrap-up (Ctrl+S), export "
                    "it, and make this letter again so that it gives the record's hash-chain head"
                )
            )
        )
    body.append(para("Please look into this complaint and tell me what you find."))
    body.append(
        para(
            Check(
                "give the regulator only the patient information it needs, and follow your "
                "practice's rules on the patient's consent"
            )
        )
    )
    letter = _frame(
        f,
        practice,
        generated_at,
        kind="complaint",
        title="Complaint about a peer-to-peer review",
        subject="Complaint about the review of a request for care",
        recipient=recipient,
        team="grievance team" if programme.key == "medicare_advantage" else "complaints unit",
        body=body,
    )
    letter.enclosures = (("The record of the call, exported from p2pcall",),)
    return letter


BUILDERS: dict[str, Callable[[LetterFacts, Practice, datetime], Letter]] = {
    "confirmation": confirmation,
    "expedited-appeal": expedited_appeal,
    "records-request": records_request,
    "complaint": complaint,
}
