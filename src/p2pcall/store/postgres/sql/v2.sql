-- p2pcall server schema, version 2: notes sent exactly once, and finalizing serialized with
-- the writes it seals.
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
-- yet outside the chain. Now each write of the record takes a share lock on its call row, and
-- finalizing takes the row for update before it reads what it seals: one waits for the other.
CREATE FUNCTION finalized_at_locked(call_number bigint) RETURNS timestamptz
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT finalized_at FROM p2pcall.call WHERE id = call_number FOR SHARE
$$;
REVOKE ALL ON FUNCTION finalized_at_locked(bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION guard_note() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
DECLARE
    stamp timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM refuse('a saved note is never changed; save a correction instead');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM refuse('a saved note is never deleted; save a correction instead');
    END IF;
    IF NEW.corrects_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM note WHERE id = NEW.corrects_id AND call_id = NEW.call_id
    ) THEN
        PERFORM refuse('a correction must correct a note of the same call');
    END IF;
    stamp := finalized_at_locked(NEW.call_id);
    IF stamp IS NOT NULL THEN
        IF NEW.corrects_id IS NOT NULL THEN
            PERFORM refuse('this call is finalized: corrections are refused; add an addendum with a reason');
        END IF;
        IF NOT NEW.late OR btrim(NEW.reason, E' \t\n\r') = '' THEN
            PERFORM refuse('this call is finalized: a note added now is an addendum and needs a reason');
        END IF;
        IF NEW.saved_at <= stamp THEN
            PERFORM refuse('an addendum must be saved after the finalize time; check the clock');
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION guard_field() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
BEGIN
    IF (TG_OP IN ('INSERT', 'UPDATE') AND finalized_at_locked(NEW.call_id) IS NOT NULL)
        OR (TG_OP IN ('UPDATE', 'DELETE') AND finalized_at_locked(OLD.call_id) IS NOT NULL) THEN
        PERFORM refuse('this call is finalized: its fields cannot be changed; add an addendum');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION guard_field_edit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM refuse('the history of a field is never changed');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM refuse('the history of a field is never deleted');
    ELSIF finalized_at_locked(NEW.call_id) IS NOT NULL THEN
        PERFORM refuse('this call is finalized: its fields cannot be changed; add an addendum');
    END IF;
    RETURN NEW;
END
$$;
