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
