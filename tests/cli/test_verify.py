"""`p2pcall verify` as a subprocess against real exports and a real database file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store.opening import open_store

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

EXPORT_BODY = "Reviewer cited LOCUS level 3"


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_call(data_dir: Path, *, finalize: bool = True) -> int:
    store = open_store(data_dir)
    try:
        call = store.start_call("America/New_York")
        store.set_field(call.id, "patient_ref", "JD-0412", log=True)
        store.add_note(call.id, Section.A, NoteKind.NOTE, "Patient is 34", now_utc())
        first = store.add_note(call.id, Section.D, NoteKind.QUOTE, EXPORT_BODY, now_utc())
        store.correct_note(first.id, EXPORT_BODY + " (2024)")
        store.end_call(call.id, Outcome.DENIED)
        if finalize:
            store.finalize_call(call.id)
        return call.id
    finally:
        store.close()


def export(data_dir: Path, call_id: int, fmt: str, target: Path, redact: bool = False) -> Path:
    from p2pcall.domain.export import render
    from p2pcall.exportfile import write_export
    from p2pcall.store.exporting import load_for_export

    store = open_store(data_dir)
    try:
        record = load_for_export(store, call_id)
    finally:
        store.close()
    return write_export(target, render(record, fmt, now_utc(), redact))


def line_number_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.fixture
def finalized(data_dir: Path) -> int:
    return make_call(data_dir)


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_untouched_export_is_verified(
    data_dir: Path, finalized: int, tmp_path: Path, fmt: str, suffix: str
) -> None:
    path = export(data_dir, finalized, fmt, tmp_path / f"call.{suffix}")
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFIED" in result.stdout
    assert "ok   chain: head" in result.stdout
    assert "every byte matches" in result.stdout
    assert result.stdout.splitlines()[-1] == f"VERIFIED: {path}"


def test_redacted_export_is_verified_with_its_own_redaction(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path / "call.txt", redact=True)
    assert "JD-0412" not in path.read_text(encoding="utf-8")
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("markdown", "md")])
def test_edited_export_fails_and_names_the_line(
    data_dir: Path, finalized: int, tmp_path: Path, fmt: str, suffix: str
) -> None:
    path = export(data_dir, finalized, fmt, tmp_path / f"call.{suffix}")
    number = line_number_of(path, EXPORT_BODY)
    path.write_text(
        path.read_text(encoding="utf-8").replace("LOCUS level 3", "LOCUS level 2", 1),
        encoding="utf-8",
    )
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "FAIL digest: the content was changed after export" in result.stdout
    assert f"line {number} differs" in result.stdout
    assert "LOCUS level 2" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("NOT VERIFIED: ")


def test_edit_with_a_recomputed_digest_is_caught_by_the_database(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    from p2pcall.domain.export.common import FOOTER_PREFIX
    from p2pcall.domain.export.digest import seal_text

    path = export(data_dir, finalized, "text", tmp_path / "call.txt")
    text = path.read_text(encoding="utf-8")
    body = text[: text.rindex(FOOTER_PREFIX)].replace("Patient is 34", "Patient is 43")
    path.write_text(seal_text(body), encoding="utf-8")
    number = line_number_of(path, "Patient is 43")
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "ok   digest" in result.stdout
    assert f"FAIL database: line {number} differs" in result.stdout


def test_edited_json_export_fails(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    path = export(data_dir, finalized, "json", tmp_path / "call.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["notes"][0]["text"] = "Patient is 43"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "FAIL digest" in result.stdout
    assert "FAIL database: notes[0].text differs" in result.stdout
    assert "Patient is 43" in result.stdout


def test_reindented_json_export_keeps_its_digest_but_is_not_the_file_written(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    # Compared byte for byte, as text is: the same values laid out otherwise are not the
    # export p2pcall wrote, and verify says so (the canonical digest still matches).
    path = export(data_dir, finalized, "json", tmp_path / "call.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(document, indent=4, ensure_ascii=False), encoding="utf-8")
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "ok   digest" in result.stdout
    assert "FAIL database: same values, but not byte for byte the file p2pcall wrote" in (
        result.stdout
    )


def test_changed_chain_head_in_export_is_reported(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path / "call.txt")
    store = open_store(data_dir)
    head = store.load_call(finalized).call.chain_head
    store.close()
    assert head
    path.write_text(
        path.read_text(encoding="utf-8").replace(head, "0" * 64),
        encoding="utf-8",
    )
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1
    assert f"the head printed in the export ({'0' * 64}) is not" in result.stdout


@pytest.mark.sqlite_only
def test_database_rewritten_after_finalizing_is_reported(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path / "call.txt")
    conn = sqlite3.connect(data_dir / "p2pcall.sqlite3", isolation_level=None)
    conn.execute("DROP TRIGGER record_note_no_update")
    conn.execute("UPDATE note SET body = 'Patient is 43' WHERE body = 'Patient is 34'")
    conn.close()
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1
    assert "FAIL chain: the record has been changed since it was finalized" in result.stdout
    assert "FAIL guards: " in result.stdout and "record_note_no_update is missing" in result.stdout
    assert "ok   digest" in result.stdout  # the file itself was not touched


def test_addendum_after_export_still_verifies(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "markdown", tmp_path / "call.md")
    store = open_store(data_dir)
    # Exports carry their time to the second: the addendum comes a few seconds later.
    with time_machine.travel(now_utc() + timedelta(seconds=3), tick=True):
        store.add_note(finalized, Section.G, NoteKind.NOTE, "Letter came", now_utc(), reason="mail")
    store.close()
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout
    assert "1 note(s) were added since" in result.stdout


def test_unfinalized_call_is_compared_without_a_chain(data_dir: Path, tmp_path: Path) -> None:
    call_id = make_call(data_dir, finalize=False)
    path = export(data_dir, call_id, "text", tmp_path / "call.txt")
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout
    assert "not finalized yet" in result.stdout


@pytest.mark.sqlite_only
def test_without_a_database_only_the_digest_is_checked(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path / "call.txt")
    elsewhere = tmp_path / "no-data-here"
    # Asked to compare with a database that is not there: not verified (fails closed).
    result = verify(path, "--data-dir", elsewhere)
    assert result.returncode == 1, result.stdout
    assert "---- database: not compared: there is no database at" in result.stdout
    assert result.stdout.splitlines()[-1].startswith(f"NOT VERIFIED: {path}: not every check")
    assert not elsewhere.exists()  # verify never creates a data folder
    # Asked for the digest alone: it says only that, and exits 0.
    alone = verify(path, "--no-database", "--data-dir", data_dir)
    assert alone.returncode == 0, alone.stdout
    assert alone.stdout.splitlines()[-1].startswith(f"DIGEST MATCHES: {path} (the file alone")
    assert "VERIFIED" not in alone.stdout


def test_escape_sequences_in_an_edited_export_are_not_replayed(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path / "call.txt")
    path.write_text(
        path.read_text(encoding="utf-8").replace("Patient is 34", "\x1b]0;pwned\x07\x1b[2J", 1),
        encoding="utf-8",
    )
    result = verify(path, "--data-dir", data_dir)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\u241b]0;pwned" in result.stdout


def test_usage_errors_exit_2(tmp_path: Path, data_dir: Path) -> None:
    assert verify(tmp_path / "missing.txt", "--data-dir", data_dir).returncode == 2
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert verify(binary, "--data-dir", data_dir).returncode == 2
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\n", encoding="utf-8")
    result = verify(other, "--data-dir", data_dir)
    assert result.returncode == 2 and "not a p2pcall export" in result.stderr
    assert verify("--data-dir", data_dir).returncode == 2  # no FILE: argparse usage
