"""The reads every store offers, over `reading()`: the app's `Store` and the CLI's `Reader`.

Imports stay light (the domain modules a method needs are imported by it): the read-only
commands import this on their way to the first line of output.

Each method opens one read transaction (a snapshot; never the write lock) and runs the
plain SQL of `queries` in it. A class gives a DB-API connection (`_read_connection`) and
words for its errors (`describe`); everything else is here, once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from p2pcall.store import sqlite_dialect as dialect
from p2pcall.store.errors import DamagedError, StoreError, UnreachableError
from p2pcall.store.queries import calls, followups, letters
from p2pcall.store.queries.cursor import Db

if TYPE_CHECKING:
    from p2pcall.domain.followups import DueReport
    from p2pcall.domain.models import CallRecord, CallSummary, FollowUp
    from p2pcall.store.queries.records import ChainInputs
    from p2pcall.store.rows import LetterEdit, LetterFile


class ReadApi:
    """Reads in read transactions, shared by every kind of store (see the module text)."""

    path: Path
    # Which database answers: "sqlite" (the local file) or "postgres" (a practice's server).
    # The reads across calls (`history`, `stats`) pick their dialect's SQL by it.
    kind = "sqlite"

    def describe(self, exc: BaseException) -> str:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _read_connection(self) -> AbstractContextManager[Db]:
        """A DB-API connection for one read; StoreError when none can be had."""
        raise NotImplementedError

    # The driver's errors, and which of them mean a damaged database (see each dialect).
    db_errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    begin_read = dialect.BEGIN_READ

    def is_damage(self, exc: BaseException) -> bool:
        return dialect.is_damage(exc)

    def is_unreachable(self, exc: BaseException) -> bool:
        return False  # a local file is never out of reach

    # Did the last exchange with the database get through? None: a local file (never out of
    # reach). A server sets it at each connection taken from its pool and each unreachable
    # error, so the app can show the connection as it really is.
    reachable: bool | None = None

    def _error(self, exc: BaseException) -> StoreError:
        if self.is_unreachable(exc):
            self.reachable = False
            return UnreachableError(self.describe(exc))
        if self.is_damage(exc):
            return DamagedError(self.describe(exc))
        return StoreError(self.describe(exc))

    @contextmanager
    def reading(self) -> Iterator[Db]:
        """A read transaction: every query in it sees the same snapshot. Database errors
        come out as StoreError (DamagedError for a damaged file), in the user's words."""
        with self._read_connection() as db:
            try:
                db.execute(self.begin_read)
                try:
                    yield db
                finally:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
            except self.db_errors as exc:
                raise self._error(exc) from None

    # -- calls -----------------------------------------------------------------------------

    def load_call(self, call_id: int) -> CallRecord:
        with self.reading() as db:
            return calls.load_call(db, call_id)

    def unfinished_calls(self) -> list[CallSummary]:
        with self.reading() as db:
            return calls.summaries(db, unfinished=True, limit=50)

    def recent_calls(self, limit: int = 20) -> list[CallSummary]:
        with self.reading() as db:
            return calls.summaries(db, unfinished=False, limit=limit)

    def field_history(self, call_id: int, key: str) -> list[tuple[str, bool, datetime, bool]]:
        with self.reading() as db:
            return calls.field_history(db, call_id, key)

    def field_first_times(self, call_id: int) -> dict[str, datetime]:
        """When each field first took the value it holds now (from its history)."""
        with self.reading() as db:
            return calls.field_first_times(db, call_id)

    # -- the record as evidence ------------------------------------------------------------------

    def chain_inputs(self, call_id: int) -> ChainInputs:
        """What the chain of a call hashes, as the database holds it now."""
        from p2pcall.store.queries.records import read_inputs  # the chain: show, export, verify

        with self.reading() as db:
            return read_inputs(db, call_id)

    def recompute_head(self, call_id: int) -> str | None:
        """The head recomputed from the database now (None if the call is not finalized)."""
        inputs = self.chain_inputs(call_id)
        if inputs.call.finalized_at is None:
            return None
        return inputs.head()

    # -- follow-ups -------------------------------------------------------------------------------

    def followups_for(self, call_id: int) -> list[FollowUp]:
        with self.reading() as db:
            return followups.of_call(db, call_id)

    def due_across_calls(
        self, now: datetime, within_days: int = 7, tz: str | None = None
    ) -> DueReport:
        """Planned follow-ups of every call: overdue, due today, due in the next days."""
        from p2pcall.domain.timefmt import local_tz_name

        if within_days < 0:
            raise StoreError("The number of days ahead cannot be negative.")
        if now.tzinfo is None or now.utcoffset() is None:
            raise StoreError("The current time has no time zone; it was not saved.")
        with self.reading() as db:
            return followups.due(db, now, tz or local_tz_name(), within_days)

    # -- letters ----------------------------------------------------------------------------------

    def letter_edit(self, call_id: int, kind: str) -> LetterEdit | None:
        with self.reading() as db:
            return letters.edit(db, call_id, kind)

    def letter_files(self, call_id: int) -> list[LetterFile]:
        with self.reading() as db:
            return letters.files(db, call_id)
