"""Where the records live: --data-dir, then $P2PCALL_DATA_DIR, then platformdirs."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import platformdirs
import pytest

from p2pcall.paths import (
    DB_NAME,
    ENV_VAR,
    DataDirError,
    database_path,
    ensure_private_dir,
    resolve_data_dir,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home and XDG data home, so nothing real is looked at or touched."""
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return fake_home


def test_cli_value_beats_env_and_platform(tmp_path: Path, home: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert resolve_data_dir(str(tmp_path / "from-cli")) == tmp_path / "from-cli"
    assert resolve_data_dir(tmp_path / "from-cli-path") == tmp_path / "from-cli-path"
    assert not (tmp_path / "from-cli").exists()
    assert not (tmp_path / "from-env").exists()


def test_env_beats_platform(tmp_path: Path, home: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert resolve_data_dir(None) == tmp_path / "from-env"
    assert resolve_data_dir("") == tmp_path / "from-env"  # an empty flag is no flag
    assert not (tmp_path / "from-env").exists()


def test_platform_default_when_nothing_given(tmp_path: Path, home: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, "")  # set but empty counts as unset
    resolved = resolve_data_dir(None)
    assert resolved == Path(platformdirs.user_data_dir("p2pcall", appauthor=False))
    if sys.platform.startswith("linux"):
        assert resolved == tmp_path / "xdg-data" / "p2pcall"
    assert not resolved.exists()
    assert not (tmp_path / "xdg-data").exists()


def test_tilde_is_expanded_in_both_sources(home: Path, monkeypatch) -> None:
    assert resolve_data_dir("~/notes-cli") == home / "notes-cli"
    monkeypatch.setenv(ENV_VAR, "~/notes-env")
    assert resolve_data_dir(None) == home / "notes-env"
    assert sorted(home.iterdir()) == []  # resolving creates nothing


def test_database_path() -> None:
    assert DB_NAME == "p2pcall.sqlite3"
    assert database_path(Path("/x/y")) == Path("/x/y/p2pcall.sqlite3")


def test_ensure_private_dir_creates_0700(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert ensure_private_dir(target) == target
    assert target.is_dir()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_ensure_private_dir_tightens_loose_dir(tmp_path: Path) -> None:
    target = tmp_path / "loose"
    target.mkdir()
    target.chmod(0o755)
    (target / "keep.txt").write_text("kept")
    ensure_private_dir(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert (target / "keep.txt").read_text() == "kept"


def test_ensure_private_dir_on_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "records"
    target.write_text("not a folder")
    with pytest.raises(DataDirError) as caught:
        ensure_private_dir(target)
    message = str(caught.value)
    assert str(target) in message
    assert "exists" in message.lower()
    assert "Traceback" not in message and "Errno" not in message
    assert message.endswith(".")
    assert target.read_text() == "not a folder"


def test_ensure_private_dir_below_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataDirError, match="Cannot create the data directory"):
        ensure_private_dir(blocker / "sub")
    assert blocker.read_text() == "x"
