-- shape_access: may the current user sync a shape? Decided from the analysed filter and the
-- table's policies: owner pinned / not pinned / pinned to someone else / an OR escape, a cast
-- and hostile text; membership by = and IN, including a key the user is not a member of; no
-- row-level security with and without SELECT; row-level security of another kind refused; and
-- the errors for wrong arguments.

CREATE SCHEMA access_demo;
SET search_path = access_demo, public;
CREATE ROLE regress_access_app;
GRANT USAGE ON SCHEMA access_demo TO regress_access_app;

CREATE TABLE notes (id bigint PRIMARY KEY, owner_id text NOT NULL, body text);
CREATE TABLE devices (id uuid PRIMARY KEY, owner_id uuid NOT NULL);
CREATE TABLE conversations (id bigint PRIMARY KEY, title text NOT NULL);
CREATE TABLE memberships (conversation_id bigint NOT NULL, user_id text NOT NULL,
                          PRIMARY KEY (conversation_id, user_id));
CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id bigint NOT NULL, body text NOT NULL);
CREATE TABLE announcements (id bigint PRIMARY KEY, body text);      -- no RLS, granted
CREATE TABLE salaries (id bigint PRIMARY KEY, amount numeric);      -- no RLS, not granted
CREATE TABLE guarded (id bigint PRIMARY KEY, owner_id text);        -- RLS of another kind
CREATE TABLE tightened (id bigint PRIMARY KEY, owner_id text, hidden boolean);  -- plus a restrictive policy
INSERT INTO memberships VALUES (1, 'alice'), (2, 'alice'), (2, 'bob'), (3, 'bob');

SELECT electric_shapes.enable_owner_rls('notes', 'owner_id');
SELECT electric_shapes.enable_owner_rls('devices', 'owner_id');
SELECT electric_shapes.enable_owner_rls('memberships', 'user_id', commands => '{select}');
SELECT electric_shapes.enable_membership_rls('messages', 'conversation_id', 'memberships',
                                             'conversation_id', 'user_id');
SELECT electric_shapes.enable_owner_rls('tightened', 'owner_id');
ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_sees_all ON guarded FOR SELECT USING (owner_id IS NOT NULL OR true);
CREATE POLICY not_hidden ON tightened AS RESTRICTIVE FOR SELECT USING (NOT hidden);
GRANT SELECT ON notes, devices, memberships, messages, announcements, guarded, tightened
    TO regress_access_app;

-- One question as alice (or as the user given), in a transaction of its own.
CREATE FUNCTION pg_temp.ask(relation text, where_clause text, sub text DEFAULT 'alice',
                            columns text[] DEFAULT NULL)
RETURNS TABLE (allowed boolean, reason text, hint text, depends_on regclass[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM electric_shapes.set_claims(CASE WHEN sub IS NULL THEN NULL
                                            ELSE jsonb_build_object('sub', sub) END);
    SET LOCAL ROLE regress_access_app;
    RETURN QUERY SELECT * FROM electric_shapes.shape_access(relation::regclass, where_clause, columns);
    RESET ROLE;
    PERFORM electric_shapes.set_claims(NULL);
END
$$;
\pset format unaligned
\pset tuples_only on
\pset recordsep '\n--\n'

-- Owner: pinned to the user; pinned by IN; pinned and ANDed with anything; a cast the parser folds.
SELECT * FROM pg_temp.ask('notes', $$owner_id = 'alice'$$);
SELECT * FROM pg_temp.ask('notes', $$'alice' = owner_id AND body LIKE '%x%'$$);
SELECT * FROM pg_temp.ask('notes', $$owner_id IN ('alice', 'alice') AND id > 3$$);
SELECT * FROM pg_temp.ask('devices', $$owner_id = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'$$,
                          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
-- Not pinned: no filter, a comparison that is not equality, an OR escape, the column behind a
-- function, hostile text that only looks like a pin.
SELECT * FROM pg_temp.ask('notes', NULL);
SELECT * FROM pg_temp.ask('notes', $$owner_id >= 'alice'$$);
SELECT * FROM pg_temp.ask('notes', $$owner_id = 'alice' OR true$$);
SELECT * FROM pg_temp.ask('notes', $$(owner_id = 'alice' OR id > 0) AND id > 0$$);
SELECT * FROM pg_temp.ask('notes', $$lower(owner_id) = 'alice'$$);
SELECT * FROM pg_temp.ask('notes', $$body = 'owner_id = ''alice''' /* AND owner_id = 'alice' */$$);
-- Pinned to someone else, alone or among the user's own.
SELECT * FROM pg_temp.ask('notes', $$owner_id = 'bob'$$);
SELECT * FROM pg_temp.ask('notes', $$owner_id IN ('alice', 'bob')$$);
-- No claims: nobody's rows.
SELECT * FROM pg_temp.ask('notes', $$owner_id = 'alice'$$, NULL);

-- Membership: by = and IN to the user's conversations; a conversation the user is not in; a
-- list with one such; not pinned; an OR escape; bob's view of the same shapes.
SELECT * FROM pg_temp.ask('messages', 'conversation_id = 1');
SELECT * FROM pg_temp.ask('messages', 'conversation_id IN (1, 2) AND id > 10');
SELECT * FROM pg_temp.ask('messages', $$conversation_id = '2'::bigint$$);
SELECT * FROM pg_temp.ask('messages', 'conversation_id = 3');
SELECT * FROM pg_temp.ask('messages', 'conversation_id IN (1, 3)');
SELECT * FROM pg_temp.ask('messages', 'id > 0');
SELECT * FROM pg_temp.ask('messages', 'conversation_id = 1 OR conversation_id = 3');
SELECT * FROM pg_temp.ask('messages', 'conversation_id = 3', 'bob');
-- Membership is read now: removing alice from conversation 1 takes it away.
DELETE FROM memberships WHERE conversation_id = 1 AND user_id = 'alice';
SELECT * FROM pg_temp.ask('messages', 'conversation_id = 1');
INSERT INTO memberships VALUES (1, 'alice');

-- No row-level security: SELECT decides; column privileges are enough for the columns read.
SELECT * FROM pg_temp.ask('announcements', NULL);
SELECT * FROM pg_temp.ask('salaries', 'id = 1');
GRANT SELECT (id) ON salaries TO regress_access_app;
SELECT * FROM pg_temp.ask('salaries', 'id = 1', 'alice', '{id}');
SELECT * FROM pg_temp.ask('salaries', 'id = 1', 'alice', '{id,amount}');
-- Row-level security of another kind, and an owner policy with a restrictive one beside it.
SELECT * FROM pg_temp.ask('guarded', $$owner_id = 'alice'$$);
SELECT * FROM pg_temp.ask('tightened', $$owner_id = 'alice'$$);
-- The table's owner is not under row-level security here.
SELECT allowed, reason FROM electric_shapes.shape_access('notes', NULL);

-- Wrong arguments are errors, as create_shape gives them, with their SQLSTATE and hint.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
    state text;
    message text;
    hint text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || CASE WHEN hint <> '' THEN E'\n    hint: ' || hint ELSE '' END;
END
$f$;
\pset recordsep '\n'
SELECT pg_temp.try($$SELECT electric_shapes.shape_access(NULL)$$);
SELECT pg_temp.try($$SELECT electric_shapes.shape_access('notes', 'owner_id = ')$$);
SELECT pg_temp.try($$SELECT electric_shapes.shape_access('notes', 'owner_id = now()::text')$$);
SELECT pg_temp.try($$SELECT electric_shapes.shape_access('notes', ' ')$$);
SELECT pg_temp.try($$SELECT electric_shapes.shape_access('notes', NULL, '{nope}')$$);
CREATE VIEW note_view AS SELECT * FROM notes;
SELECT pg_temp.try($$SELECT electric_shapes.shape_access('note_view', NULL)$$);
SELECT pg_temp.try($$SELECT electric_shapes.shape_access('no_such_table', NULL)$$);

-- The regression tests share one database: leave it as it was found.
\pset format aligned
\pset tuples_only off
RESET search_path;
DROP SCHEMA access_demo CASCADE;
DROP ROLE regress_access_app;
