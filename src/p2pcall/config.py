"""The settings file: where it lives (one function decides), reading and writing it.

`--config-dir`, then $P2PCALL_CONFIG_DIR, then the platform's user config folder (on Linux
~/.config/p2pcall). The file is TOML (`settings.toml`), read with tomllib and written whole
or not at all, owner-only (0600) in an owner-only folder (0700). Nothing is created at
import time or by reading: a missing file means nothing is set yet.
"""

from __future__ import annotations

import os
from pathlib import Path

from p2pcall.domain.letters.practice import (
    Practice,
    PracticeError,
    practice_from_toml,
    practice_to_toml,
)

ENV_VAR = "P2PCALL_CONFIG_DIR"
FILE_NAME = "settings.toml"


def resolve_config_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """`--config-dir`, then $P2PCALL_CONFIG_DIR, then the platform's user config directory."""
    if cli_value:
        return Path(cli_value).expanduser()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs  # deferred: only needed when nothing else was given

    return Path(platformdirs.user_config_dir("p2pcall", appauthor=False))


def settings_path(config_dir: Path) -> Path:
    return config_dir / FILE_NAME


def load_practice(config_dir: Path) -> Practice:
    """The practice details; empty when the file does not exist. PracticeError when it cannot
    be read (the message names the file and the problem, never its content)."""
    import tomllib

    path = settings_path(config_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Practice()
    except OSError as exc:
        raise PracticeError(f"Cannot read {path}: {(exc.strerror or 'error').lower()}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        where = f" ({exc})" if isinstance(exc, tomllib.TOMLDecodeError) else ""
        raise PracticeError(f"{path} is not valid TOML{where}; fix or remove it.") from None
    return practice_from_toml(data)


def save_practice(config_dir: Path, practice: Practice) -> Path:
    """Write the settings atomically, 0600, in a 0700 folder (created if needed)."""
    from p2pcall.exportfile import ExportFileError, write_export
    from p2pcall.paths import DataDirError, ensure_private_dir

    try:
        ensure_private_dir(config_dir)
        return write_export(settings_path(config_dir), practice_to_toml(practice), force=True)
    except (DataDirError, ExportFileError) as exc:
        raise PracticeError(str(exc).replace("data directory", "settings folder")) from None
