"""Reviewers across calls: suggestions, links, merges and the track record, all in SQL.

A mixin of ``Store``. Everything here is metadata outside the record: the tables it writes
(reviewer, call_reviewer, reviewer_link_log, followup.received) are not in the hash chain,
so it works the same on a finalized call, whose section B fields keep the details as given.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, text

from p2pcall.domain.reviewers import (
    MAX_NAME,
    PROMISE_ACTIONS,
    SUGGESTIONS,
    Reviewer,
    ReviewerDetails,
    TrackRecord,
    name_key,
)
from p2pcall.domain.timefmt import now_utc
from p2pcall.store.errors import StoreError
from p2pcall.store.queries.cursor import Db
from p2pcall.store.records import dbapi_of
from p2pcall.store.timetext import to_text

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlmodel import Session

    from p2pcall.store.tables import CallRow

RECEIVED = "received"
NOT_RECEIVED = "not_received"
_TITLE = re.compile(r"^(dr\.?|doctor)\s+")
_LIKE_SPECIAL = re.compile(r"([\\%_])")


def _store_error(message: str) -> StoreError:
    return StoreError(message)


def _utc(moment: datetime) -> str:
    return to_text(moment)


def _like(fragment: str) -> str:
    return _LIKE_SPECIAL.sub(r"\\\1", fragment)


_COLUMNS = "r.id, r.name, r.credentials, r.specialty, r.board, r.license_states, r.npi, r.vendor"
# Calls linked to an entry or to any entry merged into it.
_CALL_COUNT = """(SELECT count(*) FROM {links} cr WHERE cr.reviewer_id IN
    (SELECT m.id FROM reviewer m WHERE m.id = r.id OR m.merged_into = r.id))"""
# The links counted: on a practice's server every clinician's (the reviewer_track view, as
# the track record counts them; row-level security shows a clinician only their own links).
_LINKS = {"sqlite": "call_reviewer", "postgres": "reviewer_track"}


def _reviewer(row: Any, merged_into: int | None = None) -> Reviewer:
    details = ReviewerDetails(*row[1:8])
    return Reviewer(id=row[0], details=details, calls=int(row[8]), merged_into=merged_into)


class ReviewersMixin:
    if TYPE_CHECKING:

        def _session(self) -> AbstractContextManager[Session]: ...
        def _call_row(self, session: Session, call_id: int) -> CallRow: ...
        def reading(self) -> AbstractContextManager[Db]: ...

        kind: str

    def _call_count(self) -> str:
        return _CALL_COUNT.format(links=_LINKS[self.kind])

    # -- looking up ----------------------------------------------------------------------

    def suggest_reviewers(self, typed: str, limit: int = SUGGESTIONS) -> list[Reviewer]:
        """Known reviewers whose name, or a word of it, starts with what was typed.

        The exact name first, then most calls. A leading "Dr" is ignored; merged entries
        are shown as the one they were merged into.
        """
        key = _TITLE.sub("", name_key(typed))
        if not key:
            return []
        pattern = _like(key)
        query = (
            f"SELECT {_COLUMNS}, {self._call_count()} AS calls FROM reviewer r "
            "WHERE r.merged_into IS NULL AND (r.name_key LIKE :start ESCAPE '\\' "
            "OR r.name_key LIKE :word ESCAPE '\\') "
            "ORDER BY r.name_key = :key DESC, calls DESC, r.name_key, r.id LIMIT :limit"
        )
        params = {"start": pattern + "%", "word": "% " + pattern + "%", "key": key}
        with self.reading() as db:
            rows = db.execute(query, {**params, "limit": limit}).fetchall()
        return [_reviewer(row) for row in rows]

    def reviewer(self, reviewer_id: int) -> Reviewer:
        with self.reading() as db:
            return self._reviewer_in(db, reviewer_id)

    def reviewers(self) -> list[Reviewer]:
        """Every entry (merged ones too, marked), most calls first."""
        query = (
            f"SELECT {_COLUMNS}, {self._call_count()} AS calls, r.merged_into FROM reviewer r "
            "ORDER BY r.merged_into IS NOT NULL, calls DESC, r.name_key, r.id"
        )
        with self.reading() as db:
            return [_reviewer(row, row[9]) for row in db.execute(query).fetchall()]

    def reviewer_of_call(self, call_id: int) -> Reviewer | None:
        """The entry a call is linked to, as the entry it was merged into if it was."""
        with self.reading() as db:
            found = db.execute(
                "SELECT coalesce(r.merged_into, r.id) FROM call_reviewer cr "
                "JOIN reviewer r ON r.id = cr.reviewer_id WHERE cr.call_id = :call",
                {"call": call_id},
            ).fetchone()
            return None if found is None else self._reviewer_in(db, found[0])

    def _reviewer_in(self, db: Db, reviewer_id: int) -> Reviewer:
        row = db.execute(
            f"SELECT {_COLUMNS}, {self._call_count()}, r.merged_into FROM reviewer r "
            "WHERE id = :id",
            {"id": reviewer_id},
        ).fetchone()
        if row is None:
            raise _store_error(f"There is no reviewer number {reviewer_id}.")
        return _reviewer(row, row[9])

    # -- writing ---------------------------------------------------------------------------

    def add_reviewer(self, details: ReviewerDetails) -> Reviewer:
        name = " ".join(details.name.split())
        if not name:
            raise _store_error("A reviewer needs a name: type it in section B first.")
        if len(name) > MAX_NAME:
            raise _store_error(f"A reviewer's name is kept under {MAX_NAME} characters.")
        values = {**details.__dict__, "name": name}
        with self._session() as session:
            new_id = session.execute(
                text(
                    "INSERT INTO reviewer (name, name_key, credentials, specialty, board, "
                    "license_states, npi, vendor, created_at) VALUES (:name, :key, "
                    ":credentials, :specialty, :board, :license_states, :npi, :vendor, :now) "
                    "RETURNING id"
                ),
                {**values, "key": name_key(name), "now": _utc(now_utc())},
            ).scalar_one()
            session.commit()
            return self._reviewer_in(dbapi_of(session), new_id)

    def link_call(self, call_id: int, reviewer_id: int) -> Reviewer:
        """Link a call to a reviewer (replacing any earlier link; both kept in the log)."""
        with self._session() as session:
            self._call_row(session, call_id)
            target = self._reviewer_in(dbapi_of(session), reviewer_id)
            now = _utc(now_utc())
            session.execute(
                text(
                    "INSERT INTO call_reviewer (call_id, reviewer_id, linked_at) "
                    "VALUES (:call, :reviewer, :now) ON CONFLICT (call_id) DO UPDATE "
                    "SET reviewer_id = excluded.reviewer_id, linked_at = excluded.linked_at"
                ),
                {"call": call_id, "reviewer": reviewer_id, "now": now},
            )
            self._log(session, "link", reviewer_id, call_id=call_id, at=now)
            session.commit()
            canonical = target.merged_into or target.id
            return self._reviewer_in(dbapi_of(session), canonical)

    def unlink_call(self, call_id: int) -> int | None:
        """Undo a wrong link; returns the reviewer it was linked to (None: there was none)."""
        with self._session() as session:
            found = session.execute(
                text("SELECT reviewer_id FROM call_reviewer WHERE call_id = :call"),
                {"call": call_id},
            ).first()
            if found is None:
                return None
            session.execute(
                text("DELETE FROM call_reviewer WHERE call_id = :call"), {"call": call_id}
            )
            self._log(session, "unlink", found[0], call_id=call_id)
            session.commit()
            return int(found[0])

    def merge_reviewers(self, duplicate_id: int, into_id: int) -> Reviewer:
        """Two entries are one person: `duplicate_id` (and what was merged into it) now
        counts as `into_id`. Links stay on their entries, so `unmerge_reviewer` undoes it."""
        with self._session() as session:
            duplicate = self._reviewer_in(dbapi_of(session), duplicate_id)
            into = self._reviewer_in(dbapi_of(session), into_id)
            target = into.merged_into or into.id
            if (duplicate.merged_into or duplicate.id) == target:
                raise _store_error("These two entries are already one reviewer.")
            now = _utc(now_utc())
            session.execute(
                text(
                    "UPDATE reviewer SET merged_into = :into, merged_at = :now "
                    "WHERE id = :dup OR merged_into = :dup"
                ),
                {"into": target, "dup": duplicate.id, "now": now},
            )
            self._log(session, "merge", duplicate.id, other_id=target, at=now)
            session.commit()
            return self._reviewer_in(dbapi_of(session), target)

    def unmerge_reviewer(self, reviewer_id: int) -> Reviewer:
        """Undo a merge: the entry stands on its own again, with its own links."""
        with self._session() as session:
            entry = self._reviewer_in(dbapi_of(session), reviewer_id)
            if entry.merged_into is None:
                raise _store_error(f"Reviewer number {reviewer_id} was not merged.")
            session.execute(
                text("UPDATE reviewer SET merged_into = NULL, merged_at = NULL WHERE id = :id"),
                {"id": reviewer_id},
            )
            self._log(session, "unmerge", reviewer_id, other_id=entry.merged_into)
            session.commit()
            return self._reviewer_in(dbapi_of(session), reviewer_id)

    def _log(
        self,
        session: Session,
        action: str,
        reviewer_id: int,
        *,
        call_id: int | None = None,
        other_id: int | None = None,
        at: str | None = None,
    ) -> None:
        session.execute(
            text(
                "INSERT INTO reviewer_link_log (action, call_id, reviewer_id, other_id, at) "
                "VALUES (:action, :call, :reviewer, :other, :at)"
            ),
            {
                "action": action,
                "call": call_id,
                "reviewer": reviewer_id,
                "other": other_id,
                "at": at or _utc(now_utc()),
            },
        )

    # -- follow-through ----------------------------------------------------------------------

    def set_followup_received(
        self, followup_id: int, received: bool | None, on: date | None = None
    ) -> None:
        """A promised document or commitment came (True) or did not (False) by `on`;
        None clears it."""
        if received is not None and on is None:
            raise _store_error("Give the day it was received, or the day you checked.")
        with self._session() as session:
            done = session.execute(
                text("UPDATE followup SET received = :r, received_on = :on WHERE id = :id"),
                {
                    "r": None if received is None else (RECEIVED if received else NOT_RECEIVED),
                    "on": on.isoformat() if on is not None and received is not None else None,
                    "id": followup_id,
                },
            )
            if cast("CursorResult[Any]", done).rowcount == 0:  # an UPDATE's result
                raise _store_error(f"There is no follow-up number {followup_id}.")
            session.commit()

    def followup_received(self, followup_id: int) -> tuple[str | None, str | None]:
        with self.reading() as db:
            row = db.execute(
                "SELECT received, received_on FROM followup WHERE id = :id", {"id": followup_id}
            ).fetchone()
        if row is None:
            raise _store_error(f"There is no follow-up number {followup_id}.")
        return row[0], row[1]

    # -- the track record --------------------------------------------------------------------

    def track_record(
        self, reviewer_id: int, before_call: int | None = None, now: datetime | None = None
    ) -> TrackRecord:
        """The reviewer's calls other than `before_call` (and created before it).

        On a practice's server every clinician's calls count (the `reviewer_track` views
        give their facts, not the calls); on SQLite, the calls in the file."""
        moment = now or now_utc()
        sql: Any  # the module of the server's SQL, or the class of SQLite's, same names
        if self.kind == "postgres":
            from p2pcall.store.postgres import track as sql

            when: object = moment
        else:
            sql = _SqliteTrack
            when = _utc(moment)
        params = {
            "r": reviewer_id,
            "current": before_call if before_call is not None else -1,
            "now": when,
        }
        with self.reading() as db:

            def rows(select: str) -> list[Any]:
                found: list[Any] = db.execute(sql.EARLIER + select, params).fetchall()
                return found

            ids = [row[0] for row in rows("SELECT id FROM calls ORDER BY created_at DESC, id DESC")]
            outcomes = rows("SELECT coalesce(outcome, ''), count(*) FROM calls GROUP BY 1")
            [(answered, not_same)] = rows(sql.SPECIALTY)
            declined = rows(sql.DECLINED)
            criteria = rows(sql.CRITERIA)
            [(promises, not_kept)] = rows(sql.PROMISES)
        return TrackRecord(
            reviewer_id=reviewer_id,
            earlier_calls=len(ids),
            outcomes={value: int(count) for value, count in outcomes},
            specialty_answered=int(answered),
            not_same_specialty=int(not_same),
            declined={key: int(count) for key, count in declined},
            criteria={value: int(count) for value, count in criteria},
            commitments=int(promises),
            commitments_not_kept=int(not_kept),
            earlier_call_ids=tuple(ids),
        )


# A promise whose keeping is known: marked received or not, or still open past its date.
SETTLED = "(f.received IS NOT NULL OR (f.status = 'planned' AND "
SETTLED += "coalesce(f.due_override, f.computed_due) < :now))"
# A promise not kept: marked not received; still open after its date; or received after it.
# Dates compare as text: received_on is YYYY-MM-DD, the due date its first ten characters.
_DUE = "coalesce(f.due_override, f.computed_due)"
NOT_KEPT = f"""(
    f.received = 'not_received'
    OR (f.received IS NULL AND f.status = 'planned' AND {_DUE} < :now)
    OR (f.received = 'received' AND {_DUE} IS NOT NULL
        AND f.received_on > substr({_DUE}, 1, 10))
)"""


class _SqliteTrack:
    """The track record's SQL on SQLite: the calls, fields and follow-ups of the file."""

    EARLIER = """
        WITH ids AS (SELECT id FROM reviewer WHERE id = :r OR merged_into = :r),
        calls AS (
            SELECT c.id, c.created_at, c.outcome FROM call_reviewer cr
            JOIN call c ON c.id = cr.call_id
            WHERE cr.reviewer_id IN (SELECT id FROM ids) AND c.id != :current
            AND c.created_at < coalesce(
                (SELECT created_at FROM call WHERE id = :current), '9999')
        )
    """
    SPECIALTY = (
        "SELECT count(*), coalesce(sum(value = 'no'), 0) FROM call_field "
        "WHERE key = 'reviewer_same_specialty' AND value IN ('yes', 'no') "
        "AND call_id IN (SELECT id FROM calls)"
    )
    DECLINED = (
        "SELECT key, count(*) FROM call_field WHERE declined = 1 "
        "AND key LIKE 'reviewer\\_%' ESCAPE '\\' "
        "AND call_id IN (SELECT id FROM calls) GROUP BY key"
    )
    CRITERIA = (
        "SELECT value, count(*) FROM call_field WHERE key = 'criteria_set' "
        "AND value != '' AND call_id IN (SELECT id FROM calls) GROUP BY value"
    )
    PROMISES = (
        "SELECT coalesce(sum(" + SETTLED + "), 0), coalesce(sum(" + NOT_KEPT + "), 0) "
        "FROM followup f "
        "WHERE f.call_id IN (SELECT id FROM calls) AND f.status != 'not_needed' "
        f"AND f.action IN {PROMISE_ACTIONS!r}"
    )
