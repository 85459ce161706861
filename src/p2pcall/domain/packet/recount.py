"""The JSON packet's summary recounted from the records it holds, for `p2pcall verify`.

A check of the summary against the records, independent of the database and of the SQL that
made it: only what each record shows (its outcome, the reviewer's fields, the criteria set,
a denial noted before the call, the day it was created). Follow-through (documents received,
promises kept, days to a decision) is not in an export, so it is checked against the
database only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from p2pcall.domain.stats import OUTCOME_KEYS

_OVERTURNING = ("approved", "partially_approved")


def recount(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the summary should say about these records (JSON exports), counted in Python."""
    outcomes: Counter[str] = Counter()
    criteria: Counter[str] = Counter()
    overturned = after_denial = same = answered = declined = 0
    days = []
    for record in records:
        call = record["call"]
        fields = {field["key"]: field for field in record["fields"]}
        outcome = call["outcome"] or "none"
        outcomes[outcome] += 1
        denial = any(fields[key]["value"] != "" for key in ("denial_date", "denial_reason"))
        after_denial += denial
        overturned += denial and outcome in _OVERTURNING
        specialty = fields["reviewer_same_specialty"]["value"]
        same += specialty == "yes"
        answered += specialty in ("yes", "no")
        declined += fields["reviewer_name"]["declined"] is True
        if fields["criteria_set"]["value"]:
            criteria[fields["criteria_set"]["value"]] += 1
        days.append(str(call["created_at"])[:10])
    calls = len(records)
    return {
        "calls": calls,
        "first_day": min(days, default=None),
        "last_day": max(days, default=None),
        "outcomes": {key: (outcomes[key], calls) for key in (*OUTCOME_KEYS, "none")},
        "overturned_on_call": (overturned, after_denial),
        "same_specialty": (same, answered),
        "declined_to_identify": (declined, calls),
        "criteria_cited": dict(criteria),
    }


def summary_difference(summary: Any, document: dict[str, Any]) -> str | None:
    """The first figure of the summary the records do not bear out, or None."""
    counted = recount(document["records"])
    if not isinstance(summary, dict):
        return "the packet has no summary"
    for key in ("calls", "first_day", "last_day"):
        if summary.get(key) != counted[key]:
            return f"{key} is {summary.get(key)!r}, the records give {counted[key]!r}"
    for key, (count, of) in counted["outcomes"].items():
        stated = summary["outcomes"][key]
        if (stated["count"], stated["of"]) != (count, of):
            found = f"{stated['count']} of {stated['of']}"
            return f"outcome {key} is {found}, the records give {count} of {of}"
    for key in ("overturned_on_call", "same_specialty", "declined_to_identify"):
        stated = summary[key]
        count, of = counted[key]
        if (stated["count"], stated["of"]) != (count, of):
            return f"{key} is {stated['count']} of {stated['of']}, the records give {count} of {of}"
        expected_rate = None if of == 0 else round(count / of, 4)
        if stated["rate"] != expected_rate:
            return f"{key} rate is {stated['rate']}, {count} of {of} is {expected_rate}"
    if summary["criteria_cited"] != counted["criteria_cited"]:
        return "the criteria cited differ from the records'"
    return None
