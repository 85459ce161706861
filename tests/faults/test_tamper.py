"""The tamper suite: each way of changing a finalized record, and exactly what p2pcall says.

Every case runs the real CLI as a subprocess against a real database file, changed the way an
attacker with the `sqlite3` shell or an editor would (from a separate connection with SQLite's
default settings), and checks the verdict line and the exit status.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from p2pcall.domain.export.common import FOOTER_PREFIX
from p2pcall.domain.export.digest import canonical_json, seal_text, sha256_hex
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store.opening import open_store

SUFFIX = {"text": "txt", "markdown": "md", "json": "json"}
NOTE = "Reviewer cited LOCUS level 3"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=90,
    )


def verdict(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.splitlines()[-1]


def make_finalized(data_dir: Path, *, note: str = NOTE) -> int:
    store = open_store(data_dir)
    try:
        call = store.start_call("America/New_York")
        store.set_field(call.id, "patient_ref", "JD-0412", log=True)
        store.add_note(call.id, Section.A, NoteKind.NOTE, "Patient is 34", now_utc())
        store.add_note(call.id, Section.D, NoteKind.QUOTE, note, now_utc())
        store.end_call(call.id, Outcome.DENIED)
        from p2pcall.domain.followups import PlannedFollowUp
        from p2pcall.domain.vocab import FollowUpAction

        store.add_followup(call.id, PlannedFollowUp(FollowUpAction.INTERNAL_APPEAL))
        store.finalize_call(call.id)
        return call.id
    finally:
        store.close()


def export(data_dir: Path, call_id: int, fmt: str, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / f"call-{call_id}.{SUFFIX[fmt]}"
    result = cli("export", call_id, "--format", fmt, "-o", target, "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    return target


def raw(data_dir: Path) -> sqlite3.Connection:
    """What an attacker opens: SQLite's defaults, no pragma set."""
    return sqlite3.connect(data_dir / "p2pcall.sqlite3", isolation_level=None)


def stamped_head(data_dir: Path, call_id: int) -> str:
    conn = raw(data_dir)
    try:
        return conn.execute("SELECT chain_head FROM call WHERE id = ?", (call_id,)).fetchone()[0]
    finally:
        conn.close()


def edit_a_note_past_a_dropped_trigger(data_dir: Path) -> None:
    conn = raw(data_dir)
    conn.execute("DROP TRIGGER record_note_no_update")
    conn.execute("UPDATE note SET body = 'Patient is 43' WHERE body = 'Patient is 34'")
    conn.close()


@pytest.fixture
def finalized(data_dir: Path) -> int:
    return make_finalized(data_dir)


# -- the REPLACE family: refused, so the record and its exports still verify --------------------


@pytest.mark.parametrize(
    "statement",
    [
        "REPLACE INTO note (id, call_id, section, kind, body, started_at, saved_at, late, reason)"
        " SELECT id, call_id, section, kind, 'Patient is 43', started_at,"
        " '2099-01-01T00:00:00.000000Z', 1, 'x' FROM note WHERE body = 'Patient is 34'",
        "REPLACE INTO call (id, created_at, tz, started_at, ended_at, outcome)"
        " SELECT id, created_at, tz, started_at, ended_at, 'approved' FROM call",
        "UPDATE call SET rowid = 99",
    ],
    ids=["replace note", "replace call", "renumber call"],
)
def test_replace_family_is_refused_and_the_export_still_verifies(
    data_dir: Path, finalized: int, tmp_path: Path, statement: str
) -> None:
    path = export(data_dir, finalized, "text", tmp_path)
    conn = raw(data_dir)
    with pytest.raises(sqlite3.IntegrityError, match="p2pcall record: "):
        conn.execute(statement)
    conn.close()
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout
    assert verdict(result) == f"VERIFIED: {path}"
    assert cli("export", finalized, "--data-dir", data_dir).returncode == 0


# -- a guard dropped and a note edited ----------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "show", "letter"])
def test_an_edited_record_is_never_printed_with_its_head(
    data_dir: Path, finalized: int, command: str
) -> None:
    head = stamped_head(data_dir, finalized)
    edit_a_note_past_a_dropped_trigger(data_dir)
    result = cli(command, finalized, "--data-dir", data_dir)
    assert result.returncode == 1
    assert result.stdout == ""  # nothing of the record, and no head
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"p2pcall: Call {finalized}: the record has been changed since it was finalized"
    )
    assert head not in result.stderr


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_export_made_before_the_edit_is_not_verified(
    data_dir: Path, finalized: int, tmp_path: Path, fmt: str
) -> None:
    path = export(data_dir, finalized, fmt, tmp_path)
    edit_a_note_past_a_dropped_trigger(data_dir)
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1
    assert "ok   digest" in result.stdout  # the file itself was not touched
    assert "FAIL guards: the database's structure was changed outside p2pcall" in result.stdout
    assert "trigger record_note_no_update is missing" in result.stdout
    assert "FAIL chain: the record has been changed since it was finalized" in result.stdout
    assert "Patient is 43" in result.stdout  # where the database now differs
    assert verdict(result) == f"NOT VERIFIED: {path} differs from the record (see FAIL above)"


def test_edit_then_refinalize_is_caught_by_an_earlier_export(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    """Dropped guards, an edited note, the head recomputed and stamped again, the guards put
    back: a self-consistent record. Only a head kept from before (an earlier export) shows it."""
    old_head = stamped_head(data_dir, finalized)
    earlier = export(data_dir, finalized, "text", tmp_path / "earlier")
    conn = raw(data_dir)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'record_%'"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE note SET body = 'Patient is 43' WHERE body = 'Patient is 34'")
    store = open_store(data_dir)  # the attacker's own copy of the chain code would do as well
    conn.execute("COMMIT")
    new_head = store.chain_inputs(finalized).head()
    store.close()
    conn.execute("UPDATE call SET chain_head = ? WHERE id = ?", (new_head, finalized))
    for _, create in triggers:
        conn.execute(create)
    conn.close()
    assert new_head != old_head

    result = cli("verify", earlier, "--data-dir", data_dir)
    assert result.returncode == 1
    assert "ok   guards" in result.stdout  # put back exactly as they were
    assert (
        f"FAIL chain: the head printed in the export ({old_head}) is not the one stamped at "
        f"finalizing ({new_head})" in result.stdout
    )
    assert verdict(result) == f"NOT VERIFIED: {earlier} differs from the record (see FAIL above)"
    # A fresh export of the rewritten record is self-consistent: only the earlier head,
    # kept off the laptop, exposes it (what the README says).
    fresh = export(data_dir, finalized, "text", tmp_path)
    assert new_head in fresh.read_text(encoding="utf-8")
    assert cli("verify", fresh, "--data-dir", data_dir).returncode == 0


def test_head_rewritten_in_the_database(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    path = export(data_dir, finalized, "text", tmp_path)
    conn = raw(data_dir)
    conn.execute("DROP TRIGGER record_call_no_update")
    conn.execute("UPDATE call SET chain_head = ? WHERE id = ?", ("a" * 64, finalized))
    conn.close()
    assert cli("export", finalized, "--data-dir", data_dir).returncode == 1
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1
    assert "FAIL chain: the record has been changed since it was finalized" in result.stdout
    assert verdict(result).startswith("NOT VERIFIED: ")


def test_call_unfinalized_in_the_database(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    path = export(data_dir, finalized, "markdown", tmp_path)
    conn = raw(data_dir)
    conn.execute("DROP TRIGGER record_call_no_update")
    conn.execute("UPDATE call SET finalized_at = NULL, chain_head = NULL")
    conn.close()
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1
    assert (
        "FAIL chain: the export prints a chain head but the database has the call not finalized"
        in result.stdout
    )
    assert verdict(result) == f"NOT VERIFIED: {path} differs from the record (see FAIL above)"


def test_deleted_call(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    path = export(data_dir, finalized, "json", tmp_path)
    conn = raw(data_dir)
    conn.execute("DROP TRIGGER record_call_no_delete")
    conn.execute("DROP TRIGGER IF EXISTS record_call_keeps_its_notes")  # not in v2
    conn.execute("DELETE FROM call WHERE id = ?", (finalized,))
    conn.close()
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert f"FAIL call: call {finalized} is not in the database" in result.stdout
    assert verdict(result) == f"NOT VERIFIED: {path} differs from the record (see FAIL above)"


@pytest.mark.slow
def test_busy_database_is_not_verified(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    """Another program holds the database so that nobody can even read it."""
    path = export(data_dir, finalized, "text", tmp_path)
    holder = raw(data_dir)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("verify", path, "--data-dir", data_dir)
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert result.returncode == 1, result.stdout
    assert "ok   digest" in result.stdout
    assert "---- database: not compared: " in result.stdout and "busy" in result.stdout
    assert "VERIFIED: " not in result.stdout.replace("NOT VERIFIED: ", "")
    assert verdict(result) == (
        f"NOT VERIFIED: {path}: not every check could be made (see ---- above)"
    )


def test_missing_database_is_not_verified_unless_asked(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path)
    elsewhere = tmp_path / "empty"
    result = cli("verify", path, "--data-dir", elsewhere)
    assert result.returncode == 1
    assert (
        verdict(result) == f"NOT VERIFIED: {path}: not every check could be made (see ---- above)"
    )
    alone = cli("verify", path, "--no-database", "--data-dir", elsewhere)
    assert alone.returncode == 0
    assert verdict(alone).startswith(f"DIGEST MATCHES: {path} (the file alone, as asked;")


# -- edited exports -----------------------------------------------------------------------------


def reseal_json(text: str) -> str:
    """An editor's JSON with its digest recomputed the way docs/exports.md describes."""
    document = json.loads(text)
    document["digest"]["value"] = sha256_hex(canonical_json(document))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_duplicate_json_key_is_refused(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    """A second "text" before the real one: Python keeps the last, the digest still matches."""
    path = export(data_dir, finalized, "json", tmp_path)
    text = path.read_text(encoding="utf-8")
    forged = text.replace('"text": "Patient is 34"', '"text": "Patient is 43",\n      "text": '
                          '"Patient is 34"', 1)  # fmt: skip
    assert forged != text
    path.write_text(forged, encoding="utf-8")
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert 'FAIL digest: the key "text" appears twice in one object' in result.stdout
    assert verdict(result) == f"NOT VERIFIED: {path} differs from the record (see FAIL above)"
    alone = cli("verify", path, "--no-database", "--data-dir", data_dir)
    assert alone.returncode == 1 and verdict(alone).startswith("NOT VERIFIED: ")


def test_member_outside_the_schema_is_refused(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "json", tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["notes"][0]["amended"] = "Patient is 43"
    path.write_text(reseal_json(json.dumps(document)), encoding="utf-8")
    result = cli("verify", path, "--no-database", "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "ok   digest" in result.stdout  # recomputed by the editor
    assert 'FAIL structure: notes[0]."amended": not in the export\'s schema' in result.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_head_edited_in_the_export(
    data_dir: Path, finalized: int, tmp_path: Path, fmt: str
) -> None:
    path = export(data_dir, finalized, fmt, tmp_path)
    head = stamped_head(data_dir, finalized)
    text = path.read_text(encoding="utf-8").replace(head, "b" * 64)
    text = reseal_json(text) if fmt == "json" else seal_text(text[: text.rindex(FOOTER_PREFIX)])
    path.write_text(text, encoding="utf-8")
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "ok   digest" in result.stdout
    assert (
        f"FAIL chain: the head printed in the export ({'b' * 64}) is not the one" in result.stdout
    )
    assert verdict(result) == f"NOT VERIFIED: {path} differs from the record (see FAIL above)"


# -- no false alarms ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_note_about_the_hash_chain_head_verifies(
    data_dir: Path, tmp_path: Path, fmt: str
) -> None:
    note = (
        "Hash-chain head: reviewer asked what it is\nRECORD STATUS\n-------------\n"
        f"  Hash-chain head     {'c' * 64}\n## Record status\n- **Hash-chain head:** not finalized"
    )
    call_id = make_finalized(data_dir, note=note)
    path = export(data_dir, call_id, fmt, tmp_path)
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout
    assert f"ok   chain: head {stamped_head(data_dir, call_id)}" in result.stdout
    assert verdict(result) == f"VERIFIED: {path}"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_followup_marked_done_after_export_still_verifies(
    data_dir: Path, finalized: int, tmp_path: Path, fmt: str
) -> None:
    path = export(data_dir, finalized, fmt, tmp_path)
    store = open_store(data_dir)
    try:
        followup = store.followups_for(finalized)[0]
        with time_machine.travel(now_utc() + timedelta(seconds=3), tick=True):
            store.mark_followup_done(followup.id)
    finally:
        store.close()
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout
    assert "follow-up status changed since (work tracking, not compared)" in result.stdout
    assert verdict(result) == f"VERIFIED: {path}"


def test_followup_action_edited_in_the_export_is_still_caught(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path)
    text = path.read_text(encoding="utf-8")
    edited = text.replace("Formal written internal appeal - Planned", "Nothing to do - Planned")
    assert edited != text
    path.write_text(seal_text(edited[: edited.rindex(FOOTER_PREFIX)]), encoding="utf-8")
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "FAIL database: line" in result.stdout and "Nothing to do" in result.stdout


# -- the app says the same ----------------------------------------------------------------------


async def test_call_detail_and_export_dialog_say_the_record_changed(
    data_dir: Path, finalized: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from p2pcall.app import P2PCallApp
    from p2pcall.screens.detail import DetailScreen
    from p2pcall.screens.export import ExportScreen
    from p2pcall.screens.history import HistoryScreen
    from pilot_helpers import open_app, wait_until

    monkeypatch.setenv("HOME", str(tmp_path))  # where the export dialog suggests its file
    head = stamped_head(data_dir, finalized)
    edit_a_note_past_a_dropped_trigger(data_dir)
    async with P2PCallApp(data_dir).run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
        history = pilot.app.screen
        await wait_until(pilot, lambda: history.rows and not history.fetching)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        detail = pilot.app.screen
        await wait_until(pilot, lambda: detail.detail is not None)
        await pilot.pause()
        text = "\n".join(str(block.render()) for block in detail.query(".detail-block"))
        assert "CHANGED SINCE IT WAS FINALIZED" in text
        assert "edited outside p2pcall" in text and "exports of it are refused" in text
        assert f"{head} (no longer matches)" in text
        assert "Chain head" not in text  # the stamped head is never shown as the record's
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
        dialog = pilot.app.screen
        await pilot.press("ctrl+s")
        status = dialog.query_one("#export-status")
        await wait_until(pilot, lambda: "changed since it was finalized" in str(status.render()))
        assert isinstance(pilot.app.screen, ExportScreen)  # stays open, nothing written
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("p2pcall-")) == []


def test_reencoded_json_names_the_line(data_dir: Path, finalized: int, tmp_path: Path) -> None:
    """The same value written with an escape: the digest (canonical) matches, the bytes not."""
    path = export(data_dir, finalized, "json", tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"Patient is 34"', '"\\u0050atient is 34"', 1), encoding="utf-8")
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "ok   digest" in result.stdout
    assert "FAIL database: same values, but not byte for byte the file p2pcall wrote" in (
        result.stdout
    )
    assert "\\\\u0050atient is 34" in result.stdout  # the line, quoted as it is


def test_an_edit_is_named_even_after_a_followup_was_marked_done(
    data_dir: Path, finalized: int, tmp_path: Path
) -> None:
    path = export(data_dir, finalized, "text", tmp_path)
    store = open_store(data_dir)
    try:
        with time_machine.travel(now_utc() + timedelta(seconds=3), tick=True):
            store.mark_followup_done(store.followups_for(finalized)[0].id)
    finally:
        store.close()
    text = path.read_text(encoding="utf-8").replace("Patient is 34", "Patient is 43")
    path.write_text(seal_text(text[: text.rindex(FOOTER_PREFIX)]), encoding="utf-8")
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout
    assert "FAIL database: line" in result.stdout
    assert "'      Patient is 43', the database gives '      Patient is 34'" in result.stdout


@pytest.mark.parametrize(
    "edit",
    ["UPDATE note SET saved_at = 'yesterday' WHERE id = 1", "UPDATE note SET section = 'Z'"],
    ids=["time that is no time", "unknown section"],
)
def test_values_p2pcall_never_writes_are_one_line_not_a_crash(
    data_dir: Path, finalized: int, tmp_path: Path, edit: str
) -> None:
    path = export(data_dir, finalized, "text", tmp_path)
    conn = raw(data_dir)
    conn.execute("DROP TRIGGER record_note_no_update")
    conn.execute(edit)
    conn.close()
    result = cli("export", finalized, "--data-dir", data_dir)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"p2pcall: Call {finalized}: the record cannot be read back (a stored time or value is "
        "not one p2pcall writes: the database was edited outside p2pcall), so it is not "
        "exported or shown.\n"
    )
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL call: the record of call {finalized} cannot be read back" in result.stdout
    assert verdict(result) == f"NOT VERIFIED: {path} differs from the record (see FAIL above)"


def test_json_nested_without_end_is_not_an_export_not_a_crash(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"schema_version": 1, "call": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = cli("verify", path, "--data-dir", data_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        verdict(result)
        == f"NOT VERIFIED: {path} is not a p2pcall export (no export header or digest)."
    )
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
