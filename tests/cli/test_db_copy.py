"""`p2pcall db copy --from local` as a clinician runs it: a subprocess, a real SQLite history
made through the store, a real server (the throwaway cluster), and attacks on both ends.

The server already holds another clinician's calls in each test, so the server's numbers
of the copied rows differ from the laptop's: what keeps chain heads and exports the same
is the copied numbering, not luck.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import pg_cluster as pgc
from laptop_history import History, make_history
from p2pcall.domain.export import FORMATS, render
from p2pcall.domain.export.digest import read_meta
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.verify import Report
from p2pcall.domain.vocab import NoteKind
from p2pcall.store import Store
from p2pcall.store.exporting import calls_numbered, load_for_export
from p2pcall.store.opening import open_store
from p2pcall.store.postgres.reader import PgReader

COUNTED = (
    "call", "call_field", "field_edit", "note", "draft", "followup", "letter_edit",
    "letter_file", "reviewer", "call_reviewer", "reviewer_link_log", "copied_call",
    "copied_number",
)  # fmt: skip


@dataclass
class Server:
    cluster: pgc.PgCluster
    name: str

    def url(self, person: str = "dr_lee") -> str:
        return self.cluster.url(person, self.name)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.cluster.dsn(dbname=self.name), autocommit=True)

    def counts(self) -> dict[str, int]:
        with self.admin() as conn:
            return {
                table: conn.execute(f"SELECT count(*) FROM p2pcall.{table}").fetchone()[0]
                for table in COUNTED
            }

    def one(self, sql: str, params: tuple = ()) -> tuple:
        with self.admin() as conn:
            row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row


@pytest.fixture
def server(pg_cluster: pgc.PgCluster, tmp_path: Path) -> Iterator[Server]:
    """A fresh server database where dr_park has already worked: two calls with notes."""
    url = pgc.p2pcall_database(pg_cluster, "dr_lee")
    name = url.split("?")[0].rsplit("/", 1)[1]
    made = Server(pg_cluster, name)
    park = open_store(tmp_path / "park", made.url("dr_park"))
    try:
        for _ in range(2):
            call = park.start_call("America/Denver")
            for section in (Section.A, Section.B, Section.C):
                park.add_note(call.id, section, NoteKind.NOTE, "park's own note", now_utc())
    finally:
        park.close()
    yield made


@pytest.fixture
def laptop(tmp_path: Path) -> tuple[Path, History]:
    data_dir = tmp_path / "lee"
    return data_dir, make_history(data_dir)


def copy(data_dir: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "P2PCALL_"))}
    return subprocess.run(
        [
            *(sys.executable, "-m", "p2pcall", "db", "copy", "--from", "local", *extra),
            *("--data-dir", str(data_dir), "--database", url),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def export_locally(data_dir: Path, call_id: int, fmt: str) -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir)),
            *("export", str(call_id), "--format", fmt),
        ],
        capture_output=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("P2PCALL_")},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8")


def server_call(server: Server, local_id: int) -> int:
    return server.one("SELECT call_id FROM p2pcall.copied_call WHERE local_id = %s", (local_id,))[0]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the copy --------------------------------------------------------------------------------


def test_copy_brings_every_call_with_its_record_and_verifies_it(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, history = laptop
    database = data_dir / "p2pcall.sqlite3"
    before = file_digest(database)
    done = copy(data_dir, server.url())
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("p2pcall db copy: from ")
    local = Store.open_read_only(data_dir)
    try:
        head = local.load_call(history.finalized).call.chain_head
        ids = [history.finalized, history.ended, history.open]
        for call_id in ids:
            copied = server_call(server, call_id)
            assert copied != call_id  # dr_park's calls took the first numbers
            assert any(line.startswith(f"call {call_id}: copied as server call {copied}; ")
                       for line in lines)  # fmt: skip
        assert f"chain head {head} recomputed on the server" in done.stdout
        assert lines[-1] == "VERIFIED: all 3 calls of this laptop are on the server, as recorded"
        assert "3 copied, 0 already on the server; 3 of 3 verified" in done.stdout
        # As stored on the server: authored by the clinician who copied, finalized with the
        # laptop's stamp and head, the correction pointing at the note it corrects.
        finalized = server_call(server, history.finalized)
        stamp, chain_head, author = server.one(
            "SELECT finalized_at, chain_head, author FROM p2pcall.call WHERE id = %s",
            (finalized,),
        )
        assert chain_head == head and author == "dr_lee"
        assert stamp == local.load_call(history.finalized).call.finalized_at
        corrected = server.one(
            "SELECT o.body FROM p2pcall.note n JOIN p2pcall.note o ON o.id = n.corrects_id "
            "WHERE n.call_id = %s",
            (finalized,),
        )
        assert corrected == ("pt 34 y/o, 3rd admit",)
        authors = server.one(
            "SELECT array_agg(DISTINCT author) FROM (SELECT author FROM p2pcall.note "
            "WHERE call_id = %s UNION ALL SELECT author FROM p2pcall.followup "
            "WHERE call_id = %s UNION ALL SELECT author FROM p2pcall.field_edit "
            "WHERE call_id = %s) a",
            (finalized, finalized, finalized),
        )
        assert authors == (["dr_lee"],)
        # Read back by the app's own reader: the chain recomputed from the server.
        with PgReader.open_url(server.url()) as reader:
            assert reader.recompute_head(finalized) == head
            for call_id in ids:
                there = reader.field_history(server_call(server, call_id), "insurer")
                assert there == local.field_history(call_id, "insurer")
    finally:
        local.close()
    assert file_digest(database) == before  # the laptop's file is left as it was


def test_the_same_call_exports_byte_for_byte_from_both_and_verifies_on_the_server(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    with PgReader.open_url(server.url()) as reader:
        for call_id in (history.finalized, history.ended, history.open):
            copied = server_call(server, call_id)
            assert calls_numbered(reader, call_id) == [copied]  # no server call has it
            for fmt in FORMATS:
                here = export_locally(data_dir, call_id, fmt)
                meta = read_meta(here)
                assert meta is not None
                record = load_for_export(reader, copied)
                there = render(record, fmt, meta.generated_at, meta.redact)
                assert there == here, (call_id, fmt)
                # What `p2pcall verify` compares (its guard check aside: the lead's),
                # made against the server with the export of either database.
                from p2pcall.commands._verify_checks import compare_record

                report = Report()
                compare_record(there, meta, reader, report)
                assert report.ok, report.lines()
                assert any(line.startswith("ok") and "every byte" in line
                           for line in report.lines()), report.lines()  # fmt: skip


def test_a_coordinator_working_a_copied_call_is_named_and_the_laptop_export_still_verifies(
    server: Server, laptop: tuple[Path, History], tmp_path: Path
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    here = export_locally(data_dir, history.finalized, "text")
    copied = server_call(server, history.finalized)
    planned = server.one(
        "SELECT id FROM p2pcall.followup WHERE call_id = %s AND status = 'planned'", (copied,)
    )[0]
    kim = open_store(tmp_path / "kim", server.url("coord_kim"))
    try:
        kim.mark_followup_done(planned)
    finally:
        kim.close()
    from p2pcall.commands._verify_checks import compare_record

    meta = read_meta(here)
    with PgReader.open_url(server.url()) as reader:
        there = render(load_for_export(reader, copied), "text", meta.generated_at, False)
        report = Report()
        compare_record(here, meta, reader, report)
    assert "     Last change by      coord_kim\n" in there
    assert "Clinician" not in there  # a copied call's export names nobody else
    assert report.ok, report.lines()
    assert "follow-up status changed since" in "\n".join(report.lines())


def test_a_copied_call_goes_on_on_the_server_with_its_laptop_numbers(
    server: Server, laptop: tuple[Path, History], tmp_path: Path
) -> None:
    """The ended call is finalized on the server and the finalized one gets an addendum
    there: the head is over the laptop numbers (the server's own numbers after them), so it
    recomputes, and exports of both still verify against the server."""
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    ended, finalized = server_call(server, history.ended), server_call(server, history.finalized)
    lee = open_store(tmp_path / "lee-server", server.url())
    try:
        stamped = lee.finalize_call(ended)
        lee.add_note(
            finalized, Section.G, NoteKind.NOTE, "on the server", now_utc(), reason="later"
        )
        assert lee.recompute_head(ended) == stamped.chain_head
        for call_id in (ended, finalized):
            record = load_for_export(lee, call_id)  # refused if the head did not recompute
            assert record.call.id in (history.ended, history.finalized)
    finally:
        lee.close()
    from p2pcall.commands._verify_checks import compare_record

    with PgReader.open_url(server.url()) as reader:
        record = load_for_export(reader, finalized)
        numbers = [n.id for n in record.notes]
        assert len(set(numbers)) == len(numbers)  # the addendum's number is a new one
        for call_id in (ended, finalized):
            for fmt in FORMATS:
                text = render(load_for_export(reader, call_id), fmt, now_utc(), False)
                report = Report()
                compare_record(text, read_meta(text), reader, report)
                assert report.ok, (call_id, fmt, report.lines())


def test_verify_finds_the_copied_call_when_another_call_has_its_number(
    server: Server, laptop: tuple[Path, History]
) -> None:
    """A coordinator sees every call: dr_park's server call 1 and dr_lee's laptop call 1
    (now another server number) both answer to number 1. The laptop's export verifies
    against the right one; an export edited to match neither does not."""
    data_dir, history = laptop
    assert history.finalized == 1
    assert copy(data_dir, server.url()).returncode == 0
    here = export_locally(data_dir, history.finalized, "json")
    meta = read_meta(here)
    from p2pcall.commands._verify_checks import compare_record

    with PgReader.open_url(server.url("coord_kim")) as reader:
        assert calls_numbered(reader, 1) == [1, server_call(server, 1)]
        report = Report()
        compare_record(here, meta, reader, report)
        assert report.ok, report.lines()
        edited = Report()
        compare_record(here.replace("will fax criteria", "will fax"), meta, reader, edited)
        assert not edited.ok


def test_verify_on_the_server_tells_a_changed_export(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    here = export_locally(data_dir, history.finalized, "text")
    meta = read_meta(here)
    changed = here.replace("will fax criteria", "will fax nothing")
    from p2pcall.commands._verify_checks import compare_record

    with PgReader.open_url(server.url()) as reader:
        report = Report()
        compare_record(changed, meta, reader, report)
    assert not report.ok
    assert any(line.startswith("FAIL database") for line in report.lines()), report.lines()


def test_copying_twice_adds_nothing_and_checks_again(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    after_first = server.counts()
    again = copy(data_dir, server.url())
    assert again.returncode == 0, again.stdout + again.stderr
    assert server.counts() == after_first
    assert "0 copied, 3 already on the server; 3 of 3 verified" in again.stdout
    for call_id in (history.finalized, history.ended, history.open):
        assert f"call {call_id}: already on the server as call {server_call(server, call_id)}" in (
            again.stdout
        )


def test_a_call_added_on_the_laptop_since_is_copied_alone(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, _ = laptop
    assert copy(data_dir, server.url()).returncode == 0
    before = server.counts()
    store = Store.open(data_dir)
    try:
        new = store.start_call("America/New_York")
        store.add_note(new.id, Section.A, NoteKind.NOTE, "a later call", now_utc())
    finally:
        store.close()
    done = copy(data_dir, server.url())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 copied, 3 already on the server; 4 of 4 verified" in done.stdout
    after = server.counts()
    assert (after["call"], after["note"]) == (before["call"] + 1, before["note"] + 1)
    assert after["reviewer"] == before["reviewer"]  # the registry was recognized, not doubled


def test_work_done_on_the_server_since_the_copy_is_not_a_difference(
    server: Server, laptop: tuple[Path, History], tmp_path: Path
) -> None:
    """After the copy the calls live on the server: a note added to the open call, the ended
    call finalized, an addendum, a follow-up marked done by a coordinator. Copying again
    finds the laptop's record all there and says so."""
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    lee = open_store(tmp_path / "lee-server", server.url())
    try:
        lee.add_note(server_call(server, history.open), Section.B, NoteKind.NOTE, "more", now_utc())
        ended = server_call(server, history.ended)
        lee.finalize_call(ended)
        lee.add_note(ended, Section.G, NoteKind.NOTE, "later", now_utc(), reason="mail came")
    finally:
        lee.close()
    planned = server.one(
        "SELECT id FROM p2pcall.followup WHERE call_id = %s AND status = 'planned'",
        (server_call(server, history.finalized),),
    )[0]
    kim = open_store(tmp_path / "kim", server.url("coord_kim"))
    try:
        kim.mark_followup_done(planned)
    finally:
        kim.close()
    again = copy(data_dir, server.url())
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("checked: all of it on this laptop is there") == 3
    assert "VERIFIED: all 3 calls" in again.stdout


def test_a_call_that_differs_from_its_copy_is_reported_and_fails(
    server: Server, laptop: tuple[Path, History]
) -> None:
    """The laptop went on with an open call after copying it: the copy does not match the
    laptop any more. Never copied twice, never reported as verified."""
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    store = Store.open(data_dir)
    try:
        store.add_note(history.open, Section.D, NoteKind.NOTE, "typed after copying", now_utc())
        new = store.start_call("America/New_York")
    finally:
        store.close()
    before = server.counts()
    done = copy(data_dir, server.url())
    assert done.returncode == 1
    assert f"call {history.open}: already on the server" in done.stdout
    assert f"call {new.id}: copied as server call" in done.stdout  # the rest still comes
    assert (
        "DIFFERS on the server: 1 of its notes on this laptop are not on the server as they "
        "are here (typed on the laptop after it was copied?)"
    ) in done.stdout
    assert "NOT VERIFIED" in done.stdout
    assert "VERIFIED: all" not in done.stdout
    assert server.counts()["call"] == before["call"] + 1
    assert server.counts()["note"] == before["note"]


# -- who may copy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "words"), [("coord_kim", "coordinator"), ("admin_ray", "admin")]
)
def test_only_a_clinician_copies(
    server: Server, laptop: tuple[Path, History], person: str, words: str
) -> None:
    data_dir, _ = laptop
    before = server.counts()
    done = copy(data_dir, server.url(person))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{person} is a{'n' if words == 'admin' else ''} {words} on the server" in done.stderr
    assert "nothing was copied" in done.stderr
    assert server.counts() == before


def test_another_clinician_cannot_copy_a_history_copied_already(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    before = server.counts()
    done = copy(data_dir, server.url("dr_park"))
    assert done.returncode == 1
    assert (
        f"call {history.finalized} of this laptop is on the server already, copied by dr_lee"
        in (done.stderr)
    )
    assert server.counts() == before


def test_a_server_without_the_copy_tables_is_told_to_upgrade(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, _ = laptop
    with server.admin() as conn:
        conn.execute("DROP TABLE p2pcall.copied_number, p2pcall.copied_call")
    done = copy(data_dir, server.url())
    assert done.returncode == 1
    assert "p2pcall db upgrade" in done.stderr and "nothing was copied" in done.stderr


# -- the laptop's file, attacked -----------------------------------------------------------------


def test_a_damaged_file_is_refused_and_left_alone(server: Server, tmp_path: Path) -> None:
    data_dir = tmp_path / "lee"
    data_dir.mkdir(mode=0o700)
    database = data_dir / "p2pcall.sqlite3"
    database.write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 4000)
    before = server.counts()
    done = copy(data_dir, server.url())
    assert done.returncode == 1
    assert "damaged or is not a p2pcall database" in done.stderr
    assert "Nothing was copied" in done.stderr and "Traceback" not in done.stderr
    assert database.read_bytes().startswith(b"SQLite format 3\x00\xde\xad")
    assert server.counts() == before


def test_a_fifo_in_place_of_the_file_is_refused_without_blocking(
    server: Server, tmp_path: Path
) -> None:
    data_dir = tmp_path / "lee"
    data_dir.mkdir(mode=0o700)
    os.mkfifo(data_dir / "p2pcall.sqlite3")
    done = copy(data_dir, server.url())  # a blocked open would hit the timeout
    assert done.returncode == 1
    assert "not a regular file" in done.stderr


def test_a_symlink_in_place_of_the_file_is_refused(
    server: Server, laptop: tuple[Path, History], tmp_path: Path
) -> None:
    source, _ = laptop
    data_dir = tmp_path / "elsewhere"
    data_dir.mkdir(mode=0o700)
    (data_dir / "p2pcall.sqlite3").symlink_to(source / "p2pcall.sqlite3")
    before = server.counts()
    done = copy(data_dir, server.url())
    assert done.returncode == 1
    assert "is a symbolic link" in done.stderr and "nothing was copied" in done.stderr
    assert server.counts() == before


def test_a_file_of_an_older_p2pcall_is_refused_unchanged(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from export_db import make_v2_database

    data_dir = tmp_path / "old"
    make_v2_database(data_dir, monkeypatch)
    database = data_dir / "p2pcall.sqlite3"
    before = file_digest(database)
    done = copy(data_dir, server.url())
    assert done.returncode == 1
    assert "from an older p2pcall (schema 2" in done.stderr and "Traceback" not in done.stderr
    assert file_digest(database) == before  # never upgraded by a copy
    assert server.counts()["copied_call"] == 0


def test_no_history_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    done = copy(tmp_path / "none", server.url())
    assert done.returncode == 1
    assert "no records" in done.stderr and "Nothing was copied" in done.stderr
    assert not (tmp_path / "none").exists()  # nothing created


def test_a_finalized_call_changed_on_the_laptop_is_not_copied(
    server: Server, laptop: tuple[Path, History]
) -> None:
    """Someone dropped the laptop's guards and edited a finalized note: copying it would
    carry a record that no longer matches its head onto the server under the clinician's
    name. Refused, nothing copied."""
    import sqlite3

    data_dir, history = laptop
    db = sqlite3.connect(data_dir / "p2pcall.sqlite3", isolation_level=None)
    try:
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'note'"
        ).fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("UPDATE note SET body = 'will not fax' WHERE body = 'will fax criteria'")
    finally:
        db.close()
    before = server.counts()
    done = copy(data_dir, server.url())
    assert done.returncode == 1
    assert f"call {history.finalized} on this laptop no longer matches the chain head" in (
        done.stderr
    )
    assert server.counts() == before


def test_a_value_p2pcall_never_writes_stops_the_copy_before_anything_is_written(
    server: Server, laptop: tuple[Path, History]
) -> None:
    import sqlite3

    data_dir, history = laptop
    db = sqlite3.connect(data_dir / "p2pcall.sqlite3", isolation_level=None)
    try:
        db.execute(
            "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason) "
            "VALUES (?, 'A', 'sermon', 'x', '2026-01-01T00:00:00.000000Z', "
            "'2026-01-01T00:00:00.000000Z', 0, '')",
            (history.open,),
        )
    finally:
        db.close()
    before = server.counts()
    done = copy(data_dir, server.url())
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"call {history.open} on this laptop holds a stored time or value" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert server.counts() == before


# -- the server, attacked ----------------------------------------------------------------------


def test_the_server_going_away_mid_copy_leaves_nothing_half_copied(
    server: Server, laptop: tuple[Path, History]
) -> None:
    """The copy is held on a lock after the first call's notes went in, then its connection
    is cut by the server (as a restart or a network cut would): nothing of it stays."""
    data_dir, _ = laptop
    before = server.counts()
    with _copy_held_on_a_lock(server, data_dir) as (running, pid):
        with server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        out, err = running.communicate(timeout=60)
    assert running.returncode == 1, out + err
    assert "nothing was copied" in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert server.counts() == before


def test_ctrl_c_mid_copy_leaves_nothing_and_says_so(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, _ = laptop
    before = server.counts()
    with _copy_held_on_a_lock(server, data_dir) as (running, _pid):
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=60)
    assert running.returncode == 130, out + err
    assert err == (
        "p2pcall db copy: interrupted before the copy was committed: nothing was copied\n"
    )
    assert server.counts() == before


@contextlib.contextmanager
def _copy_held_on_a_lock(
    server: Server, data_dir: Path
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`db copy` running, held on a lock it needs after the first call's notes went in: the
    process and the server process of its connection. Ended and the lock let go after."""
    holder = psycopg.connect(server.cluster.dsn(dbname=server.name))
    try:
        holder.execute("LOCK TABLE p2pcall.letter_file IN ACCESS EXCLUSIVE MODE")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "P2PCALL_"))}
        running = subprocess.Popen(
            [
                *(sys.executable, "-m", "p2pcall", "db", "copy", "--from", "local"),
                *("--data-dir", str(data_dir), "--database", server.url()),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            # Ctrl+C as a terminal gives it, whatever this run inherited: a shell's
            # background job starts with SIGINT ignored, and Python then keeps it ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            yield running, _waiting_copy(server, running)
        finally:
            if running.poll() is None:
                running.kill()
                running.wait()
    finally:
        holder.close()


def _waiting_copy(server: Server, running: subprocess.Popen[str]) -> int:
    """The server process of the copy once it waits on the held lock."""
    deadline = time.monotonic() + 60
    with server.admin() as admin:
        while time.monotonic() < deadline:
            assert running.poll() is None, running.communicate()
            found = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = 'dr_lee' "
                "AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL",
                (server.name,),
            ).fetchone()
            if found is not None:
                # It has written (it has a transaction id): the reviewers, the first
                # call, its notes and follow-ups are in, uncommitted, before its letters.
                return int(found[0])
            time.sleep(0.05)
    raise AssertionError("the copy never reached the held lock")


def test_a_copied_call_changed_on_the_server_outside_p2pcall_is_reported(
    server: Server, laptop: tuple[Path, History]
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    with server.admin() as admin:  # a superuser writes what p2pcall never writes
        admin.execute(
            "INSERT INTO p2pcall.note (call_id, section, kind, body, started_at, saved_at) "
            "VALUES (%s, 'A', 'sermon', 'x', now(), now())",
            (server_call(server, history.open),),
        )
    done = copy(data_dir, server.url())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"call {history.open}: already on the server" in done.stdout
    assert "its record on the server cannot be read back" in done.stdout
    assert "NOT VERIFIED" in done.stdout


def test_laptop_numbers_are_given_only_while_copying(
    server: Server, laptop: tuple[Path, History]
) -> None:
    """Renumbering a record after the fact would change what its chain hashes: the server
    refuses a number for a row written earlier, a second number for a row, any change or
    removal, and marking an existing call as copied."""
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    open_call = server_call(server, history.open)
    lee = open_store(data_dir.parent / "lee-server", server.url())
    try:
        later = lee.add_note(open_call, Section.E, NoteKind.NOTE, "typed on the server", now_utc())
        own = lee.start_call("America/New_York")
    finally:
        lee.close()
    copied_note = server.one(
        "SELECT server_id FROM p2pcall.copied_number WHERE call_id = %s AND kind = 'note'",
        (open_call,),
    )[0]
    refused = [
        (
            "INSERT INTO copied_number (call_id, kind, server_id, local_id) "
            "VALUES (%s, 'note', %s, 99)",
            (open_call, later.id),
            "never later",
        ),
        (
            "INSERT INTO copied_number (call_id, kind, server_id, local_id) "
            "VALUES (%s, 'note', %s, 98)",
            (open_call, copied_note),
            "never later",
        ),
        ("UPDATE copied_number SET local_id = 1", (), "permission denied"),
        ("DELETE FROM copied_call", (), "permission denied"),
        (
            "INSERT INTO copied_call (call_id, local_id, local_created_at) "
            "SELECT id, 77, created_at FROM call WHERE id = %s",
            (own.id,),
            "never later",
        ),
    ]
    with psycopg.connect(server.url(), options="-c search_path=p2pcall") as conn:
        for sql, params, words in refused:
            with pytest.raises(psycopg.Error) as caught:
                conn.execute(sql, params)
            conn.rollback()
            assert words in str(caught.value), sql
    # The note typed on the server is numbered after the laptop's notes of that call.
    with PgReader.open_url(server.url()) as reader:
        numbers = sorted(n.id for n in reader.chain_inputs(open_call).notes)
    local = Store.open_read_only(data_dir)
    try:
        laptop_numbers = sorted(n.id for n in local.load_call(history.open).notes)
    finally:
        local.close()
    assert numbers == [*laptop_numbers, laptop_numbers[-1] + 1]


# -- the command line, after the lead's --database for every command ------------------------------


def _commands_reach_the_server() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "p2pcall", "--help"], capture_output=True, text=True, timeout=60
    )
    return "--database" in done.stdout


@pytest.mark.skipif(
    not _commands_reach_the_server(),
    reason="export and verify reach a server once `--database` is on every command (main)",
)
def test_export_and_verify_on_the_server_from_the_command_line(
    server: Server, laptop: tuple[Path, History], tmp_path: Path
) -> None:
    data_dir, history = laptop
    assert copy(data_dir, server.url()).returncode == 0
    copied = server_call(server, history.finalized)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "P2PCALL_"))}
    env["P2PCALL_DATABASE_URL"] = server.url()
    for fmt in FORMATS:
        exported = subprocess.run(
            [
                *(sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir), "export"),
                *(str(copied), "--format", fmt, "-o", str(tmp_path / f"x.{fmt}")),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert exported.returncode == 0, exported.stderr
        checked = subprocess.run(
            [
                *(sys.executable, "-m", "p2pcall", "--data-dir", str(data_dir)),
                *("verify", str(tmp_path / f"x.{fmt}")),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.splitlines()[-1].startswith("VERIFIED")
