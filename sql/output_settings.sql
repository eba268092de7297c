-- The plugin prints values with its own output settings (SPEC section 3) and gives the session
-- its own back on every path out of pg_logical_slot_get_changes / peek_changes: success, an
-- error or a cancel, called directly or from plpgsql, at the top level, in a transaction block
-- that changed the settings with SET or SET LOCAL (which the abort rolls back), and inside a
-- plpgsql EXCEPTION block (a subtransaction, whose rollback undoes what was set in it). After
-- each, SHOW and what the session prints agree, and are what they were before the call or what
-- the rollback made them.
\pset format unaligned
\pset tuples_only on
-- The settings as SHOW gives them, then values printed under them.
CREATE FUNCTION regress.session_settings() RETURNS text LANGUAGE sql AS $$
    SELECT pg_catalog.format('%s | %s | %s | %s | %s || %s | %s | %s | %s | %s',
                             current_setting('DateStyle'), current_setting('TimeZone'),
                             current_setting('IntervalStyle'), current_setting('extra_float_digits'),
                             current_setting('bytea_output'),
                             '2026-01-02'::date, '2026-01-02 03:04:05.5+00'::timestamptz,
                             '-1 day 2 hours'::interval, 1::float8 / 3, '\x01ff'::bytea)
$$;
-- Settings other than the session's (pg_regress's) and the plugin's, with SET LOCAL or SET.
CREATE FUNCTION regress.set_other_settings(is_local boolean) RETURNS void LANGUAGE sql AS $$
    SELECT set_config('DateStyle', 'SQL, DMY', is_local),
           set_config('TimeZone', 'America/New_York', is_local),
           set_config('IntervalStyle', 'sql_standard', is_local),
           set_config('extra_float_digits', '0', is_local),
           set_config('bytea_output', 'escape', is_local)
$$;
-- Others again, for a subtransaction (bytea_output has no third value that prints differently).
CREATE FUNCTION regress.set_inner_settings(is_local boolean) RETURNS void LANGUAGE sql AS $$
    SELECT set_config('DateStyle', 'German', is_local),
           set_config('TimeZone', 'Asia/Tokyo', is_local),
           set_config('IntervalStyle', 'postgres', is_local),
           set_config('extra_float_digits', '-5', is_local),
           set_config('bytea_output', 'escape', is_local)
$$;

-- Decoding that fails with an error that is not about data (so not one shape's alone: raised):
-- the filter reads a text search configuration dropped after the row was written (standing in
-- for any failure while decoding), and its lookup fails.
CREATE TEXT SEARCH CONFIGURATION os_words (COPY = simple);
CREATE TABLE os_rows (id int PRIMARY KEY, words regconfig, body text, n int);
INSERT INTO os_rows VALUES (1, 'os_words', 'some words', 0);
SELECT electric_shapes.create_shape('os_wordy', 'os_rows', $$length(to_tsvector(words, body)) > 1$$);
SELECT electric_shapes.create_shape('os_every', 'os_rows');
SELECT 'init' FROM pg_create_logical_replication_slot('os_slot', 'electric_shapes');
DROP TEXT SEARCH CONFIGURATION os_words;
UPDATE os_rows SET n = 1;

-- The session's settings (pg_regress's).
SELECT regress.session_settings();
\set VERBOSITY sqlstate
-- 1. Called directly at the top level, in a transaction block after SET LOCAL, and after SET.
SELECT count(*) FROM pg_logical_slot_get_changes('os_slot', NULL, NULL);
SELECT regress.session_settings();
BEGIN;
SELECT regress.set_other_settings(true);
SELECT regress.session_settings();
SELECT count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL);
ROLLBACK;
SELECT regress.session_settings();
BEGIN;
SELECT regress.set_other_settings(false);
SELECT count(*) FROM pg_logical_slot_get_changes('os_slot', NULL, NULL);
ROLLBACK;
SELECT regress.session_settings();
-- 2. Called from plpgsql, in a statement that changed the settings with SET LOCAL, at the top
-- level and in a transaction block; the abort gives back the session's.
DO $$
BEGIN
    PERFORM regress.set_other_settings(true);
    PERFORM count(*) FROM pg_logical_slot_get_changes('os_slot', NULL, NULL);
END
$$;
SELECT regress.session_settings();
BEGIN;
SELECT regress.set_other_settings(true);
DO $$
BEGIN
    PERFORM count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL);
END
$$;
ROLLBACK;
SELECT regress.session_settings();
\set VERBOSITY default
-- 3. Inside a subtransaction that changed the settings (a plpgsql EXCEPTION block, a savepoint):
-- its rollback gives back those from before it, the session's at the top level (the block used
-- SET) and the transaction's in a transaction block (SET LOCAL), which goes on and commits.
DO $$
BEGIN
    BEGIN
        PERFORM regress.set_inner_settings(false);
        PERFORM count(*) FROM pg_logical_slot_get_changes('os_slot', NULL, NULL);
    EXCEPTION WHEN internal_error THEN
        RAISE NOTICE 'decoding failed: SQLSTATE %', SQLSTATE;
    END;
    RAISE NOTICE 'after the block: %', regress.session_settings();
END
$$;
SELECT regress.session_settings();
BEGIN;
SELECT regress.set_other_settings(true);
DO $$
BEGIN
    BEGIN
        PERFORM regress.set_inner_settings(true);
        PERFORM count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL);
    EXCEPTION WHEN internal_error THEN
        RAISE NOTICE 'decoding failed: SQLSTATE %', SQLSTATE;
    END;
    RAISE NOTICE 'after the block: %', regress.session_settings();
END
$$;
SELECT regress.session_settings();
COMMIT;
SELECT regress.session_settings();
-- The same with a savepoint, called directly.
BEGIN;
SELECT regress.set_other_settings(true);
SAVEPOINT before_call;
SELECT regress.set_inner_settings(true);
\set VERBOSITY sqlstate
SELECT count(*) FROM pg_logical_slot_get_changes('os_slot', NULL, NULL);
\set VERBOSITY default
ROLLBACK TO SAVEPOINT before_call;
SELECT regress.session_settings();
COMMIT;
SELECT regress.session_settings();
-- 4. Success, in a transaction that changed the settings, called directly and in an EXCEPTION
-- block: the transaction's settings after the call, the session's after COMMIT.
BEGIN;
SELECT regress.set_other_settings(true);
SELECT count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL, 'shapes', 'os_every');
SELECT regress.session_settings();
DO $$
BEGIN
    BEGIN
        PERFORM count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL, 'shapes', 'os_every');
    EXCEPTION WHEN internal_error THEN
        RAISE NOTICE 'decoding failed: SQLSTATE %', SQLSTATE;
    END;
    RAISE NOTICE 'after the block: %', regress.session_settings();
END
$$;
COMMIT;
SELECT regress.session_settings();
-- 5. A cancel (statement_timeout) inside a slow filter: factorial(30000) takes seconds and checks
-- for interrupts. Called directly in a transaction block, and from plpgsql at the top level and
-- in an EXCEPTION block.
SELECT electric_shapes.create_shape('os_slow', 'os_rows', 'factorial(n) > 0');
UPDATE os_rows SET n = 30000;
\set VERBOSITY sqlstate
BEGIN;
SELECT regress.set_other_settings(true);
SET LOCAL statement_timeout = '300ms';
SELECT count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL, 'shapes', 'os_slow');
ROLLBACK;
SELECT regress.session_settings();
SET statement_timeout = '300ms';
DO $$
BEGIN
    PERFORM regress.set_other_settings(true);
    PERFORM count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL, 'shapes', 'os_slow');
END
$$;
RESET statement_timeout;
SELECT regress.session_settings();
\set VERBOSITY default
BEGIN;
SELECT regress.set_other_settings(true);
SET LOCAL statement_timeout = '300ms';
DO $$
BEGIN
    BEGIN
        PERFORM regress.set_inner_settings(true);
        PERFORM count(*) FROM pg_logical_slot_peek_changes('os_slot', NULL, NULL, 'shapes', 'os_slow');
    EXCEPTION WHEN query_canceled THEN
        RAISE NOTICE 'decoding cancelled: SQLSTATE %', SQLSTATE;
    END;
    RAISE NOTICE 'after the block: %', regress.session_settings();
END
$$;
COMMIT;
SELECT regress.session_settings();

SELECT pg_drop_replication_slot('os_slot');
SELECT count(electric_shapes.drop_shape(name)) FROM electric_shapes.shapes WHERE name LIKE 'os\_%';
DROP TABLE os_rows;
DROP FUNCTION regress.session_settings();
DROP FUNCTION regress.set_other_settings(boolean);
DROP FUNCTION regress.set_inner_settings(boolean);
