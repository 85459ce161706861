"""`p2pcall show / export / letter` as a user runs them: a subprocess on a real database."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from export_db import make_database
from export_sample import IDENTIFIERS
from p2pcall.domain.export import render, render_letter
from p2pcall.domain.export.digest import check_digest, read_meta
from p2pcall.domain.timefmt import now_utc
from p2pcall.store.exporting import load_for_export
from p2pcall.store.opening import open_store

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def p2pcall(data_dir: Path, *args: str, cwd: Path | None = None, umask: int | None = None):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("P2PCALL_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), *args],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=60,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def database_record(data_dir: Path, call_id: int):
    store = open_store(data_dir)
    try:
        return load_for_export(store, call_id)
    finally:
        store.close()


@pytest.fixture
def call_id(data_dir: Path) -> int:
    return make_database(data_dir)


def test_show_prints_the_text_record(data_dir: Path, call_id: int) -> None:
    proc = p2pcall(data_dir, "show", str(call_id))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    out = proc.stdout.decode("utf-8")
    assert out.startswith(f"P2PCALL CALL RECORD - CALL {call_id}\n")
    assert check_digest(out) == (True, check_digest(out)[1])
    assert "\u201cI only look at whether the criteria are met.\u201d" in out
    assert "ADDED AFTER THE CALL, reason: after hanging up" in out
    assert "internal_appeal_filing" in out
    assert "\x1b" not in out and "\u202e" not in out and "\u241b]0;owned\u2407" in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_export_matches_a_re_render_from_the_database(data_dir: Path, call_id, fmt) -> None:
    """What `verify` relies on: the header gives back everything needed to re-render."""
    proc = p2pcall(data_dir, "export", f"#{call_id}", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    assert check_digest(out)[0]
    meta = read_meta(out)
    assert meta is not None and (meta.format, meta.call_id, meta.redact) == (fmt, call_id, False)
    assert abs(meta.generated_at - now_utc()) < timedelta(minutes=5)
    record = database_record(data_dir, call_id)
    assert render(record, meta.format, meta.generated_at, meta.redact) == out
    if fmt == "json":
        assert len(json.loads(out)["followups"]) == 2


@pytest.mark.parametrize("fmt", ["text", "md", "json"])
def test_redacted_export_leaves_no_identifier(data_dir: Path, call_id, fmt) -> None:
    proc = p2pcall(data_dir, "export", str(call_id), "-f", fmt, "--redact")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    for value in IDENTIFIERS.values():
        if len(value) > 3:
            assert value not in out
    assert "F33.2" not in out and "JD-0412" not in out and "female" not in out
    assert read_meta(out).redact is True


def test_export_to_a_file_is_0600_under_umask_000_and_never_replaced_without_force(
    data_dir: Path, call_id: int, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "record.md"
    target.parent.mkdir()
    proc = p2pcall(data_dir, "export", str(call_id), "-f", "markdown", "-o", str(target), umask=0)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert proc.stderr.decode().strip() == f"Wrote {target}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_bytes()
    assert check_digest(first.decode())[0]

    again = p2pcall(data_dir, "export", str(call_id), "-f", "markdown", "-o", str(target))
    assert again.returncode == 1
    assert again.stderr.decode().splitlines() == [
        f"p2pcall: {target} already exists; use --force to replace it."
    ]
    assert target.read_bytes() == first

    forced = p2pcall(data_dir, "export", str(call_id), "-o", str(target), "--force", umask=0)
    assert forced.returncode == 0, forced.stderr
    assert target.read_text().startswith("P2PCALL CALL RECORD")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["record.md"]


def test_letter_to_stdout_and_file(data_dir: Path, call_id: int, tmp_path: Path) -> None:
    before = now_utc()
    proc = p2pcall(data_dir, "letter", str(call_id))
    after = now_utc()
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    assert out.startswith("DRAFT")
    record = database_record(data_dir, call_id)
    assert out in {render_letter(record, before), render_letter(record, after)}
    assert "Reviewer will fax the written denial by 11/25." in out
    target = tmp_path / "letter.txt"
    assert p2pcall(data_dir, "letter", str(call_id), "-o", str(target), umask=0).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    refused = p2pcall(data_dir, "letter", str(call_id), "-o", str(target))
    assert refused.returncode == 1 and b"already exists" in refused.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "999"], 1, "There is no call number 999."),
        (["export", "999"], 1, "There is no call number 999."),
        (["letter", "999"], 1, "There is no call number 999."),
        (["show", "abc"], 2, "'abc' is not a call number"),
        (["export", "0"], 2, "'0' is not a call number"),
        (["export", "1", "--format", "pdf"], 2, "unknown format 'pdf'"),
        (["export", "1", "-o", "/nonexistent-dir/x.txt"], 1, "does not exist"),
        (["letter", "1", "-o", "/proc/p2pcall-x.txt"], 1, "Cannot write in /proc"),
    ],
)
def test_errors_are_one_line_without_traceback(data_dir, call_id, args, code, message) -> None:
    proc = p2pcall(data_dir, *args)
    stderr = proc.stderr.decode()
    assert proc.returncode == code, stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("p2pcall: ") and message in stderr
    assert "Traceback" not in stderr
    assert proc.stdout == b""


@pytest.mark.sqlite_only
def test_no_database_is_reported_and_not_created(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    for command in ("show", "export", "letter"):
        proc = p2pcall(empty, command, "1")
        assert proc.returncode == 1
        assert proc.stderr.decode().splitlines() == [
            f"p2pcall: There are no records in {empty} yet (no database file)."
        ]
    assert not empty.exists()


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    call = make_database(data, big_note=True)
    env = {**os.environ}
    proc = subprocess.Popen(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data), "show", str(call)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100).startswith(b"P2PCALL CALL RECORD")
    proc.stdout.close()  # like `| head`
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in stderr, stderr


@pytest.mark.parametrize("command", ["show", "export", "letter"])
def test_record_commands_do_not_import_textual(data_dir: Path, call_id, command) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "p2pcall", "--data-dir", str(data_dir),
         command, str(call_id)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert any(m.startswith("p2pcall.domain.") for m in imported)  # the report was parsed
    for package in ("textual", "rich"):
        assert not [m for m in imported if m == package or m.startswith(package + ".")], package
