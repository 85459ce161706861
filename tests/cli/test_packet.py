"""`p2pcall packet` and `p2pcall verify` of a packet, against the hand-counted dozen calls of
test_stats.py (its docstring is the table), with calls 1-4 and 6-11 finalized: call 5
(pending, ended) and call 12 (never ended) are not, so they are left out.

Packed (all): 1 2 3 4 6 7 8 9 10 11, counted by hand from the table:
  outcomes   approved 1 6 9 = 3; partly 3 = 1; denied 2 4 7 8 11 = 5; pending 0;
             educational 10 = 1; none 0
  overturned after a denial (1 2 3 7 8 9 11 = 7): approved or partly 1 3 9 = 3 of 7
  same specialty noted yes/no (1 2 3 4 6 7 8 9 = 8): yes 3 6 9 = 3 of 8
  declined to identify 4 7 10 = 3 of 10
  criteria   mcg 1 2 4 8 9 = 5, interqual 3 6 = 2, insurer_policy 7 = 1
  promises settled 1 2 4 8 11 = 5, kept 1 8 = 2 of 5
  decision days 4, 10, 6 = 6.7 of 3; documents days 3, 4, 1 = 2.7 of 3
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Database
from p2pcall.store.opening import open_store
from test_stats import build

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

PACKED = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
PATIENT = "JD-4471 Jane Doe"
DIAGNOSIS = "M54.16 lumbar radiculopathy"
DB = "p2pcall.sqlite3"
SCHEMA = Path(__file__).parents[2] / "src/p2pcall/domain/export/record.schema.json"


def make(data_dir: Path) -> dict[str, int]:
    reviewers = build(data_dir)
    store = open_store(data_dir)
    try:
        store.set_field(1, "patient_ref", PATIENT)
        store.set_field(1, "diagnosis", DIAGNOSIS)
        for call_id in PACKED:
            store.finalize_call(call_id)
    finally:
        store.close()
    return reviewers


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    data = tmp_path_factory.mktemp("packet") / "data"
    return data, make(data)


@pytest.fixture
def data(template: tuple[Path, dict[str, int]], tmp_path: Path, database: Database) -> Path:
    """The calls of `make`: a copy of the template's file, or made afresh on the test's own
    server database (the same numbers: a fresh database numbers from 1, as the file did)."""
    import shutil

    if database.server:
        assert make(tmp_path / "data") == template[1]
        return tmp_path / "data"
    source, _ids = template
    copy = tmp_path / "data"
    shutil.copytree(source, copy)
    return copy


def cli(data: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": "America/New_York"}
    env.pop("P2PCALL_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "p2pcall", "--data-dir", str(data), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def packet(data: Path, out: Path, *args: str) -> Path:
    proc = cli(data, "packet", *args, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return out


def json_packet(data: Path, tmp_path: Path, *args: str) -> dict:
    path = packet(data, tmp_path / "packet.json", "--format", "json", *args)
    return json.loads(path.read_text(encoding="utf-8"))


def rate(found: dict, count: int, of: int) -> None:
    assert (found["count"], found["of"]) == (count, of)
    assert found["rate"] == (None if of == 0 else round(count / of, 4))


def stamped_heads(data: Path) -> dict[int, str]:
    store = open_store(data)
    try:
        with store.reading() as db:
            found = db.execute("SELECT id, chain_head FROM call WHERE chain_head IS NOT NULL")
            return {row[0]: row[1] for row in found.fetchall()}
    finally:
        store.close()


# -- contents ------------------------------------------------------------------------------


def test_json_packet_summary_list_and_records_counted_by_hand(data: Path, tmp_path: Path) -> None:
    doc = json_packet(data, tmp_path)
    summary = doc["summary"]
    assert summary["calls"] == 10
    for key, count in {"approved": 3, "partially_approved": 1, "denied": 5, "pending": 0,
                       "educational_only": 1, "none": 0}.items():  # fmt: skip
        rate(summary["outcomes"][key], count, 10)
    rate(summary["overturned_on_call"], 3, 7)
    rate(summary["same_specialty"], 3, 8)
    rate(summary["declined_to_identify"], 3, 10)
    rate(summary["promises_kept"], 2, 5)
    assert summary["criteria_cited"] == {"mcg": 5, "interqual": 2, "insurer_policy": 1}
    assert summary["days_to_written_decision"] == {"days": 6.7, "of": 3}
    assert summary["days_to_documents_received"] == {"days": 2.7, "of": 3}
    assert doc["packet"]["left_out"]["not_finalized"] == 2  # calls 5 and 12

    heads = stamped_heads(data)
    assert [c["call_id"] for c in doc["calls"]] == PACKED
    assert [r["call"]["id"] for r in doc["records"]] == PACKED
    for entry, record in zip(doc["calls"], doc["records"], strict=True):
        assert entry["chain_head"] == heads[entry["call_id"]] == record["call"]["chain_head"]
        # The export's digest, recomputed here by its published canonical form.
        rest = {k: v for k, v in record.items() if k != "digest"}
        canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
        assert entry["export_digest"] == record["digest"]["value"] == digest


def test_each_record_is_what_export_writes(data: Path, tmp_path: Path) -> None:
    """The packed record is `p2pcall export`'s, line for line, but for the lines that carry
    the generation time (the packet's own) and the digest over them."""
    text = packet(data, tmp_path / "p.txt", "--format", "text").read_text(encoding="utf-8")
    start = "=== Record 3 of 10: call 3 ===\n"
    packed = text[text.index(start) + len(start) : text.index("=== End of record 3 of 10")]
    exported = cli(data, "export", "3").stdout

    def timeless(export: str) -> list[str]:
        lines = export.splitlines()
        assert lines[1].startswith("p2pcall-export: version=1 format=text call=3 ")
        assert lines[-1].startswith("SHA-256 of everything above this line: ")
        return [line for line in lines[2:-1] if not line.startswith("Generated ")]

    assert timeless(packed) == timeless(exported)
    assert len(packed.splitlines()) == len(exported.splitlines()) > 60


@pytest.mark.parametrize(
    ("args", "calls", "left_out"),
    [
        (["--insurer", "acme"], [1, 2, 3, 4, 6, 7], 1),
        (["--vendor", "EVICORE"], [1, 2, 3, 4, 7], 1),  # call 7: employer given, not linked
        (["--reviewer", "ann"], [1, 2, 3, 4], 1),
        (["--not-same-specialty"], [1, 2, 4, 7, 8], 0),
        (["--declined-to-identify"], [4, 7, 10], 0),
        (["--outcome", "denied"], [2, 4, 7, 8, 11], 0),
        (["--insurer", "beta", "--outcome", "Denied"], [8, 11], 0),
        (["--vendor", "carelon", "--not-same-specialty"], [8], 0),
        (["--until", "2000-01-01"], [], 0),
    ],
)
def test_filters(
    data: Path, tmp_path: Path, args: list[str], calls: list[int], left_out: int
) -> None:
    doc = json_packet(data, tmp_path, *args)
    assert [c["call_id"] for c in doc["calls"]] == calls
    assert doc["summary"]["calls"] == len(calls)
    assert doc["packet"]["left_out"]["not_finalized"] == left_out


def test_reviewer_by_number_counts_a_merged_entry(
    template: tuple[Path, dict[str, int]], data: Path, tmp_path: Path
) -> None:
    _source, ids = template
    doc = json_packet(data, tmp_path, "--reviewer", str(ids["bob"]))
    assert [c["call_id"] for c in doc["calls"]] == [6, 8, 9, 10]
    store = open_store(data)
    try:
        store.merge_reviewers(ids["ann"], ids["bob"])  # Ann merged into Bob
    finally:
        store.close()
    doc = json_packet(data, tmp_path, "--reviewer", str(ids["ann"]), "--force")
    assert [c["call_id"] for c in doc["calls"]] == [1, 2, 3, 4, 6, 8, 9, 10]


def test_every_format_parses_and_says_what_was_left_out(data: Path, tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator
    from markdown_it import MarkdownIt

    doc = json_packet(data, tmp_path)
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    for record in doc["records"]:
        validator.validate(record)  # each record is a schema-valid export
    text = packet(data, tmp_path / "p.txt").read_text(encoding="utf-8")
    assert "2 calls that matched the filter, not finalized" in text
    assert text.splitlines()[1].endswith("calls=10")
    md = packet(data, tmp_path / "p.md", "--format", "md").read_text(encoding="utf-8")
    tokens = MarkdownIt().parse(md)
    headings = [t.content for t in tokens if t.type == "inline" and t.map and t.map[0] < 40]
    assert "Evidence packet" in headings and "Summary" in headings
    assert md.count("\n# Call record: call ") == 10

    import pypdf

    path = packet(data, tmp_path / "p.pdf", "--format", "pdf")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reader = pypdf.PdfReader(path)
    words = "".join(page.extract_text() for page in reader.pages)
    assert "EVIDENCE PACKET" in words and "Call record" not in str(reader.metadata)
    for call_id, head in stamped_heads(data).items():
        assert f"Record {PACKED.index(call_id) + 1} of 10: call {call_id}" in words
        assert head in words.replace("\n", "")
    assert PATIENT in words
    refused = cli(data, "verify", path)  # for reading: said so, never "verified"
    assert refused.returncode == 2 and "a PDF is for reading" in refused.stderr


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "pdf"])
def test_redaction_as_exports_do_it(data: Path, tmp_path: Path, fmt: str) -> None:
    path = packet(data, tmp_path / f"r.{fmt}", "--format", fmt, "--redact")
    if fmt == "pdf":
        import pypdf

        content = "".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    else:
        content = path.read_text(encoding="utf-8")
    flat = content.replace("\n", " ")
    assert "JD-4471" not in flat and "radiculopathy" not in flat
    assert ("\\[redacted\\]" if fmt == "markdown" else "[redacted]") in flat
    plain = packet(data, tmp_path / f"p.{fmt}", "--format", fmt)
    if fmt != "pdf":
        assert "JD-4471" in plain.read_text(encoding="utf-8")


# -- files and refusals ----------------------------------------------------------------------


@pytest.mark.sqlite_only  # the records' folder and an empty one: the local file's
def test_files_like_exports(data: Path, tmp_path: Path) -> None:
    out = packet(data, tmp_path / "p.json", "--format", "json")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = cli(data, "packet", "--format", "json", "-o", out)
    assert again.returncode == 1 and "already exists" in again.stderr
    inside = cli(data, "packet", "-o", data / "p.txt")
    assert inside.returncode == 1 and "holds your records" in inside.stderr
    pdf = cli(data, "packet", "--format", "pdf")
    assert pdf.returncode == 2 and "-o FILE" in pdf.stderr
    bad = cli(data, "packet", "--format", "docx")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    bad = cli(data, "packet", "--since", "yesterday")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    nothing = cli(tmp_path / "empty", "packet")
    assert nothing.returncode == 1 and "no records" in nothing.stderr
    assert not (tmp_path / "empty").exists()
    stdout = cli(data, "packet", "--format", "json")
    assert stdout.returncode == 0 and json.loads(stdout.stdout)["summary"]["calls"] == 10


@pytest.mark.sqlite_only
def test_a_tampered_record_stops_the_packet(data: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(data / DB, isolation_level=None)
    conn.execute("DROP TRIGGER record_field_no_update")
    conn.execute(
        "UPDATE call_field SET value = 'Acme Mutual' WHERE call_id = 4 AND key = 'insurer'"
    )
    conn.close()
    out = tmp_path / "p.txt"
    proc = cli(data, "packet", "-o", out)
    assert proc.returncode == 1, proc.stderr
    assert "Call 4:" in proc.stderr and "changed since it was finalized" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and not out.exists()
    # A filter that leaves call 4 out still makes its packet.
    assert cli(data, "packet", "--insurer", "beta", "-o", out).returncode == 0


# -- verify ------------------------------------------------------------------------------------


def verify(data: Path, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli(data, "verify", path, *extra)


def reseal_text(text: str) -> str:
    """What a forger does: recompute the packet's own last digest line after an edit."""
    prefix = "SHA-256 of everything above this line: "
    body = text[: text.rindex(prefix)]
    return body + prefix + hashlib.sha256(body.encode("utf-8")).hexdigest() + "\n"


def reseal_json(doc: dict) -> str:
    rest = {k: v for k, v in doc.items() if k != "digest"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    doc["digest"]["value"] = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_fresh_packet_is_verified(data: Path, tmp_path: Path, fmt: str) -> None:
    path = packet(data, tmp_path / f"p.{fmt}", "--format", fmt)
    proc = verify(data, path)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.splitlines()[-1] == f"VERIFIED: {path}"
    lines = proc.stdout.splitlines()[:-1]
    assert all(line.startswith("ok   ") for line in lines)
    for call_id in PACKED:  # record by record
        for what in ("digest", "stated", "chain", "database"):
            assert any(line.startswith(f"ok   call {call_id} {what}:") for line in lines)
    assert any(line.startswith("ok   summary:") for line in lines)
    assert any(line.startswith("ok   selection:") for line in lines)


def failed(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("NOT VERIFIED")
    return [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_packets_fail_when_a_record_a_digest_or_the_summary_is_edited(
    data: Path, tmp_path: Path, fmt: str
) -> None:
    path = packet(data, tmp_path / f"p.{fmt}", "--format", fmt)
    original = path.read_text(encoding="utf-8")
    edited = tmp_path / f"e.{fmt}"

    # One record's text, the packet's digest left as it was.
    marker = "Denied / upheld"
    start = original.index("call 4 ===" if fmt == "text" else "record 4 of 10: call 4 -->")
    at = original.index(marker, start)
    changed = original[:at] + "Approved" + original[at + len(marker) :]
    edited.write_text(changed, encoding="utf-8")
    fails = failed(verify(data, edited))
    assert any(line.startswith("FAIL digest:") for line in fails)
    assert any(line.startswith("FAIL call 4 digest:") for line in fails)
    # ... and resealed by a forger: the database still says otherwise.
    edited.write_text(reseal_text(changed), encoding="utf-8")
    fails = failed(verify(data, edited))
    assert any(line.startswith("FAIL call 4 database:") for line in fails)

    # One stated digest in the list of calls, resealed.
    digest = re.search(r"Export digest:? +`?([0-9a-f]{64})", original)[1]
    forged = original.replace(digest, "0" * 64, 1)
    edited.write_text(reseal_text(forged), encoding="utf-8")
    fails = failed(verify(data, edited))
    assert [line.split(":")[0] for line in fails] == ["FAIL call 1 stated"]

    # One summary count, resealed.
    label = "  Denied / upheld" if fmt == "text" else "- **Denied / upheld:**"
    row = next(line for line in original.splitlines() if line.startswith(label))
    forged = original.replace(row, row.replace("5 of 10 (50%)", "4 of 10 (40%)"), 1)
    assert forged != original
    edited.write_text(reseal_text(forged), encoding="utf-8")
    fails = failed(verify(data, edited))
    assert [line.split(":")[0] for line in fails] == ["FAIL summary"]


def test_json_packet_fails_when_a_record_a_digest_or_the_summary_is_edited(
    data: Path, tmp_path: Path
) -> None:
    path = packet(data, tmp_path / "p.json", "--format", "json")
    original = json.loads(path.read_text(encoding="utf-8"))
    edited = tmp_path / "e.json"

    doc = json.loads(json.dumps(original))
    field = next(f for f in doc["records"][1]["fields"] if f["key"] == "insurer")
    field["value"] = field["display"] = "Someone Else"
    edited.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    fails = failed(verify(data, edited))
    assert any(line.startswith("FAIL digest:") for line in fails)
    assert any(line.startswith("FAIL call 2 digest:") for line in fails)
    edited.write_text(reseal_json(doc), encoding="utf-8")
    fails = failed(verify(data, edited))
    assert any(line.startswith("FAIL call 2 database:") for line in fails)

    doc = json.loads(json.dumps(original))
    doc["calls"][2]["export_digest"] = "f" * 64
    edited.write_text(reseal_json(doc), encoding="utf-8")
    fails = failed(verify(data, edited))
    assert [line.split(":")[0] for line in fails] == ["FAIL call 3 stated"]

    doc = json.loads(json.dumps(original))
    doc["summary"]["declined_to_identify"] = {"count": 2, "of": 10, "rate": 0.2}
    edited.write_text(reseal_json(doc), encoding="utf-8")
    fails = failed(verify(data, edited))
    # Against the records in the packet, and against the database.
    assert [line.split(":")[0] for line in fails] == ["FAIL summary", "FAIL summary"]
    assert "declined_to_identify is 2 of 10, the records give 3 of 10" in fails[0]

    doc = json.loads(json.dumps(original))
    del doc["records"][4]  # a record dropped, list and summary left
    edited.write_text(reseal_json(doc), encoding="utf-8")
    fails = failed(verify(data, edited))
    assert any(line.startswith("FAIL structure:") for line in fails)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_packet_that_leaves_out_calls_its_filter_selects_fails(
    data: Path, tmp_path: Path, fmt: str
) -> None:
    """Cherry-picking: a narrower packet presented as a wider one (its filter line or member
    swapped, the packet resealed). Records, list and summary agree with each other and with
    the database; only the selection gives it away."""
    wide = packet(data, tmp_path / f"wide.{fmt}", "--format", fmt, "--insurer", "acme")
    narrow = packet(
        data, tmp_path / f"narrow.{fmt}", "--format", fmt, "--insurer", "acme",
        "--not-same-specialty",
    )  # fmt: skip
    forged = tmp_path / f"forged.{fmt}"
    if fmt == "json":
        doc = json.loads(narrow.read_text(encoding="utf-8"))
        doc["packet"]["filter"] = json.loads(wide.read_text(encoding="utf-8"))["packet"]["filter"]
        forged.write_text(reseal_json(doc), encoding="utf-8")
    else:
        at = 2 if fmt == "text" else 4
        wide_line = wide.read_text(encoding="utf-8").split("\n")[at]
        lines = narrow.read_text(encoding="utf-8").split("\n")
        assert 'not_same_specialty": true' in lines[at]
        lines[at] = wide_line
        forged.write_text(reseal_text("\n".join(lines)), encoding="utf-8")
    fails = failed(verify(data, forged))
    assert len(fails) == 1 and fails[0].startswith("FAIL selection:"), fails
    assert "left out of the packet: [3, 6]" in fails[0]  # Acme, same specialty yes


@pytest.mark.sqlite_only
def test_not_verified_without_the_database(data: Path, tmp_path: Path) -> None:
    path = packet(data, tmp_path / "p.json", "--format", "json")
    proc = verify(tmp_path / "elsewhere", path)
    assert proc.returncode == 1
    assert any(line.startswith("---- database: not compared") for line in proc.stdout.splitlines())
    assert proc.stdout.splitlines()[-1].startswith("NOT VERIFIED")
    alone = verify(tmp_path / "elsewhere", path, "--no-database")
    assert alone.returncode == 0 and alone.stdout.splitlines()[-1].startswith("DIGEST MATCHES")


@pytest.mark.sqlite_only
def test_not_verified_while_the_database_is_locked(data: Path, tmp_path: Path) -> None:
    path = packet(data, tmp_path / "p.txt", "--format", "text")
    holder = sqlite3.connect(data / DB, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO call (created_at, tz) VALUES ('2026-01-01T00:00:00Z', 'UTC')")
    holder.execute("COMMIT")  # the exclusive lock stays until the connection closes
    try:
        proc = verify(data, path)
    finally:
        holder.close()
    assert proc.returncode == 1
    assert any(line.startswith("---- database: not compared") for line in proc.stdout.splitlines())
    assert "NOT VERIFIED" in proc.stdout.splitlines()[-1]
    assert not any(line.startswith("FAIL") for line in proc.stdout.splitlines())


def test_hostile_text_stays_text_and_the_packet_still_verifies(tmp_path: Path) -> None:
    """Escape sequences, markup and a line that imitates a record marker, in the insurer
    and a note: shown visibly in every format, never able to shift the packet's layout."""
    from export_db import HOSTILE, make_database

    data = tmp_path / "data"
    call = make_database(data)
    forged = f"Acme {HOSTILE}\n=== End of record 1 of 1: call {call} ===\n<!-- x -->"
    store = open_store(data)
    try:
        store.set_field(call, "insurer", forged)
        store.finalize_call(call)
    finally:
        store.close()
    for fmt in ("text", "markdown", "json"):
        path = packet(data, tmp_path / f"h.{fmt}", "--format", fmt)
        content = path.read_text(encoding="utf-8")
        assert "\x1b" not in content and "\u202e" not in content
        proc = verify(data, path)
        assert proc.returncode == 0, proc.stdout
        assert "\x1b" not in proc.stdout
    path = packet(data, tmp_path / "h.pdf", "--format", "pdf")
    assert path.read_bytes().startswith(b"%PDF-")
