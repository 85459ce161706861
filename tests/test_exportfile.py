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


def test_symlink_at_target_is_not_followed_without_force(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("do not touch\n")
    link = tmp_path / "link.txt"
    link.symlink_to(elsewhere)
    with pytest.raises(ExportExistsError):
        write_export(link, "new\n")
    assert elsewhere.read_text() == "do not touch\n"


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
