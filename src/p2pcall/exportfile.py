"""Writing an export to a file: atomically, owner-only, and never over a file by surprise.

Shared by the CLI and the TUI (it uses only the standard library, so neither pulls in the
other's dependencies). The file appears complete or not at all: the text goes to a temporary
file in the same folder, is flushed to disk, then renamed over the target name.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

FILE_MODE = 0o600


class ExportFileError(Exception):
    """The file cannot be written; the message says why in one line, without the content."""


class ExportExistsError(ExportFileError):
    """The target exists and `force` was not given."""


def write_export(path: str | os.PathLike[str], text: str | bytes, *, force: bool = False) -> Path:
    """Write `text` (UTF-8; bytes as they are, e.g. a PDF) to `path` with mode 0600.

    Without `force`, an existing file is left untouched and ExportExistsError is raised; the
    check and the final link are one step (os.link fails on an existing name), so a file that
    appears meanwhile is not overwritten either.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise ExportFileError(f"{target} is a folder; give a file name.")
    if not force and target.exists():
        raise ExportExistsError(f"{target} already exists; use --force to replace it.")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        if folder.exists():
            raise ExportFileError(f"{folder} is not a folder.")
        raise ExportFileError(f"The folder {folder} does not exist.")
    temp = folder / f".{target.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError as exc:
        raise ExportFileError(f"Cannot write in {folder}: {_reason(exc)}.") from None
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # O_CREAT's mode is masked by the umask; this is not
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8") if isinstance(text, str) else text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ExportFileError(f"Cannot write {target}: {_reason(exc)}.") from None
        _publish(temp, target, force)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    _sync_folder(folder)
    return target


def _publish(temp: Path, target: Path, force: bool) -> None:
    try:
        if force:
            os.replace(temp, target)
        else:
            os.link(temp, target)  # refuses an existing name, unlike rename
    except FileExistsError:
        raise ExportExistsError(f"{target} already exists; use --force to replace it.") from None
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EXDEV) and not force:
            # File systems without hard links (some FUSE/SMB mounts): check, then rename.
            if target.exists():
                raise ExportExistsError(
                    f"{target} already exists; use --force to replace it."
                ) from None
            try:
                os.replace(temp, target)
            except OSError as exc2:
                raise ExportFileError(f"Cannot write {target}: {_reason(exc2)}.") from None
            return
        raise ExportFileError(f"Cannot write {target}: {_reason(exc)}.") from None


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def default_export_path(
    call_id: int, kind: str, *, redact: bool = False, folder: Path | None = None
) -> Path:
    """`p2pcall-call-12-record.txt` etc. in `folder` (default: the home folder, which cloud
    sync clients leave alone unless told otherwise, unlike Documents or Desktop on some
    systems). No patient data in the name: names show up in listings and recent-file lists.
    """
    from p2pcall.domain.export import SUFFIXES

    name = "letter" if kind == "letter" else "record"
    tag = "-redacted" if redact and kind != "letter" else ""
    base = folder if folder is not None else Path.home()
    return base / f"p2pcall-call-{call_id}-{name}{tag}{SUFFIXES.get(kind, '.txt')}"


# Folder names of common sync clients: a file saved under one leaves the laptop.
_SYNCED = ("dropbox", "onedrive", "icloud", "mobile documents", "google drive", "googledrive",
           "nextcloud", "owncloud", "box sync", "pcloud", "megasync", "syncthing")  # fmt: skip


def synced_folder_hint(path: Path) -> str | None:
    """A warning when `path` looks like it is inside a cloud-synced folder, else None."""
    for part in Path(path).expanduser().parts[:-1]:
        lowered = part.lower()
        if any(name in lowered for name in _SYNCED):
            return (
                f"{part} looks like a synced folder: the file would leave this computer. "
                "Choose another folder unless that is what you want."
            )
    return None
