-- p2pcall server schema, addition for `p2pcall db copy --from local`: calls brought from a
-- clinician's laptop (its SQLite file) keep the numbers their record was made with.
--
-- To be merged into the v2 step (run as p2pcall_owner inside the step's transaction, after
-- v1.sql). Nothing of v1 changes: two new tables beside the record, with their guards.
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

SET LOCAL search_path = p2pcall, pg_catalog;

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
