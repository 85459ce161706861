"""The server schema against a real PostgreSQL: each role tries what it must and must not do.

Every person connects as their own login role (tests/support/pg_cluster.PEOPLE); the guards and
row-level security are the server's, so these tests go through nothing of p2pcall but the
schema that `db init` created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import pg_cluster as pgc
from p2pcall.store.postgres import schema

pytestmark = pytest.mark.usefixtures("pg_cluster")

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
HEAD = "ab" * 32
Connect = Callable[[str], psycopg.Connection[tuple[object, ...]]]


@pytest.fixture(scope="module")
def server(pg_cluster: pgc.PgCluster) -> Iterator[Connect]:
    """A database set up by schema.init; `server(person)` connects as that person."""
    name = pgc.fresh_database(pg_cluster, "roles")
    with psycopg.connect(pg_cluster.dsn(dbname=name)) as conn:
        schema.init(conn)
    pgc.add_people(pg_cluster)
    opened: dict[str, psycopg.Connection[tuple[object, ...]]] = {}

    def connect(person: str) -> psycopg.Connection[tuple[object, ...]]:
        """One connection per person for the module (autocommit: a refusal leaves no
        transaction behind)."""
        if person not in opened:
            opened[person] = psycopg.connect(
                pg_cluster.dsn(user=person, dbname=name),
                autocommit=True,
                options="-c search_path=p2pcall",
            )
        return opened[person]

    yield connect
    for conn in opened.values():
        conn.close()


def one(conn: psycopg.Connection[tuple[object, ...]], sql: str, *params: object) -> object:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def new_id(conn: psycopg.Connection[tuple[object, ...]], sql: str, *params: object) -> int:
    value = one(conn, sql, *params)
    assert isinstance(value, int)
    return value


def new_call(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    return new_id(conn, "INSERT INTO call (created_at, tz) VALUES (%s, 'UTC') RETURNING id", T0)


def add_note(
    conn: psycopg.Connection[tuple[object, ...]],
    call: int,
    body: str = "reviewer joined",
    saved: datetime = T0 + timedelta(minutes=1),
    **extra: object,
) -> int:
    columns = ["call_id", "section", "kind", "body", "started_at", "saved_at", *extra]
    values = [call, "B", "note", body, saved, saved, *extra.values()]
    marks = ", ".join(["%s"] * len(values))
    return new_id(
        conn, f"INSERT INTO note ({', '.join(columns)}) VALUES ({marks}) RETURNING id", *values
    )


def finalize(conn: psycopg.Connection[tuple[object, ...]], call: int) -> datetime:
    stamp = T0 + timedelta(minutes=30)
    conn.execute(
        "UPDATE call SET ended_at = %s, outcome = 'approved' WHERE id = %s",
        (T0 + timedelta(minutes=20), call),
    )
    conn.execute(
        "UPDATE call SET finalized_at = %s, chain_head = %s WHERE id = %s", (stamp, HEAD, call)
    )
    return stamp


def refused(conn: psycopg.Connection[tuple[object, ...]], sql: str, *params: object) -> str:
    """The statement fails; the server's message, to check why."""
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(sql, params)
    return str(caught.value)


# -- what a clinician does --------------------------------------------------------------------


def test_clinician_writes_own_call_and_the_server_records_who(server: Connect) -> None:
    lee = server("dr_lee")
    call = new_call(lee)
    note = add_note(lee, call)
    lee.execute(
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES (%s, 'reviewer_name', "
        "'Dr Ames', %s)",
        (call, T0),
    )
    lee.execute(
        "INSERT INTO field_edit (call_id, key, value, edited_at) VALUES (%s, 'reviewer_name', "
        "'Dr Ames', %s)",
        (call, T0),
    )
    lee.execute(
        "INSERT INTO draft (call_id, section, kind, body, started_at, updated_at) "
        "VALUES (%s, 'C', 'note', 'half a thought', %s, %s)",
        (call, T0, T0),
    )
    lee.execute(
        "INSERT INTO followup (call_id, action, created_at) VALUES (%s, 'send_letter', %s)",
        (call, T0),
    )
    assert one(lee, "SELECT author FROM call WHERE id = %s", call) == "dr_lee"
    assert one(lee, "SELECT author FROM note WHERE id = %s", note) == "dr_lee"
    assert one(lee, "SELECT author FROM field_edit WHERE call_id = %s", call) == "dr_lee"
    assert one(lee, "SELECT body FROM draft WHERE call_id = %s", call) == "half a thought"
    saved = one(lee, "SELECT saved_at FROM note WHERE id = %s", note)
    assert saved == T0 + timedelta(minutes=1)  # an instant: the same whatever the zone


def test_clinician_sees_nothing_of_another_clinicians_call(server: Connect) -> None:
    lee, park = server("dr_lee"), server("dr_park")
    call = new_call(lee)
    add_note(lee, call, "the patient's history")
    lee.execute(
        "INSERT INTO draft (call_id, section, kind, body, started_at, updated_at) "
        "VALUES (%s, 'C', 'note', 'unsent', %s, %s)",
        (call, T0, T0),
    )
    for table in ("call", "note", "draft"):
        key = "id" if table == "call" else "call_id"
        assert one(park, f"SELECT count(*) FROM {table} WHERE {key} = %s", call) == 0
    assert "row-level security" in refused(
        park,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at) "
        "VALUES (%s, 'B', 'note', 'not mine', %s, %s)",
        call,
        T0,
        T0,
    )
    # An update of a call that is not theirs finds no row to change.
    park.execute("UPDATE call SET outcome = 'denied' WHERE id = %s", (call,))
    assert one(lee, "SELECT outcome FROM call WHERE id = %s", call) is None
    assert "row-level security" in refused(
        park, "INSERT INTO followup (call_id, action, created_at) VALUES (%s, 'x', %s)", call, T0
    )


def test_clinician_reads_the_practice_wide_reviewer_track_record(server: Connect) -> None:
    lee, park = server("dr_lee"), server("dr_park")
    reviewer = new_id(
        park,
        "INSERT INTO reviewer (name, name_key, created_at) VALUES ('Dr Ames', "
        "'dr ames', %s) RETURNING id",
        T0,
    )
    call = new_call(lee)
    lee.execute(
        "INSERT INTO call_reviewer (call_id, reviewer_id, linked_at) VALUES (%s, %s, %s)",
        (call, reviewer, T0),
    )
    lee.execute(
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES "
        "(%s, 'reviewer_same_specialty', 'no', %s)",
        (call, T0),
    )
    lee.execute("UPDATE call SET outcome = 'denied' WHERE id = %s", (call,))
    # dr_park sees the reviewer's record on dr_lee's call, not the call itself.
    row = park.execute(
        "SELECT call_id, outcome, same_specialty FROM reviewer_track WHERE reviewer_id = %s",
        (reviewer,),
    ).fetchall()
    assert row == [(call, "denied", "no")]
    assert one(park, "SELECT count(*) FROM call_field WHERE call_id = %s", call) == 0


# -- coordinator and admin --------------------------------------------------------------------


def test_coordinator_works_every_calls_followups_but_writes_no_note(server: Connect) -> None:
    lee, kim = server("dr_lee"), server("coord_kim")
    call = new_call(lee)
    add_note(lee, call, "peer agreed to send criteria")
    followup = new_id(
        lee,
        "INSERT INTO followup (call_id, action, created_at) VALUES (%s, 'appeal', %s) RETURNING id",
        call,
        T0,
    )
    lee.execute(
        "INSERT INTO draft (call_id, section, kind, body, started_at, updated_at) "
        "VALUES (%s, 'C', 'note', 'unsent', %s, %s)",
        (call, T0, T0),
    )
    # Reads the whole record (for exports), every follow-up; sets a status, signed as kim.
    assert one(kim, "SELECT body FROM note WHERE call_id = %s", call) == (
        "peer agreed to send criteria"
    )
    kim.execute("UPDATE followup SET status = 'done', done_at = %s WHERE id = %s", (T0, followup))
    assert one(lee, "SELECT author FROM followup WHERE id = %s", followup) == "coord_kim"
    assert one(lee, "SELECT status FROM followup WHERE id = %s", followup) == "done"
    # No note, no field, no change to the call, no drafts.
    assert "permission denied" in refused(
        kim,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at) "
        "VALUES (%s, 'B', 'note', 'coordinator text', %s, %s)",
        call,
        T0,
        T0,
    )
    assert "permission denied" in refused(
        kim,
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES (%s, 'k', 'v', %s)",
        call,
        T0,
    )
    assert "permission denied" in refused(kim, "UPDATE call SET outcome = 'x' WHERE id = %s", call)
    assert "permission denied" in refused(kim, "SELECT body FROM draft")


def test_admin_reads_everything_and_writes_no_record(server: Connect) -> None:
    lee, ray = server("dr_lee"), server("admin_ray")
    call = new_call(lee)
    add_note(lee, call)
    assert one(ray, "SELECT count(*) FROM note WHERE call_id = %s", call) == 1
    assert "permission denied" in refused(
        ray,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at) "
        "VALUES (%s, 'B', 'note', 'admin text', %s, %s)",
        call,
        T0,
        T0,
    )
    assert "permission denied" in refused(ray, "SELECT body FROM draft")


def test_a_role_in_no_group_reads_nothing(server: Connect) -> None:
    lee, outsider = server("dr_lee"), server("outsider")
    new_call(lee)
    assert "permission denied" in refused(outsider, "SELECT count(*) FROM p2pcall.call")


# -- the record -------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["dr_lee", "coord_kim", "admin_ray", "postgres"])
def test_nobody_changes_or_deletes_a_saved_note(server: Connect, person: str) -> None:
    lee = server("dr_lee")
    call = new_call(lee)
    note = add_note(lee, call, "as said")
    who = server(person)
    for sql in (
        "UPDATE note SET body = 'rewritten' WHERE id = %s",
        "DELETE FROM note WHERE id = %s",
    ):
        message = refused(who, sql, note)
        # The author lacks the privilege; a superuser has every privilege but meets the trigger.
        assert "permission denied" in message or "p2pcall record: a saved note is never" in message
    assert "p2pcall record" in refused(server("postgres"), "TRUNCATE note CASCADE")
    assert one(lee, "SELECT body FROM note WHERE id = %s", note) == "as said"


def test_superuser_meets_the_note_trigger(server: Connect) -> None:
    """The guard itself, not only the missing privilege: even a superuser is refused."""
    lee, su = server("dr_lee"), server("postgres")
    note = add_note(lee, new_call(lee))
    assert "a saved note is never changed" in refused(
        su, "UPDATE note SET body = 'x' WHERE id = %s", note
    )
    assert "a saved note is never deleted" in refused(su, "DELETE FROM note WHERE id = %s", note)


def test_a_finalized_call_is_frozen_and_takes_only_addenda_with_a_reason(server: Connect) -> None:
    lee = server("dr_lee")
    call = new_call(lee)
    first = add_note(lee, call)
    lee.execute(
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES (%s, 'outcome_detail', "
        "'x', %s)",
        (call, T0),
    )
    stamp = finalize(lee, call)
    assert "finalized and cannot be changed" in refused(
        lee, "UPDATE call SET outcome = 'denied' WHERE id = %s", call
    )
    assert "finalized" in refused(lee, "UPDATE call_field SET value = 'y' WHERE call_id = %s", call)
    assert "finalized" in refused(
        lee,
        "INSERT INTO field_edit (call_id, key, value, edited_at) VALUES (%s, 'k', 'v', %s)",
        call,
        stamp + timedelta(minutes=1),
    )
    later = stamp + timedelta(minutes=5)
    assert "needs a reason" in refused(
        lee,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late) "
        "VALUES (%s, 'B', 'note', 'forgot', %s, %s, true)",
        call,
        later,
        later,
    )
    assert "corrections are refused" in refused(
        lee,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, "
        "reason, corrects_id) VALUES (%s, 'B', 'note', 'fix', %s, %s, true, 'typo', %s)",
        call,
        later,
        later,
        first,
    )
    assert "after the finalize time" in refused(
        lee,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, late, reason) "
        "VALUES (%s, 'B', 'note', 'backdated', %s, %s, true, 'r')",
        call,
        stamp,
        stamp,
    )
    add_note(lee, call, "addendum", later, late=True, reason="reviewer called back")
    assert one(lee, "SELECT count(*) FROM note WHERE call_id = %s", call) == 2
    # A superuser cannot unfreeze it either.
    assert "finalized and cannot be changed" in refused(
        server("postgres"),
        "UPDATE call SET finalized_at = NULL, chain_head = NULL WHERE id = %s",
        call,
    )


def test_finalize_rules(server: Connect) -> None:
    lee = server("dr_lee")
    call = new_call(lee)
    add_note(lee, call, saved=T0 + timedelta(minutes=40))
    assert "only an ended call" in refused(
        lee,
        "UPDATE call SET finalized_at = %s, chain_head = %s WHERE id = %s",
        T0 + timedelta(hours=1),
        HEAD,
        call,
    )
    lee.execute("UPDATE call SET ended_at = %s WHERE id = %s", (T0 + timedelta(minutes=45), call))
    assert "never alone" in refused(
        lee, "UPDATE call SET chain_head = %s WHERE id = %s", HEAD, call
    )
    assert "64 lowercase" in refused(
        lee,
        "UPDATE call SET finalized_at = %s, chain_head = %s WHERE id = %s",
        T0 + timedelta(hours=1),
        "AB" * 32,
        call,
    )
    assert "after its last note" in refused(
        lee,
        "UPDATE call SET finalized_at = %s, chain_head = %s WHERE id = %s",
        T0 + timedelta(minutes=30),
        HEAD,
        call,
    )
    assert "never created finalized" in refused(
        lee,
        "INSERT INTO call (created_at, tz, finalized_at, chain_head) VALUES (%s, 'UTC', %s, %s)",
        T0,
        T0,
        HEAD,
    )
    assert "check constraint" in refused(
        lee, "INSERT INTO call (created_at, tz) VALUES ('infinity', 'UTC')"
    )


def test_correction_must_be_of_the_same_call(server: Connect) -> None:
    lee = server("dr_lee")
    one_call, other_call = new_call(lee), new_call(lee)
    note = add_note(lee, one_call)
    assert "same call" in refused(
        lee,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, corrects_id) "
        "VALUES (%s, 'B', 'correction', 'fix', %s, %s, %s)",
        other_call,
        T0,
        T0,
        note,
    )


# -- the guards themselves --------------------------------------------------------------------


@pytest.mark.parametrize("person", ["dr_lee", "coord_kim", "admin_ray"])
@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE note DISABLE TRIGGER record_note",
        "ALTER TABLE note DISABLE TRIGGER ALL",
        "DROP TRIGGER record_note ON note",
        "DROP TABLE note CASCADE",
        "ALTER TABLE call DISABLE ROW LEVEL SECURITY",
        "DROP POLICY call_read ON call",
        "CREATE OR REPLACE FUNCTION guard_note() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NEW; END $$",
        "SET session_replication_role = replica",
        "SET ROLE p2pcall_owner",
        "GRANT p2pcall_owner TO CURRENT_USER",
        "TRUNCATE note",
        "CREATE TABLE p2pcall.shadow (x int)",
    ],
)
def test_no_working_role_can_get_past_the_guards(server: Connect, person: str, sql: str) -> None:
    who = server(person)
    message = refused(who, sql)
    assert any(why in message for why in ("permission denied", "must be", "must have")), message
    assert (
        one(
            server("postgres"),
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'record_note' AND tgenabled = 'O'",
        )
        == 1
    )


def test_author_cannot_be_forged(server: Connect) -> None:
    lee, park, kim = server("dr_lee"), server("dr_park"), server("coord_kim")
    call = new_call(lee)
    assert "the author of a row is the role that connected" in refused(
        lee,
        "INSERT INTO note (call_id, section, kind, body, started_at, saved_at, author) "
        "VALUES (%s, 'B', 'note', 'in another name', %s, %s, 'dr_park')",
        call,
        T0,
        T0,
    )
    assert "the author of a row is the role that connected" in refused(
        park, "INSERT INTO call (created_at, tz, author) VALUES (%s, 'UTC', 'dr_lee')", T0
    )
    followup = new_id(
        lee,
        "INSERT INTO followup (call_id, action, created_at) VALUES (%s, 'appeal', %s) RETURNING id",
        call,
        T0,
    )
    assert "cannot be changed" in refused(
        kim, "UPDATE followup SET author = 'dr_park', status = 'done' WHERE id = %s", followup
    )
    # Naming the previous author again does not hide who made the change.
    kim.execute("UPDATE followup SET author = 'dr_lee', status = 'done' WHERE id = %s", (followup,))
    assert one(lee, "SELECT author FROM followup WHERE id = %s", followup) == "coord_kim"
    assert "cannot be changed" in refused(
        lee, "UPDATE call SET author = 'dr_park' WHERE id = %s", call
    )
    # SET ROLE to the group changes current_user, not who connected.
    lee.execute("SET ROLE p2pcall_clinician")
    try:
        note = add_note(lee, call, "after set role")
        assert one(lee, "SELECT author FROM note WHERE id = %s", note) == "dr_lee"
    finally:
        lee.execute("RESET ROLE")
    # Even a superuser writes in its own name only.
    assert "the author of a row" in refused(
        server("postgres"),
        "INSERT INTO note (call_id, section, kind, body, started_at, "
        "saved_at, author) VALUES (%s, 'B', 'note', 'x', %s, %s, 'dr_lee')",
        call,
        T0,
        T0,
    )


def test_full_text_search_finds_words_prefixes_and_ignores_accents(server: Connect) -> None:
    lee = server("dr_lee")
    call = new_call(lee)
    add_note(lee, call, "Reviewer cited the Café criteria; credentials unclear")
    found = lee.execute(
        "SELECT count(*) FROM note WHERE call_id = %s AND "
        "search @@ to_tsquery('p2pcall.record_text', %s)",
        (call, "cafe & cred:*"),
    ).fetchone()
    assert found == (1,)
    plan = "\n".join(
        str(row[0])
        for row in server("postgres").execute(
            "EXPLAIN SELECT id FROM p2pcall.note WHERE search @@ "
            "to_tsquery('p2pcall.record_text', 'cafe')"
        )
    )
    assert "ix_note_search" in plan or "Seq Scan" in plan  # planner's choice on a tiny table
    assert (
        one(
            server("postgres"),
            "SELECT count(*) FROM pg_indexes WHERE indexname IN "
            "('ix_note_search', 'ix_call_field_search')",
        )
        == 2
    )


def test_the_search_functions_give_only_calls_the_role_may_read(server: Connect) -> None:
    """search_calls, search_matches and insurer_calls read as their owner (the indexes,
    without a policy check per row) and must not become a way round row-level security:
    dr_park learns nothing of dr_lee's call, a coordinator finds it."""
    lee, park, kim = server("dr_lee"), server("dr_park"), server("coord_kim")
    call = new_call(lee)
    add_note(lee, call, "ketamine infusion discussed")
    lee.execute(
        "INSERT INTO call_field (call_id, key, value, updated_at) VALUES "
        "(%s, 'insurer', 'Zephyr Mutual', %s)",
        (call, T0),
    )
    words = "plainto_tsquery('p2pcall.record_text', 'ketamine')"
    ids = f"SELECT array_agg(i) FROM search_calls({words}) AS i"
    assert one(lee, ids) == [call]
    assert one(kim, ids) == [call]
    assert one(park, ids) is None
    matches = f"SELECT search_matches({words}, %s)"
    assert one(lee, matches, call) is True
    assert one(kim, matches, call) is True
    assert one(park, matches, call) is False
    insurer = "SELECT array_agg(i) FROM insurer_calls('%%zephyr%%') AS i"
    assert one(lee, insurer) == [call]
    assert one(park, insurer) is None
    assert "permission denied" in refused(server("outsider"), ids)


def test_tables_and_guards_belong_to_the_owner_role(server: Connect) -> None:
    su = server("postgres")
    owners = {
        row[0]
        for row in su.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'p2pcall'")
    }
    assert owners == {schema.OWNER}
    functions = {
        row[0]
        for row in su.execute(
            "SELECT pg_get_userbyid(proowner) FROM pg_proc "
            "WHERE pronamespace = 'p2pcall'::regnamespace AND prokind = 'f' "
            "AND proname NOT LIKE 'unaccent%%'"
        )
    }
    assert functions == {schema.OWNER}
    assert one(su, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", schema.OWNER) is False
