"""What each programme's rules say, for the letters: who may review, what the patient's side
may ask for, how fast an urgent appeal is decided, where a complaint goes.

Written in our own words with the citation beside each statement, conservatively: a rule is
stated only as far as it goes (the ERISA reviewer-expertise rule governs appeals, so the
letters say "on appeal"). Where the plan type is unknown the letters leave a blank for the
rule instead of guessing. The clinical-clock work (issue 12) keeps its own deadline table;
at merge these can share one programme key (`PlanType`).
"""

from __future__ import annotations

from dataclasses import dataclass

from p2pcall.domain.vocab import PlanType


@dataclass(frozen=True)
class Programme:
    key: str
    name: str  # how the letter names the coverage
    person: str  # the patient as the rules call them
    appeal_word: str  # what the next level of review is called
    reviewer_rule: str  # who must make or review the decision, with the citation
    same_specialty_ask: str  # what the clinician can ask for, worded as the rule allows
    records_rules: tuple[str, ...]  # the rights behind the request for records
    criteria_rule: str  # the parity disclosure of medical-necessity criteria
    urgent_rule: str  # the treating clinician's urgency statement and its weight
    expedited_clock: str  # how fast the expedited review is decided
    continued_coverage: str  # care already under way, while the appeal is decided ('' if none)
    external_review: str  # simultaneous expedited external review ('' where not offered)
    complaint_to: str  # who receives a complaint
    identity_rule: str  # the rule behind asking who reviewed the case
    criterion_rule: str  # the rule behind naming the criterion applied
    records_timing: str = ""  # when the records must be given, where a rule says so


_ERISA_RECORDS = (
    "reasonable access to, and copies of, all documents, records and other information "
    "relevant to the claim, free of charge (29 CFR 2560.503-1(h)(2)(iii))",
    "the identity of the medical or vocational experts whose advice was obtained on the "
    "plan's behalf in connection with the decision, whether or not that advice was relied on "
    "(29 CFR 2560.503-1(h)(3)(iv))",
    "any internal rule, guideline, protocol or similar criterion relied on in making the "
    "decision, free of charge (29 CFR 2560.503-1(g)(1)(v))",
)

_ERISA_URGENT = (
    "When a physician with knowledge of the patient's condition determines that a claim "
    "involves urgent care, the plan must treat it as urgent (29 CFR 2560.503-1(m)(1)(ii)), "
    "and an urgent appeal may be requested orally or in writing (29 CFR "
    "2560.503-1(h)(3)(vi))."
)

ERISA = Programme(
    key="erisa",
    name="an employer-sponsored plan governed by ERISA",
    person="the participant",
    appeal_word="appeal",
    reviewer_rule=(
        "On appeal of a decision based on a medical judgment, the plan must consult a health "
        "care professional with appropriate training and experience in the field of medicine "
        "involved (29 CFR 2560.503-1(h)(3)(iii)), who was not consulted on the decision under "
        "appeal and is not that person's subordinate (29 CFR 2560.503-1(h)(3)(v))."
    ),
    same_specialty_ask=(
        "I ask that any further review of this request, and any appeal, be made by a reviewer "
        "with training and experience in my field"
    ),
    records_rules=_ERISA_RECORDS,
    criteria_rule=(
        "the criteria for medical necessity determinations for mental health and substance "
        "use disorder benefits, which the plan must make available on request to participants "
        "and contracting providers (29 CFR 2590.712(d)(1)), and the reason for any denial "
        "(29 CFR 2590.712(d)(2))"
    ),
    urgent_rule=_ERISA_URGENT,
    expedited_clock=(
        "a decision as soon as possible given the medical urgency, and no later than 72 hours "
        "after the request is received (29 CFR 2560.503-1(i)(2)(i))"
    ),
    continued_coverage=(
        "This is care already under way. Where a decision reduces or ends a course of "
        "treatment the plan approved for a period that has not yet ended, the plan must give "
        "notice early enough for an appeal to be decided before the change (29 CFR "
        "2560.503-1(f)(2)(ii)). I ask that coverage continue while this appeal is decided."
    ),
    external_review=(
        "If the plan is not grandfathered, I also ask, at the same time, for expedited "
        "external review by an independent review organization, which the rules allow for "
        "urgent care while the expedited internal appeal is pending (29 CFR 2590.715-2719(d); "
        "45 CFR 147.136(d)). Please send it on at once, or tell me where to send it."
    ),
    complaint_to=(
        "the U.S. Department of Labor, Employee Benefits Security Administration, if the plan "
        "is self-funded; the state insurance regulator if it is insured"
    ),
    identity_rule=(
        "on request, the plan must identify the medical experts whose advice it obtained for "
        "the decision (29 CFR 2560.503-1(h)(3)(iv)); without the reviewer's name and "
        "credentials no one can check the rule on who may review"
    ),
    criterion_rule=(
        "29 CFR 2560.503-1(g)(1)(v) (the rule, guideline or criterion relied on must be given "
        "or offered free of charge) and 29 CFR 2590.712(d) (medical necessity criteria and the "
        "reason for a denial must be disclosed on request)"
    ),
)

_ACA_REVIEWER = (
    "45 CFR 147.136(b) applies the claims and appeals standards of 29 CFR 2560.503-1 to this "
    "coverage, including that an appeal of a decision based on a medical judgment be decided "
    "after consulting a health care professional with appropriate training and experience in "
    "the field of medicine involved (29 CFR 2560.503-1(h)(3)(iii)), who was not consulted on "
    "the decision under appeal (29 CFR 2560.503-1(h)(3)(v))."
)

ACA = Programme(
    key="aca",
    name="individual or small-group coverage subject to the Affordable Care Act",
    person="the enrollee",
    appeal_word="appeal",
    reviewer_rule=_ACA_REVIEWER,
    same_specialty_ask=ERISA.same_specialty_ask,
    records_rules=tuple(
        r.replace("(29 CFR", "(45 CFR 147.136(b), applying 29 CFR") for r in _ERISA_RECORDS
    ),
    criteria_rule=(
        "the criteria for medical necessity determinations for mental health and substance "
        "use disorder benefits, which must be made available on request (45 CFR 146.136(d), "
        "applied to individual coverage by 45 CFR 147.160), and the reason for any denial"
    ),
    urgent_rule=(
        "45 CFR 147.136(b) applies the urgent-care rules of 29 CFR 2560.503-1 to this "
        "coverage: when a physician with knowledge of the patient's condition determines that "
        "a claim involves urgent care, it must be treated as urgent (29 CFR "
        "2560.503-1(m)(1)(ii))."
    ),
    expedited_clock=(
        "a decision as soon as possible given the medical urgency, and no later than 72 hours "
        "after the request is received (45 CFR 147.136(b); 29 CFR 2560.503-1(i)(2)(i))"
    ),
    continued_coverage=(
        "This is care already under way. Where a decision reduces or ends an ongoing course "
        "of treatment the plan approved, the rules require coverage to continue pending the "
        "outcome of the appeal (45 CFR 147.136(b); 29 CFR 2560.503-1(f)(2)(ii)). I ask that "
        "coverage continue while this appeal is decided."
    ),
    external_review=(
        "If the coverage is not grandfathered, I also ask, at the same time, for expedited "
        "external review, which the rules allow for urgent care while the expedited internal "
        "appeal is pending (45 CFR 147.136(d)). Please send it on at once, or tell me where "
        "to send it."
    ),
    complaint_to="the state insurance regulator",
    identity_rule=(
        "on request, the plan must identify the medical experts whose advice it obtained for "
        "the decision (45 CFR 147.136(b), applying 29 CFR 2560.503-1(h)(3)(iv)); without the "
        "reviewer's name and credentials no one can check the rule on who may review"
    ),
    criterion_rule=(
        "45 CFR 147.136(b), applying 29 CFR 2560.503-1(g)(1)(v) (the criterion relied on must "
        "be given or offered free of charge), and 45 CFR 146.136(d) (medical necessity "
        "criteria and the reason for a denial must be disclosed on request)"
    ),
)

MARKETPLACE = Programme(
    **{
        **ACA.__dict__,
        "key": "marketplace",
        "name": "a qualified health plan bought through the Marketplace",
    }
)

MEDICARE_ADVANTAGE = Programme(
    key="medicare_advantage",
    name="a Medicare Advantage plan",
    person="the enrollee",
    appeal_word="reconsideration",
    reviewer_rule=(
        "A decision to deny, in whole or in part, on medical necessity grounds must be "
        "reviewed by a physician or other appropriate health care professional with "
        "sufficient medical and other expertise, including knowledge of Medicare coverage "
        "criteria (42 CFR 422.566(d)), and a reconsideration of such a denial must be made by "
        "a physician with expertise in the field of medicine appropriate to the services at "
        "issue (42 CFR 422.590)."
    ),
    same_specialty_ask=(
        "I ask that any reconsideration be made by a physician with expertise in the field of "
        "medicine appropriate to this care, which here is my field"
    ),
    records_rules=(
        "a copy of the case file, free of charge, as CMS's Parts C and D appeals guidance provides",
        "the internal coverage criteria used, which must be publicly accessible (42 CFR "
        "422.101(b)(6))",
    ),
    criteria_rule=(
        "the internal coverage criteria used, with the evidence they rest on (42 CFR 422.101(b)(6))"
    ),
    urgent_rule=(
        "When a physician indicates that applying the standard timeframe could seriously "
        "jeopardize the enrollee's life or health or ability to regain maximum function, the "
        "plan must expedite the reconsideration (42 CFR 422.584)."
    ),
    expedited_clock=(
        "a decision as quickly as the enrollee's health requires, and no later than 72 hours "
        "after the request is received (42 CFR 422.590)"
    ),
    continued_coverage="",
    external_review="",
    complaint_to=(
        "the plan's grievance process (42 CFR 422.564) and Medicare (1-800-MEDICARE, "
        "1-800-633-4227)"
    ),
    identity_rule=(
        "without the reviewer's name and credentials, neither the enrollee nor I can check "
        "that the decision was reviewed as 42 CFR 422.566(d) requires"
    ),
    criterion_rule=(
        "42 CFR 422.101(b)(6) (internal coverage criteria must be publicly accessible) and "
        "42 CFR 422.568 (a denial notice must state the specific reasons)"
    ),
)

MEDICAID = Programme(
    key="medicaid_managed",
    name="Medicaid or CHIP managed care",
    person="the enrollee",
    appeal_word="appeal",
    reviewer_rule=(
        "A decision to deny a service, or to authorize less than was requested, must be made "
        "by an individual with appropriate expertise in addressing the enrollee's medical or "
        "behavioral health needs (42 CFR 438.210(b)(3)), and an appeal must be decided by "
        "individuals with appropriate clinical expertise in treating the enrollee's condition "
        "(42 CFR 438.406(b)(2))."
    ),
    same_specialty_ask=(
        "I ask that any further review of this request, and any appeal, be made by a reviewer "
        "with expertise in treating this condition, which here is my field"
    ),
    records_rules=(
        "the enrollee's case file, including medical records, other documents and records, "
        "and any new or additional evidence considered, relied on or generated, free of "
        "charge (42 CFR 438.406(b)(5))",
    ),
    criteria_rule=(
        "the medical necessity criteria for mental health and substance use disorder "
        "benefits, which must be made available on request to enrollees and contracting "
        "providers (42 CFR 438.915(a))"
    ),
    urgent_rule=(
        "When the provider indicates that the standard timeframe could seriously jeopardize "
        "the enrollee's life, physical or mental health, or ability to attain, maintain or "
        "regain maximum function, the plan must resolve the appeal on the expedited track "
        "(42 CFR 438.410(a))."
    ),
    expedited_clock=(
        "a resolution as quickly as the enrollee's health requires, and no later than 72 "
        "hours after the appeal is received (42 CFR 438.408(b)(3))"
    ),
    continued_coverage=(
        "This is care already under way. When an appeal concerns ending or reducing a course "
        "of treatment authorized before, the plan must continue the benefits while the appeal "
        "is pending if the appeal is filed on time, the original authorization has not run "
        "out and the enrollee asks for it (42 CFR 438.420). I ask, for the enrollee, that "
        "benefits continue while this appeal is decided."
    ),
    external_review="",
    complaint_to="the state Medicaid agency",
    identity_rule=(
        "without the reviewer's name and credentials, neither the enrollee nor I can check "
        "that the decision was made as 42 CFR 438.210(b)(3) requires"
    ),
    criterion_rule=(
        "42 CFR 438.404(b)(2) (a denial notice must give its reasons) and 42 CFR 438.915(a) "
        "(medical necessity criteria must be made available on request)"
    ),
    records_timing=(
        "sufficiently in advance of the resolution timeframe for the appeal (42 CFR 438.406(b)(5))"
    ),
)

UNKNOWN = Programme(
    key="other",
    name="",
    person="the patient",
    appeal_word="appeal",
    reviewer_rule="",
    same_specialty_ask=(
        "I ask that any further review of this request, and any appeal, be made by a reviewer "
        "with training and experience in my field"
    ),
    records_rules=(),
    criteria_rule="",
    urgent_rule="",
    expedited_clock="",
    continued_coverage="",
    external_review="",
    complaint_to="",
    identity_rule="",
    criterion_rule="",
)

PROGRAMMES: dict[str, Programme] = {
    PlanType.ERISA.value: ERISA,
    PlanType.ACA.value: ACA,
    PlanType.MARKETPLACE.value: MARKETPLACE,
    PlanType.MEDICARE_ADVANTAGE.value: MEDICARE_ADVANTAGE,
    PlanType.MEDICAID_MANAGED.value: MEDICAID,
    PlanType.OTHER.value: UNKNOWN,
}

# Accreditation standards apply whatever the programme, if the plan is accredited.
NCQA_REVIEWER = (
    "If the plan or its review company is accredited by NCQA, its utilization management "
    "standards also call for denials to be made by appropriate practitioners."
)


def programme_for(plan_type: str) -> Programme:
    """The programme for a stored plan type; UNKNOWN (rules left blank) when not set."""
    return PROGRAMMES.get(plan_type, UNKNOWN)
