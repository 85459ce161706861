"""Reaching the server: which database, shown without secrets, and the password from libpq.

The password is never taken from the command line and never printed. libpq finds it itself
(~/.pgpass or PGPASSFILE, a service file entry, PGPASSWORD); when the server asks for one
and none of those has it, a prompt on the terminal asks, and the answer goes straight to
libpq as a connection parameter, never into a URL or a message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

URL_ENV = "P2PCALL_DATABASE_URL"
CONNECT_TIMEOUT = 10  # seconds: an unreachable server says so instead of hanging
PASSWORD_ATTEMPTS = 3  # a mistyped password is asked again, twice


class ConnectionProblem(Exception):
    """One line for the user; it never holds a password."""


def database_url(given: str | None) -> str:
    """`--database`, else P2PCALL_DATABASE_URL; a password written in either is refused."""
    url = given if given else os.environ.get(URL_ENV, "")
    if not url.strip():
        raise ConnectionProblem(
            f"which database? give --database URL or set {URL_ENV} "
            "(for example postgresql://you@pg.practice.local/p2pcall?sslmode=verify-full)"
        )
    if "password" in parse(url):
        where = "on the command line" if given else f"in {URL_ENV}"
        raise ConnectionProblem(
            f"the database URL {where} holds a password: remove it and put the password in "
            "~/.pgpass (or a pg_service.conf entry); p2pcall asks for it when neither has it"
        )
    return url


def parse(url: str) -> dict[str, str]:
    """libpq's own reading of a URL or key=value string."""
    from psycopg import conninfo

    try:
        parsed = conninfo.conninfo_to_dict(url)
    except Exception:  # psycopg.ProgrammingError: libpq could not read it
        raise ConnectionProblem(
            "the database URL is not one libpq can read "
            "(postgresql://user@host/database?sslmode=verify-full)"
        ) from None
    return {key: str(value) for key, value in parsed.items() if value is not None}


def shown(url: str) -> str:
    """The database as it may be printed: who, where, which, how; never a password."""
    try:
        parts = parse(url)
    except ConnectionProblem:
        return "(an unreadable database URL)"
    user = parts.get("user") or os.environ.get("PGUSER") or "(your login name)"
    host = parts.get("host") or parts.get("hostaddr") or os.environ.get("PGHOST") or "local socket"
    port = parts.get("port")
    where = f"{host}:{port}" if port and not host.startswith("/") else host
    if parts.get("service") and not (parts.get("host") or parts.get("dbname")):
        return f"service {parts['service']}"  # the rest is in the service file
    return f"{parts.get('dbname') or user} on {where} as {user}"


def shown_connected(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """The database actually reached, in the words of `shown` (libpq fills in what the URL
    left to defaults: the socket folder, the login name)."""
    info = conn.info
    host = info.host if info.host.startswith("/") else f"{info.host}:{info.port}"
    return f"{info.dbname} on {host} as {info.user}"


def tls_warning(url: str) -> str | None:
    """A line to print when a TCP connection is not verified TLS (see docs/team.md)."""
    parts = parse(url)
    host = parts.get("host") or parts.get("hostaddr") or os.environ.get("PGHOST", "")
    if not host or all(h.startswith("/") for h in host.split(",")):
        return None  # a Unix socket on this machine: no network to protect
    mode = parts.get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"
    if mode == "verify-full":
        return None
    return (
        f"note: sslmode={mode}: the connection to {host} is not checked against the "
        "server's certificate; use sslmode=verify-full (docs/team.md)"
    )


Prompt = Callable[[str], str]


def connect(
    url: str,
    *,
    prompt: Prompt | None = None,
    autocommit: bool = False,
    password: str | None = None,
    settings: dict[str, str] | None = None,
) -> psycopg.Connection[tuple[object, ...]]:
    """A connection, asking for the password on the terminal only when libpq has none.

    `password`: one asked for earlier (kept in memory only, for the next connection of the
    same store); `settings`: more libpq parameters (`options`).
    """
    import psycopg

    settings = dict(settings or {})

    def connected(password: str | None) -> psycopg.Connection[tuple[object, ...]]:
        given = settings if password is None else {**settings, "password": password}
        return psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=autocommit,
            **given,  # type: ignore[arg-type]
        )

    try:
        return connected(password)
    except psycopg.Error as exc:
        if not _wants_password(exc):
            raise ConnectionProblem(_reason(exc, url)) from None
    ask = prompt if prompt is not None else _terminal_prompt()
    if ask is None:
        raise ConnectionProblem(
            f"the server wants a password for {shown(url)} and there is no terminal to ask "
            "on: put it in ~/.pgpass"
        )
    question = f"Password for {shown(url)}: "
    for attempt in range(1, PASSWORD_ATTEMPTS + 1):
        try:
            password = ask(question)
        except EOFError:  # Ctrl+D at the prompt, Esc in the app's dialog
            raise ConnectionProblem(f"no password given for {shown(url)}") from None
        try:
            return connected(password)
        except psycopg.Error as exc:
            if not _password_refused(exc) or attempt == PASSWORD_ATTEMPTS:
                raise ConnectionProblem(_reason(exc, url)) from None
        question = f"The server did not accept that password. Password for {shown(url)}: "
    raise AssertionError("unreachable")  # the last attempt returns or raises


def _terminal_prompt() -> Prompt | None:
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass


def _wants_password(exc: BaseException) -> bool:
    return "no password supplied" in str(exc)


def _password_refused(exc: BaseException) -> bool:
    return "password authentication failed" in str(exc)


def _reason(exc: BaseException, url: str) -> str:
    """libpq's message, first line only. It names host and user, never the password; any
    password a caller passed is cut out all the same."""
    first = (str(exc).strip().splitlines() or ["no reason given"])[0]
    secret = parse(url).get("password")
    if secret:
        first = first.replace(secret, "***")
    return f"cannot connect to {shown(url)}: {first}"
