"""A clinician's laptop history made through the real SQLite store, for `db copy` tests.

Every kind of row `db copy` carries: fields with their history (a value changed, a value
declined), notes of every kind, a correction, an addendum after finalizing, a draft, follow-
ups (one done, one with a date set by hand), a letter edited and written, a reviewer linked
and a merged duplicate; one call finalized, one ended only, one still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from p2pcall.domain.followups import PlannedFollowUp
from p2pcall.domain.reviewers import ReviewerDetails
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import FollowUpAction, NoteKind, Outcome
from p2pcall.store import Store


@dataclass(frozen=True)
class History:
    finalized: int
    ended: int
    open: int


def make_history(data_dir: Path) -> History:
    store = Store.open(data_dir)
    try:
        dup = store.add_reviewer(ReviewerDetails(name="Dr. A. Ruiz", credentials="MD"))
        ruiz = store.add_reviewer(
            ReviewerDetails(name="Dr. Ana Ruiz", credentials="MD", specialty="Psychiatry")
        )
        store.merge_reviewers(dup.id, ruiz.id)

        call = store.start_call("America/New_York")
        store.set_field(call.id, "patient_ref", "JD-1", log=True)
        store.set_field(call.id, "insurer", "Acme Health", log=True)
        store.set_field(call.id, "insurer", "Acme Health Plans", log=True)
        store.set_field(call.id, "reviewer_name", "Dr. Ana Ruiz", log=True)
        store.set_field(call.id, "reviewer_employer", "", declined=True, log=True)
        first = store.add_note(call.id, Section.A, NoteKind.NOTE, "pt 34 y/o, 3rd admit", now_utc())
        store.add_note(
            call.id, Section.D, NoteKind.QUOTE, "LOCUS \u00e9 level 3 not met", now_utc()
        )
        store.add_note(call.id, Section.F, NoteKind.COMMITMENT, "will fax criteria", now_utc())
        store.correct_note(first.id, "pt 43 y/o, 3rd admit")
        store.link_call(call.id, ruiz.id)
        store.end_call(call.id, Outcome.DENIED)
        planned = store.add_followups(
            call.id,
            [
                PlannedFollowUp(
                    FollowUpAction.INTERNAL_APPEAL, computed_due=now_utc() + timedelta(days=9)
                ),
                PlannedFollowUp(
                    FollowUpAction.OTHER,
                    computed_due=now_utc() + timedelta(days=2),
                    due_override=now_utc() + timedelta(days=3),
                    override_reason="the notice says so",
                    note="call the UM nurse",
                ),
            ],
        )
        store.mark_followup_done(planned[1].id)
        store.save_letter_edit(call.id, "appeal", "Dear reviewer,\nmy own words")
        store.add_letter_file(call.id, "appeal", "txt", "/home/lee/appeal-1.txt", edited=True)
        store.finalize_call(call.id)
        store.add_note(
            call.id,
            Section.G,
            NoteKind.NOTE,
            "criteria fax arrived",
            now_utc(),
            reason="arrived the next day",
        )

        ended = store.start_call("Europe/Paris")
        store.set_field(ended.id, "patient_ref", "MK-7", log=True)
        store.add_note(ended.id, Section.B, NoteKind.NEW_INFO, "new labs today", now_utc())
        store.end_call(ended.id, Outcome.APPROVED)

        live = store.start_call("America/Chicago")
        store.add_note(live.id, Section.A, NoteKind.NOTE, "still talking", now_utc())
        store.save_draft(live.id, Section.C, NoteKind.NOTE, "half a thought", now_utc())
        return History(call.id, ended.id, live.id)
    finally:
        store.close()
