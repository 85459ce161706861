-- p2pcall server schema, version 2: notes sent exactly once, finalizing serialized with the
-- writes it seals, search words split as SQLite splits them (with search under row-level
-- security reading the indexes), and calls copied from a laptop keeping their numbers.
--
-- Run by `p2pcall db upgrade` (and `db init` on a new database) inside one transaction, as
-- p2pcall_owner, after v1.sql.

SET LOCAL search_path = p2pcall, pg_catalog;

-- A note's idempotency key: the laptop gives every note one when Enter is pressed and sends
-- it again with the same key after a lost answer or an outage (the local outbox), so a note
-- that did reach the server is never stored twice.
ALTER TABLE note ADD COLUMN client_key text CHECK (client_key ~ '^[0-9a-f-]{36}$');
CREATE UNIQUE INDEX ix_note_client_key ON note (client_key) WHERE client_key IS NOT NULL;

-- v1 read a call's finalize stamp without a lock: a note (or field change) committed by
-- another connection while a finalize was computing the chain could land before the stamp
-- yet outside the chain. Now the guards' reading of the stamp takes a share lock on the call
-- row, and finalizing takes the row for update before it reads what it seals (PgStore): one
-- waits for the other. finalized_at_of is used by the guards of note, call_field and
-- field_edit only.
CREATE OR REPLACE FUNCTION finalized_at_of(call_number bigint) RETURNS timestamptz
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT finalized_at FROM p2pcall.call WHERE id = call_number FOR SHARE
$$;

-- -- Search: the search words split as SQLite's index splits them.
--
-- Version 1 indexed to_tsvector(body) as PostgreSQL's parser reads it, which keeps some runs of
-- letters, digits and ASCII symbols as one word: "12.5", "dr.lee@aetna.com", "aetna.com/x",
-- "v1.2.3", and reads "2026-01-15" as 2026, -01, -15 and "covid-19" as covid, -19. A search
-- for "12 5", "aetna", "19" or "01" then missed notes that SQLite finds (its unicode61
-- tokenizer: a word is a run of letters and digits, every other character separates words).
-- Here each ASCII symbol becomes a space before the parser reads the text, so words are runs
-- of letters and digits as in SQLite (non-ASCII punctuation and symbols already separate
-- words in a UTF-8 locale), and a word mixing letters and digits ("2ème") loses its accents
-- like any other. 

-- The text as the search reads it: the 32 ASCII symbols ! " # $ % & ' ( ) * + , - . / : ; < = >
-- ? @ [ \ ] ^ _ ` { | } ~ each replaced by a space (same length, so nothing else moves).
CREATE FUNCTION p2pcall.search_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.translate(
        body, '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '
    )
$$;
REVOKE ALL ON FUNCTION p2pcall.search_text(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION p2pcall.search_text(text)
    TO p2pcall_clinician, p2pcall_coordinator, p2pcall_admin;

-- Words of letters and digits are numword tokens: accents removed as for the other words.
DO $$
DECLARE
    dict_schema text;
BEGIN
    SELECT n.nspname INTO STRICT dict_schema
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
    WHERE d.dictname = 'unaccent';
    EXECUTE format(
        'ALTER TEXT SEARCH CONFIGURATION p2pcall.record_text '
        'ALTER MAPPING FOR numword WITH %I.unaccent, simple',
        dict_schema
    );
END
$$;

-- The search columns again, from the text as the search reads it (the table is rewritten:
-- no row trigger fires, no note or field changes).
DROP INDEX ix_note_search;
ALTER TABLE note DROP COLUMN search;
ALTER TABLE note ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('p2pcall.record_text', p2pcall.search_text(body))
) STORED;
CREATE INDEX ix_note_search ON note USING gin (search);

DROP INDEX ix_call_field_search;
ALTER TABLE call_field DROP COLUMN search;
ALTER TABLE call_field ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('p2pcall.record_text', p2pcall.search_text(value))
) STORED;
CREATE INDEX ix_call_field_search ON call_field USING gin (search);

-- The search for the roles people connect as. Row-level security applies a table's policies
-- before any operator that is not leakproof, and @@ is not: a search run as the connected
-- role reads every row of note and call_field (the policy, then @@ on each) instead of the
-- GIN index, and checks the policy again on every row of every call it reads. These run
-- as their owner, who reads the indexes and the rows directly, and give only what the
-- connected role may see: matches in calls it may read, by the rule of the policies on call
-- (its own calls; every call for a coordinator or an admin). session_user is the connected
-- role here too (SECURITY DEFINER changes current_user only).

-- The calls the role may read with a note or a field matching `query`.
CREATE FUNCTION p2pcall.search_calls(query tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT h.call_id
    FROM (
        SELECT n.call_id FROM note n WHERE n.search @@ query
        UNION
        SELECT f.call_id FROM call_field f WHERE f.search @@ query
    ) AS h
    JOIN call c ON c.id = h.call_id
    WHERE c.author = session_user OR (SELECT sees_every_call())
$$;

-- Whether one call the role may read has a note or a field matching `query`: the history's
-- walk through the calls, newest first, asks this of each call it reaches until its page is
-- full (a common word: a few hundred calls), reading that call's rows by their call index.
CREATE FUNCTION p2pcall.search_matches(query tsquery, call_number bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT EXISTS (
        SELECT 1 FROM call c
        WHERE c.id = call_number AND (c.author = session_user OR (SELECT sees_every_call()))
    ) AND (
        EXISTS (SELECT 1 FROM note n WHERE n.call_id = call_number AND n.search @@ query)
        OR EXISTS (
            SELECT 1 FROM call_field f WHERE f.call_id = call_number AND f.search @@ query
        )
    )
$$;

-- The calls the role may read whose insurer matches `pattern` (ILIKE, escape character
-- backslash): the history's insurer filter (any part of the name, any case), one pass over
-- the insurer fields (their own small index) instead of a policy check on each of them.
CREATE INDEX ix_call_field_insurer ON call_field (call_id) INCLUDE (value) WHERE key = 'insurer';
CREATE FUNCTION p2pcall.insurer_calls(pattern text) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT f.call_id FROM call_field f JOIN call c ON c.id = f.call_id
    WHERE f.key = 'insurer' AND f.value ILIKE pattern ESCAPE '\'
    AND (c.author = session_user OR (SELECT sees_every_call()))
$$;

REVOKE ALL ON FUNCTION p2pcall.search_calls(tsquery), p2pcall.search_matches(tsquery, bigint),
    p2pcall.insurer_calls(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION p2pcall.search_calls(tsquery), p2pcall.search_matches(tsquery, bigint),
    p2pcall.insurer_calls(text) TO p2pcall_clinician, p2pcall_coordinator, p2pcall_admin;

-- -- Copy: `p2pcall db copy --from local`: calls brought from a
-- clinician's laptop (its SQLite file) keep the numbers their record was made with.
--
-- Nothing of v1 changes: two new tables beside the record, with their guards.
--
-- Why numbers: the hash chain of a call (domain/chain.py) hashes the call's number and the
-- numbers of its notes and field-history rows, and every export prints them. On the server
-- those rows get the server's own numbers (another clinician's laptop has a call 1 too), so
-- a copied call keeps its laptop numbers here, row by row: the chain recomputed from the
-- server then gives the head stamped on the laptop, and an export made on the server is the
-- one made on the laptop, byte for byte. Rows added on the server later (an addendum, a new
-- follow-up) have no laptop number: they are numbered after the copied ones, in the order
-- the server stored them (store/numbering.py).
--
-- Guards: a number is given only in the transaction that copies the row (the row's xmin is
-- the current transaction), and never changed or removed, so nobody renumbers a record
-- after the fact; a call copied once cannot be copied again (same laptop number and
-- creation time), whoever tries.


CREATE TABLE copied_call (
    call_id bigint PRIMARY KEY REFERENCES call (id),
    -- What recognizes the laptop's call: its number there and the instant it was created
    -- (to the microsecond). Copying the same file twice finds it; another laptop's call 1
    -- was created at another instant.
    local_id bigint NOT NULL CHECK (local_id > 0),
    local_created_at timestamptz NOT NULL CHECK (isfinite(local_created_at)),
    copied_at timestamptz NOT NULL DEFAULT now(),
    author text NOT NULL DEFAULT session_user,
    UNIQUE (local_id, local_created_at)
);

CREATE TABLE copied_number (
    call_id bigint NOT NULL REFERENCES copied_call (call_id),
    kind text NOT NULL CHECK (kind IN ('note', 'field_edit', 'followup')),
    server_id bigint NOT NULL,
    local_id bigint NOT NULL CHECK (local_id > 0),
    author text NOT NULL DEFAULT session_user,
    PRIMARY KEY (kind, server_id),
    UNIQUE (call_id, kind, local_id)
);

CREATE TRIGGER a_author BEFORE INSERT OR UPDATE ON copied_call
    FOR EACH ROW EXECUTE FUNCTION guard_author('creator');
CREATE TRIGGER a_author BEFORE INSERT OR UPDATE ON copied_number
    FOR EACH ROW EXECUTE FUNCTION guard_author('creator');

-- True when the row was written by the transaction running now (not by an earlier one).
CREATE FUNCTION written_now(row_xmin xid) RETURNS boolean
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
    SELECT row_xmin = pg_current_xact_id()::xid
$$;

CREATE FUNCTION guard_copied_call() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM refuse('the laptop numbers of a copied call are never changed or removed');
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM call c
        WHERE c.id = NEW.call_id AND written_now(c.xmin)
          AND c.created_at = NEW.local_created_at AND c.finalized_at IS NULL
    ) THEN
        PERFORM refuse('a call is marked as copied in the transaction that copies it, never later');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER record_copied_call BEFORE INSERT OR UPDATE OR DELETE ON copied_call
    FOR EACH ROW EXECUTE FUNCTION guard_copied_call();
CREATE TRIGGER record_copied_call_no_truncate BEFORE TRUNCATE ON copied_call
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_statement('the laptop numbers of copied calls are never removed');

CREATE FUNCTION guard_copied_number() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
DECLARE
    fresh boolean;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM refuse('the laptop numbers of a copied call are never changed or removed');
    END IF;
    IF NEW.kind = 'note' THEN
        SELECT written_now(xmin) INTO fresh FROM note
        WHERE id = NEW.server_id AND call_id = NEW.call_id;
    ELSIF NEW.kind = 'field_edit' THEN
        SELECT written_now(xmin) INTO fresh FROM field_edit
        WHERE id = NEW.server_id AND call_id = NEW.call_id;
    ELSE
        SELECT written_now(xmin) INTO fresh FROM followup
        WHERE id = NEW.server_id AND call_id = NEW.call_id;
    END IF;
    IF fresh IS NOT TRUE THEN
        PERFORM refuse('a copied row gets its laptop number in the transaction that copies it, never later');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER record_copied_number BEFORE INSERT OR UPDATE OR DELETE ON copied_number
    FOR EACH ROW EXECUTE FUNCTION guard_copied_number();
CREATE TRIGGER record_copied_number_no_truncate BEFORE TRUNCATE ON copied_number
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_statement('the laptop numbers of copied calls are never removed');

-- Read by whoever reads the call; written only by the clinician whose call it is.
GRANT SELECT ON copied_call, copied_number
    TO p2pcall_clinician, p2pcall_coordinator, p2pcall_admin;
GRANT INSERT ON copied_call, copied_number TO p2pcall_clinician;

ALTER TABLE copied_call ENABLE ROW LEVEL SECURITY;
CREATE POLICY copied_call_read ON copied_call FOR SELECT USING (
    (SELECT sees_every_call())
    OR EXISTS (SELECT 1 FROM call c WHERE c.id = copied_call.call_id AND c.author = session_user)
);
CREATE POLICY copied_call_add ON copied_call FOR INSERT WITH CHECK (
    EXISTS (SELECT 1 FROM call c WHERE c.id = copied_call.call_id AND c.author = session_user)
);

ALTER TABLE copied_number ENABLE ROW LEVEL SECURITY;
CREATE POLICY copied_number_read ON copied_number FOR SELECT USING (
    (SELECT sees_every_call())
    OR EXISTS (SELECT 1 FROM call c WHERE c.id = copied_number.call_id AND c.author = session_user)
);
CREATE POLICY copied_number_add ON copied_number FOR INSERT WITH CHECK (
    EXISTS (SELECT 1 FROM call c WHERE c.id = copied_number.call_id AND c.author = session_user)
);

-- A call already copied by another role (hidden from this one by row-level security): the
-- copy says so by name instead of failing on the unique constraint without a reason.
CREATE FUNCTION copied_by(laptop_number bigint, created timestamptz) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT author FROM p2pcall.copied_call
    WHERE local_id = laptop_number AND local_created_at = created
$$;

REVOKE ALL ON FUNCTION written_now(xid), guard_copied_call(), guard_copied_number(),
    copied_by(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION copied_by(bigint, timestamptz) TO p2pcall_clinician;
