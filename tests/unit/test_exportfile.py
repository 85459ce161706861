"""Writing export files: atomic, owner-only under any umask, never replacing without force."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from p2pcall.exportfile import (
    ExportExistsError,
    ExportFileError,
    default_export_path,
    synced_folder_hint,
    write_export,
)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_0600_even_under_umask_000(tmp_path: Path, umask_zero: None) -> None:
    target = write_export(tmp_path / "record.txt", "caf\u00e9 \u2713\n")
    assert target == tmp_path / "record.txt"
    assert mode_of(target) == 0o600
    assert target.read_bytes() == "caf\u00e9 \u2713\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.txt"]  # no temp file left


def test_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    target = tmp_path / "record.txt"
    target.write_text("the user's own file\n")
    with pytest.raises(ExportExistsError, match="already exists; use --force"):
        write_export(target, "new\n")
    assert target.read_text() == "the user's own file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.txt"]


def test_force_replaces_and_tightens(tmp_path: Path, umask_zero: None) -> None:
    target = tmp_path / "record.txt"
    target.write_text("old\n")
    target.chmod(0o644)
    write_export(target, "new\n", force=True)
    assert target.read_text() == "new\n"
    assert mode_of(target) == 0o600


@pytest.mark.parametrize("force", [False, True])
def test_symlink_at_target_is_neither_followed_nor_replaced(tmp_path: Path, force: bool) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("do not touch\n")
    link = tmp_path / "link.txt"
    link.symlink_to(elsewhere)
    with pytest.raises(ExportFileError, match="is a symbolic link") as caught:
        write_export(link, "new\n", force=force)
    assert "\n" not in str(caught.value)
    assert elsewhere.read_text() == "do not touch\n"
    assert link.is_symlink() and os.readlink(link) == str(elsewhere)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "link.txt"]


# -- only regular files are written (issue 10, item 5) ------------------------------------


def _special(tmp_path: Path, kind: str) -> Path:
    """A FIFO, socket, device node or folder at tmp_path/kind (skips what needs root)."""
    target = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "socket":
        import socket

        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
        server.close()  # the socket file stays
    elif kind == "device":
        try:
            os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
        except PermissionError:
            pytest.skip("making a device node needs root (CAP_MKNOD)")
    else:
        target.mkdir()
    return target


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(
    ("kind", "message"),
    [("fifo", "is a FIFO"), ("socket", "is a socket"), ("device", "is a device"),
     ("folder", "is a folder")],
)  # fmt: skip
def test_special_files_are_refused_and_left_in_place(
    tmp_path: Path, kind: str, message: str, force: bool
) -> None:
    target = _special(tmp_path, kind)
    before = os.lstat(target)
    with pytest.raises(ExportFileError, match=message) as caught:
        write_export(target, "the record\n", force=force)
    assert "\n" not in str(caught.value)
    after = os.lstat(target)
    assert (after.st_ino, after.st_mode, after.st_rdev) == (
        before.st_ino,
        before.st_mode,
        before.st_rdev,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [kind]  # no temporary file left


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink"])
def test_a_name_swapped_after_the_check_is_put_back_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A regular file when checked, something else by the time --force replaces it."""
    import p2pcall.exportfile as exportfile

    target = tmp_path / "record.txt"
    target.write_text("old\n")
    real_fsync = os.fsync

    def swap_then_sync(fd: int) -> None:  # runs between the check and the replace
        real_fsync(fd)
        target.unlink()
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "folder":
            target.mkdir()
        else:
            target.symlink_to(tmp_path / "elsewhere")

    monkeypatch.setattr(exportfile.os, "fsync", swap_then_sync)
    if exportfile._renameat2() is None:
        pytest.skip("no renameat2 here: the swap window is only narrowed, not closed")
    with pytest.raises(ExportFileError):
        write_export(target, "new\n", force=True)
    monkeypatch.undo()
    info = os.lstat(target)
    expected = {"fifo": stat.S_ISFIFO, "folder": stat.S_ISDIR, "symlink": stat.S_ISLNK}[kind]
    assert expected(info.st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.txt"]


def test_force_replaces_a_regular_file_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "record.txt"
    target.write_text("old\n")
    other_name = tmp_path / "hard-link.txt"
    os.link(target, other_name)  # the old file lives on under its other name, unchanged
    write_export(target, "new\n", force=True)
    assert target.read_text() == "new\n" and other_name.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard-link.txt", "record.txt"]


def test_a_name_too_long_is_one_line(tmp_path: Path) -> None:
    for name in ("n" * 300, "n" * 250):  # too long; long enough that a temp name would be
        try:
            written = write_export(tmp_path / name, "x\n")
        except ExportFileError as exc:
            assert "\n" not in str(exc) and "too long" in str(exc)
        else:
            assert written.read_text() == "x\n"


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing/record.txt", "does not exist"), (".", "is a folder")],
)
def test_bad_targets_give_one_line(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(ExportFileError, match=message) as caught:
        write_export(tmp_path / name, "x\n")
    assert "\n" not in str(caught.value)


def test_file_as_folder_and_unwritable_file_system(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    with pytest.raises(ExportFileError, match="is not a folder"):
        write_export(tmp_path / "plain" / "record.txt", "x\n")
    if Path("/proc/self").is_dir():  # procfs refuses new files, even to root
        with pytest.raises(ExportFileError, match="Cannot write in /proc"):
            write_export("/proc/p2pcall-record.txt", "x\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_gives_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportFileError, match="Cannot write in"):
            write_export(folder / "record.txt", "x\n")
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_default_names_carry_no_patient_data(tmp_path: Path) -> None:
    assert default_export_path(7, "text", folder=tmp_path).name == "p2pcall-call-7-record.txt"
    assert default_export_path(7, "markdown", redact=True, folder=tmp_path).name == (
        "p2pcall-call-7-record-redacted.md"
    )
    assert default_export_path(7, "json", folder=tmp_path).suffix == ".json"
    assert default_export_path(7, "letter", folder=tmp_path).name == "p2pcall-call-7-letter.txt"
    assert default_export_path(7, "text").parent == Path.home()


def test_synced_folders_are_pointed_out() -> None:
    assert synced_folder_hint(Path("/home/me/Dropbox/cases/record.txt"))
    assert synced_folder_hint(Path("/Users/me/Library/Mobile Documents/x.txt"))
    assert synced_folder_hint(Path("/home/me/OneDrive - Clinic/x.txt"))
    assert synced_folder_hint(Path("/home/me/records/x.txt")) is None
    assert synced_folder_hint(Path("/home/me/dropbox-notes.txt")) is None  # the file, not a folder
