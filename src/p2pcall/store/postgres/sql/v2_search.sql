-- p2pcall server schema, step "search": the search words split as SQLite's index splits them.
--
-- Version 1 indexed to_tsvector(body) as PostgreSQL's parser reads it, which keeps some runs of
-- letters, digits and ASCII symbols as one word: "12.5", "dr.lee@aetna.com", "aetna.com/x",
-- "v1.2.3", and reads "2026-01-15" as 2026, -01, -15 and "covid-19" as covid, -19. A search
-- for "12 5", "aetna", "19" or "01" then missed notes that SQLite finds (its unicode61
-- tokenizer: a word is a run of letters and digits, every other character separates words).
-- Here each ASCII symbol becomes a space before the parser reads the text, so words are runs
-- of letters and digits as in SQLite (non-ASCII punctuation and symbols already separate
-- words in a UTF-8 locale), and a word mixing letters and digits ("2ème") loses its accents
-- like any other. Run as p2pcall_owner inside the upgrade's transaction (see schema.py).

SET LOCAL search_path = p2pcall, pg_catalog;

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
