"""A reader that stops early (`p2pcall ... | head`) ends the command quietly: no crash report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["deadlines", "--plan", "medicare_advantage", "--json"],
        ["deadlines", "--plan", "erisa", "--review", "concurrent", "--urgency", "urgent"],
    ],
)
def test_a_closed_pipe_is_not_an_unexpected_error(tmp_path: Path, args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    env = {**os.environ, "P2PCALL_DATA_DIR": str(tmp_path / "data")}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "p2pcall", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 1
