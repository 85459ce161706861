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
-- yet outside the chain. Now the guards' reading of the stamp takes a share lock on the call
-- row, and finalizing takes the row for update before it reads what it seals (PgStore): one
-- waits for the other. finalized_at_of is used by the guards of note, call_field and
-- field_edit only.
CREATE OR REPLACE FUNCTION finalized_at_of(call_number bigint) RETURNS timestamptz
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = p2pcall, pg_catalog AS $$
    SELECT finalized_at FROM p2pcall.call WHERE id = call_number FOR SHARE
$$;
