"""Letters outside the screen: the schema step, PDF files, `p2pcall letter`, the settings file."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from export_db import make_database, make_v2_database
from export_sample import GENERATED_AT, sample_record
from p2pcall.config import load_practice, resolve_config_dir, save_practice, settings_path
from p2pcall.domain.letters import Practice, build_letter
from p2pcall.domain.letters.practice import PracticeError
from p2pcall.letterpdf import letter_pdf, text_pdf
from p2pcall.store.opening import open_store

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

LETTER_PTS = (612, 792)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- schema -----------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_v2_database_upgrades_and_letters_stay_outside_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_id, head = make_v2_database(tmp_path, monkeypatch)
    db = tmp_path / "p2pcall.sqlite3"
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 2
    store = open_store(tmp_path)
    try:
        # A finalized call's letter can still be edited and written: not part of the record.
        store.save_letter_edit(call_id, "confirmation", "my text")
        store.add_letter_file(call_id, "confirmation", "pdf", "/x.pdf", edited=True)
        assert store.letter_edit(call_id, "confirmation").body == "my text"
        assert [f.path for f in store.letter_files(call_id)] == ["/x.pdf"]
        store.save_letter_edit(call_id, "confirmation", "")  # back to the draft
        assert store.letter_edit(call_id, "confirmation") is None
        assert store.load_call(call_id).call.chain_head == head == store.recompute_head(call_id)
    finally:
        store.close()


# -- PDF --------------------------------------------------------------------------------------


def test_pdf_opens_has_the_text_fits_letter_pages_and_keeps_notes_out_of_metadata(
    tmp_path: Path,
) -> None:
    record = sample_record()
    record.call.values["the_ask"] = "Ω ≥ 2 \u4e2d \u0007 ask"  # a glyph the font lacks, a control
    path = tmp_path / "letter.pdf"
    path.write_bytes(letter_pdf(build_letter("confirmation", record, GENERATED_AT), GENERATED_AT))
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == LETTER_PTS
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Who reviewed the request" in text
    assert "Reviewer will fax the written denial by 11/25." in text
    assert "Ω ≥ 2 <U+4E2D>" in text  # never dropped silently
    metadata = " ".join(str(v) for v in (reader.metadata or {}).values())
    for secret in ("Residential", "JD-0412", "Ruiz", "fax", "Self-harm"):
        assert secret not in metadata
    raw = path.read_bytes()
    assert b"Self-harm" not in raw  # text is in compressed content streams, not plain metadata


def test_edited_text_pdf_keeps_the_users_lines(tmp_path: Path) -> None:
    data = text_pdf("Dear team,\n\nLine one\nLine two\n", "Written confirmation", GENERATED_AT)
    reader = pypdf.PdfReader(__import__("io").BytesIO(data))
    assert "Line one\nLine two" in reader.pages[0].extract_text()
    assert reader.metadata.title == "Written confirmation"


# -- the command line ---------------------------------------------------------------------------


def p2pcall(data_dir: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "P2PCALL_CONFIG_DIR": str(config), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


@pytest.mark.slow
def test_cli_every_kind_and_format(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "config"
    call_id = make_database(data)
    save_practice(config, Practice(name="Jane Roe", credentials="MD"))
    proc = p2pcall(data, config, "letter", str(call_id), "--kind", "records-request")
    assert proc.returncode == 0, proc.stderr
    assert "Request for the claim file" in proc.stdout and "Jane Roe, MD" in proc.stdout
    for kind in ("confirmation", "expedited-appeal", "records-request", "complaint"):
        for fmt, suffix in (("text", ".txt"), ("markdown", ".md"), ("pdf", ".pdf")):
            target = tmp_path / f"{kind}{suffix}"
            proc = p2pcall(data, config, "letter", str(call_id), "--kind", kind, "--format", fmt,
                           "-o", str(target))  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            assert mode_of(target) == 0o600
    assert pypdf.PdfReader(tmp_path / "complaint.pdf").pages
    store = open_store(data)
    try:
        assert len(store.letter_files(call_id)) == 12
    finally:
        store.close()


def test_cli_refusals_are_one_line(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "config"
    call_id = make_database(data)
    pdf = p2pcall(data, config, "letter", str(call_id), "--format", "pdf")
    assert pdf.returncode == 2 and pdf.stderr == "p2pcall: A PDF needs a file: add -o FILE.\n"
    store = open_store(data)
    other = store.start_call("UTC")
    store.close()
    appeal = p2pcall(data, config, "letter", str(other.id), "--kind", "expedited-appeal")
    assert appeal.returncode == 1 and appeal.stderr.count("\n") == 1
    assert "answers a denial" in appeal.stderr
    config.mkdir()
    settings_path(config).write_text("[signature\nname = 1")
    broken = p2pcall(data, config, "letter", str(call_id))
    assert broken.returncode == 1 and "not valid TOML" in broken.stderr
    assert broken.stderr.count("\n") == 1


def test_cli_uses_the_users_edited_text(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "config"
    call_id = make_database(data)
    store = open_store(data)
    store.save_letter_edit(call_id, "confirmation", "My own words.\x1b]0;x\x07")
    store.close()
    mine = p2pcall(data, config, "letter", str(call_id))
    assert mine.stdout == "My own words.\u241b]0;x\u2407\n" and "edited" in mine.stderr
    fresh = p2pcall(data, config, "letter", str(call_id), "--from-record")
    assert fresh.stdout.startswith("DRAFT")


# -- the settings file ----------------------------------------------------------------------------


def test_config_dir_is_resolved_in_one_place(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("P2PCALL_CONFIG_DIR", str(tmp_path / "env"))
    assert resolve_config_dir(tmp_path / "cli") == tmp_path / "cli"
    assert resolve_config_dir() == tmp_path / "env"
    monkeypatch.delenv("P2PCALL_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert resolve_config_dir() == tmp_path / "xdg" / "p2pcall"


def test_settings_round_trip_private_and_atomic(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "config"
    assert load_practice(folder) == Practice()  # nothing set: nothing created
    assert not folder.exists()
    practice = Practice(name='Jane "JR" Roe\\', address="1 Main St\nAlbany\tNY", fax="\x1b[2J")
    old = os.umask(0)
    try:
        path = save_practice(folder, practice)
    finally:
        os.umask(old)
    assert mode_of(path) == 0o600 and mode_of(folder) == 0o700
    assert load_practice(folder) == Practice(
        name='Jane "JR" Roe\\', address="1 Main St\nAlbany\tNY", fax="\x1b[2J"
    )
    assert "\x1b" not in path.read_text()
    assert [p.name for p in folder.iterdir()] == ["settings.toml"]  # no temporary left
    from p2pcall.domain.letters import render_text

    letter = render_text(build_letter("confirmation", sample_record(), GENERATED_AT, practice))
    assert "\x1b" not in letter and "Fax: \u241b[2J" in letter  # shown, never sent raw


def test_settings_of_the_wrong_type_are_refused(tmp_path: Path) -> None:
    settings_path(tmp_path).write_text("[signature]\nname = 3\n")
    with pytest.raises(PracticeError, match="Your name"):
        load_practice(tmp_path)


def test_complaint_gives_the_time_each_refusal_was_recorded(tmp_path: Path) -> None:
    import pendulum

    from p2pcall.domain.letters import render_text
    from p2pcall.domain.vocab import Outcome
    from p2pcall.letterjob import draft, load_source

    store = open_store(tmp_path)
    try:
        with pendulum.travel_to(pendulum.datetime(2026, 11, 23, 15, 0, tz="UTC"), freeze=True):
            call = store.start_call("America/New_York")
        with pendulum.travel_to(pendulum.datetime(2026, 11, 23, 15, 4, tz="UTC"), freeze=True):
            store.set_field(call.id, "reviewer_name", "", declined=True, log=True)
        with pendulum.travel_to(pendulum.datetime(2026, 11, 23, 15, 9, tz="UTC"), freeze=True):
            store.set_field(call.id, "reviewer_same_specialty", "no", log=True)
        store.end_call(call.id, Outcome.DENIED)
        source = load_source(store, call.id)
    finally:
        store.close()
    text = " ".join(render_text(draft(source, "complaint", Practice(), GENERATED_AT)).split())
    assert "the reviewer declined to give their name (recorded at 10:04)." in text
    assert "not of the same specialty as the treating clinician (recorded at 10:09)." in text
