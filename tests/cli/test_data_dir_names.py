"""A data folder whose name holds URL syntax (`?`, `#`, `%20`) is still that folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from p2pcall.store.opening import open_store


@pytest.mark.parametrize("name", ["a?b", "a#b", "a%20b", "a?mode=ro#x"])
def test_the_store_writes_inside_the_folder_named_and_nowhere_else(
    tmp_path: Path, name: str
) -> None:
    data = tmp_path / name / "data"
    store = open_store(data)
    try:
        call = store.start_call("UTC")
        assert [c.id for c in store.unfinished_calls()] == [call.id]
    finally:
        store.close()
    # "sqlite:////tmp/x/a?b/data/..." would have opened (and created) tmp/x/a instead.
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert sorted(p.name for p in data.iterdir()) == ["p2pcall.sqlite3"]
    env = {**os.environ}
    env.pop("P2PCALL_DATA_DIR", None)
    listed = subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "list", "--json"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert f'"id": {call.id}' in listed.stdout
