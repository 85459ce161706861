"""The unsent text of note fields, kept on this computer while the calls are on a server.

A draft is what is still in a note field, kept about once a second so that a crash, a kill
or a closed terminal loses nothing. With the calls on a practice server it must not depend
on the network: while the server is out of reach the text would otherwise be kept nowhere.
So drafts stay on the laptop, in `drafts.sqlite3` in the data folder (0600, in the 0700
folder; a link, FIFO, device or folder at that path is refused), keyed by the server and the
call, and are offered back from there when the call is opened again. They are never part of
the record, on either database.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

from p2pcall.domain.models import Draft
from p2pcall.domain.sections import Section
from p2pcall.domain.vocab import NoteKind
from p2pcall.paths import DataDirError, ensure_private_dir
from p2pcall.store.errors import StoreError
from p2pcall.store.rows import member
from p2pcall.store.timetext import from_text, to_text

FILE_NAME = "drafts.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS draft (
    server TEXT NOT NULL,
    call_id INTEGER NOT NULL,
    section TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (server, call_id, section)
)
"""


class LocalDrafts:
    def __init__(self, data_dir: Path, server: str) -> None:
        self.path = data_dir / FILE_NAME
        self._data_dir = data_dir
        self._server = server  # call numbers are the server's: its drafts are its own
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            ensure_private_dir(self._data_dir)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            except OSError as exc:
                raise StoreError(self._refused(exc.strerror or "cannot be opened")) from None
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise StoreError(self._refused("it is not a regular file"))
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous = FULL")
            db.execute(_SCHEMA)
        except DataDirError as exc:
            raise StoreError(str(exc)) from None
        except sqlite3.Error as exc:
            raise StoreError(self._refused(str(exc))) from None
        self._db = db
        return db

    def _refused(self, why: str) -> str:
        return (
            f"The unsent text of note fields cannot be kept in {self.path} ({why}); "
            "what you typed stays on screen."
        )

    def save(
        self, call_id: int, section: Section, kind: NoteKind, body: str, started_at: datetime
    ) -> None:
        """Keep the text of one field; empty text removes it."""
        db = self._connection()
        try:
            if not body:
                self.drop(call_id, section)
                return
            db.execute(
                "INSERT INTO draft VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(server, call_id, section) DO UPDATE SET kind = excluded.kind, "
                "body = excluded.body, updated_at = excluded.updated_at",
                (
                    self._server,
                    call_id,
                    section.value,
                    kind.value,
                    body,
                    to_text(started_at),
                    to_text(datetime.now().astimezone()),
                ),
            )
        except sqlite3.Error as exc:
            raise StoreError(self._refused(str(exc))) from None

    def drop(self, call_id: int, section: Section, *, begun_by: datetime | None = None) -> None:
        """Remove the field's draft; with `begun_by`, only one begun at or before it."""
        sql = "DELETE FROM draft WHERE server = ? AND call_id = ? AND section = ?"
        params: tuple[object, ...] = (self._server, call_id, section.value)
        if begun_by is not None:
            sql += " AND started_at <= ?"
            params = (*params, to_text(begun_by))
        try:
            self._connection().execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(self._refused(str(exc))) from None

    def of_call(self, call_id: int) -> list[Draft]:
        """The call's drafts; none when there is no drafts file yet."""
        if self._db is None and not os.path.lexists(self.path):
            return []
        try:
            rows = self._connection().execute(
                "SELECT section, kind, body, started_at, updated_at FROM draft "
                "WHERE server = ? AND call_id = ? ORDER BY section",
                (self._server, call_id),
            )
            return [
                Draft(
                    call_id=call_id,
                    section=member(Section, section),
                    kind=member(NoteKind, kind),
                    body=body,
                    started_at=from_text(started),
                    updated_at=from_text(updated),
                )
                for section, kind, body, started, updated in rows
            ]
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(self._refused(str(exc))) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
