"""What only PostgreSQL does, under the names `store.sqlite_dialect` uses for SQLite.

Opening is `store.postgres.store.PgStore.open_url` (a server has no file to prepare or
tighten); the rest is here: how reads and writes begin, which errors mean damage, and every
error in words for the user. Words come from the primary message of the server's error only:
its DETAIL can quote a row, and a row can be a note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    import psycopg

# A read sees one snapshot (as SQLite's read transaction) and can change nothing.
BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
# Writes: PostgreSQL's default (READ COMMITTED, SQLAlchemy begins them); the record's
# guards are triggers, and finalizing locks the call row (see PgStore.finalize_call).
GUARD_PREFIX = "p2pcall record: "
# Each connection: p2pcall's schema first, times read and written in UTC; a statement that
# waits longer than 30 s for a lock is given up (its write is sent again) rather than hang.
SESSION_OPTIONS = (
    "-c search_path=p2pcall -c TimeZone=UTC -c application_name=p2pcall -c statement_timeout=30000"
)
# Over TCP (libpq ignores these on a Unix socket): a network that silently drops packets is
# noticed within about 15 s (keepalives while idle; data unacknowledged for 15 s while
# waiting for an answer) instead of the system's two hours, so the write goes to the outbox.
TCP_SETTINGS = {
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "15000",
}
SESSION_SETTINGS = {"options": SESSION_OPTIONS, **TCP_SETTINGS}
# Reads across calls (history, stats, packet), as `sqlite_dialect` names them.
LIKE_ANY_CASE = "ILIKE"  # case-insensitive as SQLite's LIKE (here beyond ASCII too)
# Through sql/v2.sql's insurer_calls: the same ILIKE run as the connected role checks
# the row-level security policy on every insurer field before it (ILIKE is not leakproof).
INSURER_LIKE = "c.id IN (SELECT insurer_calls(?))"


def time_value(moment: datetime) -> datetime:
    """A moment as a parameter compared with timestamptz columns: itself (aware)."""
    return moment


def _driver_error(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def sqlstate(exc: BaseException) -> str:
    return str(getattr(_driver_error(exc), "sqlstate", "") or "")


def is_damage(exc: BaseException) -> bool:
    """data_corrupted / index_corrupted: the server met damaged storage."""
    return sqlstate(exc) in ("XX001", "XX002")


def is_unreachable(exc: BaseException) -> bool:
    """The connection failed or was lost (server down, network cut): the write may be sent
    again once the server is back."""
    import psycopg

    error = _driver_error(exc)
    if isinstance(error, psycopg.OperationalError) and not sqlstate(exc):
        return True
    # admin_shutdown, crash_shutdown, cannot_connect_now, connection_exception class
    return sqlstate(exc).startswith("08") or sqlstate(exc) in ("57P01", "57P02", "57P03")


def _primary(exc: BaseException) -> str:
    error = _driver_error(exc)
    diag = getattr(error, "diag", None)
    text = getattr(diag, "message_primary", None) if diag is not None else None
    if not text:
        text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return str(text)


def _why_unreachable(message: str) -> str:
    """libpq's words for a failed connection, without the repeats ("connection to server at
    ... failed: Connection refused" -> "connection refused")."""
    last = message.rsplit(": ", 1)[-1].strip().rstrip(".")
    return (last[:1].lower() + last[1:]) or "no answer"


def describe_write(exc: BaseException, where: str) -> str:
    """A failed write in words for the user (never a row's content)."""
    message = _primary(exc)
    if message.startswith(GUARD_PREFIX):
        reason = message[len(GUARD_PREFIX) :]
        return reason[:1].upper() + reason[1:] + "."
    state = sqlstate(exc)
    if is_unreachable(exc):
        return (
            f"The practice server ({where}) cannot be reached ({_why_unreachable(message)}). "
            "What you typed stays on screen and is sent when it is back."
        )
    if state == "42501":  # insufficient_privilege, row-level security included
        return (
            f"Your role on the practice server ({where}) may not do this ({message}); "
            "see docs/team.md for what each role may do."
        )
    if state in ("40001", "40P01", "55P03"):
        return f"The practice server ({where}) was busy with the same record; try again."
    if is_damage(exc):
        return (
            f"The practice server ({where}) reports damaged storage ({message}). Nothing was "
            "changed; tell whoever runs the server."
        )
    return f"The practice server ({where}) refused this: {message}."


def describe_read(exc: BaseException, where: str) -> str:
    message = _primary(exc)
    if is_unreachable(exc):
        return f"The practice server ({where}) cannot be reached ({_why_unreachable(message)})."
    if sqlstate(exc) == "42501":
        return f"Your role on the practice server ({where}) may not read this ({message})."
    return f"The practice server ({where}) could not answer: {message}."


def connection_error(exc: psycopg.Error) -> str:
    return _primary(exc)
