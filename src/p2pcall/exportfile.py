"""Writing an export to a file: atomically, owner-only, and never over a file by surprise.

Shared by the CLI and the TUI (it uses only the standard library, so neither pulls in the
other's dependencies). The file appears complete or not at all: the text goes to a temporary
file in the same folder, is flushed to disk, then renamed over the target name.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o600


class ExportFileError(Exception):
    """The file cannot be written; the message says why in one line, without the content."""


class ExportExistsError(ExportFileError):
    """The target exists and `force` was not given."""


def write_export(
    path: str | os.PathLike[str],
    text: str | bytes,
    *,
    force: bool = False,
    records: Path | None = None,
) -> Path:
    """Write `text` (UTF-8; bytes as they are, e.g. a PDF) to `path` with mode 0600, whatever
    the umask. `records`, the database's path: never written into its folder or over it.

    Only ever a regular file: a folder, device, FIFO or socket at `path` is refused, and a
    symbolic link is neither followed nor replaced, with or without `force`. Without
    `force`, an existing file is left untouched and ExportExistsError is raised; the check
    and the final link are one step (os.link fails on an existing name), so a file that
    appears meanwhile is not overwritten either. With `force` the new file is exchanged
    with the old one in one step and the old one looked at afterwards, so something other
    than a regular file that took its place meanwhile is put back, never replaced.
    """
    target = Path(path).expanduser()
    if records is not None:
        _refuse_the_records(target, records)
    existing = _lstat(target)
    if existing is not None:
        _refuse_unless_regular(target, existing)
        if not force:
            raise ExportExistsError(f"{target} already exists; use --force to replace it.")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        if folder.exists():
            raise ExportFileError(f"{folder} is not a folder.")
        raise ExportFileError(f"The folder {folder} does not exist.")
    # Short whatever the target's length: a 250-character name still gets a temporary file.
    temp = folder / f".{target.name[:64]}.{os.getpid()}.p2pcall-tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
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
        with contextlib.suppress(OSError):  # gone after a rename; the old file after an exchange
            if stat.S_ISREG(os.lstat(temp).st_mode):
                temp.unlink()
    fsync_path(folder)
    return target


def _refuse_the_records(target: Path, database: Path) -> None:
    """Never write into the records' folder, nor over the database under another name.

    `-o` with the database's own name and --force would otherwise replace every record
    with one export (a slip of tab completion is enough).
    """
    folder = target.parent if str(target.parent) else Path(".")
    with contextlib.suppress(OSError):
        if os.path.samefile(folder, database.parent):
            raise ExportFileError(
                f"{target} is in the folder that holds your records ({database.parent}); "
                "choose another folder."
            )
    try:
        found = os.stat(target)
    except OSError:
        return
    for companion in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(OSError):
            if os.path.samestat(found, os.stat(companion)):
                raise ExportFileError(f"{target} is your records' database; choose another name.")


def _lstat(target: Path) -> os.stat_result | None:
    """What is at the name itself (a link is not followed); None when nothing is."""
    try:
        return os.lstat(target)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise ExportFileError(f"{target.parent} is not a folder.") from None
    except OSError as exc:
        raise ExportFileError(f"Cannot write {target}: {_reason(exc)}.") from None


def _refuse_unless_regular(target: Path, info: os.stat_result) -> None:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ExportFileError(f"{target} is a folder; give a file name.")
    if stat.S_ISLNK(mode):
        raise ExportFileError(
            f"{target} is a symbolic link: an export never writes through or over a link; "
            "give the name of a regular file."
        )
    kind = (
        "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise ExportFileError(f"{target} is {kind}: an export is written only to a regular file.")


def _publish(temp: Path, target: Path, force: bool) -> None:
    try:
        if force:
            _replace_regular(temp, target)
        else:
            os.link(temp, target)  # refuses an existing name, unlike rename
    except FileExistsError:
        raise ExportExistsError(f"{target} already exists; use --force to replace it.") from None
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EXDEV) and not force:
            # File systems without hard links (some FUSE/SMB mounts): check, then rename.
            if os.path.lexists(target):
                raise ExportExistsError(
                    f"{target} already exists; use --force to replace it."
                ) from None
            try:
                os.replace(temp, target)
            except OSError as exc2:
                raise ExportFileError(f"Cannot write {target}: {_reason(exc2)}.") from None
            return
        raise ExportFileError(f"Cannot write {target}: {_reason(exc)}.") from None


def _replace_regular(temp: Path, target: Path) -> None:
    """Put `temp` at `target`'s name, only ever over a regular file (or over nothing).

    The name was checked before writing; where the system can exchange two names in one
    step (Linux), what was at the name is looked at again after the exchange and put back
    if it is not a regular file, so nothing that took its place in between is replaced.
    Elsewhere a plain rename follows the check.
    """
    if not _exchange(temp, target):
        os.replace(temp, target)
        return
    info = os.lstat(temp)  # what was at the target's name a moment ago
    if not stat.S_ISREG(info.st_mode):
        _exchange(temp, target)  # put it back where it was
        _refuse_unless_regular(target, info)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two names in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.ENOENT):
        return False  # no such call, a file system without it, or the old file gone meanwhile
    raise OSError(code, os.strerror(code), str(b))


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def fsync_path(path: Path) -> None:
    """Flush a file or folder to disk: a folder makes a rename in it durable (best effort:
    not every platform can open a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
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
