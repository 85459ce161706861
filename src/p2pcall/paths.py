"""Where the records live: one function decides, nothing is created at import time."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

ENV_VAR = "P2PCALL_DATA_DIR"
DB_NAME = "p2pcall.sqlite3"


class DataDirError(Exception):
    """The data directory cannot be used; the message says why and what to do."""


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """`--data-dir`, then $P2PCALL_DATA_DIR, then the platform's user data directory."""
    if cli_value:
        return Path(cli_value).expanduser()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs  # deferred: only needed when nothing else was given

    return Path(platformdirs.user_data_dir("p2pcall", appauthor=False))


DATABASE_URL_ENV = "P2PCALL_DATABASE_URL"


def resolve_database_url(cli_value: str | None = None) -> str | None:
    """The practice server to use: `--database`, then P2PCALL_DATABASE_URL; None (blank
    too) means the local SQLite file in the data folder, the default."""
    for value in (cli_value, os.environ.get(DATABASE_URL_ENV)):
        if value is not None and value.strip():
            return value
    return None


def ensure_private_dir(path: Path) -> Path:
    """Create the directory owner-only (0700), or tighten one that is looser.

    Raises DataDirError with a readable message when it cannot be made or is not ours.
    """
    if path.exists() and not path.is_dir():
        raise DataDirError(f"The data directory {path} exists but is a file, not a folder.")
    try:
        _make_dirs(path)
    except OSError as exc:
        raise DataDirError(f"Cannot create the data directory {path}: {exc.strerror}.") from None
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise DataDirError(
            f"The data directory {path} belongs to another user (uid {info.st_uid}). "
            "p2pcall keeps records only in a folder of your own: start it with "
            "--data-dir PATH, or check whose folder this is."
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        try:
            path.chmod(0o700)
        except OSError as exc:
            raise DataDirError(
                f"The data directory {path} is readable by others and cannot be "
                f"made private ({exc.strerror}). Run: chmod 700 '{path}'"
            ) from None
    return path


def _make_dirs(path: Path) -> None:
    """mkdir -p, every folder it creates 0700.

    Path.mkdir(parents=True) gives the parents 0777 minus the umask: world-writable
    under `umask 000`.
    """
    missing: list[Path] = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for folder in reversed(missing):
        # FileExistsError: made meanwhile by another p2pcall starting at the same moment.
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        folder.chmod(0o700)  # mkdir's mode is only what the umask lets through


def data_dir_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a data folder, or None (a missing one is fine: empty).

    For commands that only read: they create nothing, so they only need to know whether
    what is there is a folder.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return f"The data directory {path} cannot exist: part of that path is a file."
    except OSError as exc:
        return f"The data directory {path} cannot be read ({(exc.strerror or 'error').lower()})."
    if not stat.S_ISDIR(info.st_mode):
        return f"The data directory {path} exists but is a file, not a folder."
    return None


def database_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME
