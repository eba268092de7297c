-- Row-level security for a chat schema through enable_owner_rls and enable_membership_rls: two
-- users see exactly their own conversations, a session without claims sees nothing, the helpers
-- can run again, and wrong arguments are refused.

CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE conversations (id bigint PRIMARY KEY, title text NOT NULL);
CREATE TABLE conversation_members (
    conversation_id bigint NOT NULL REFERENCES conversations,
    user_id text NOT NULL REFERENCES users,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX ON conversation_members (user_id, conversation_id);
CREATE TABLE messages (
    id bigint PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations,
    author_id text NOT NULL REFERENCES users,
    body text NOT NULL
);
INSERT INTO users VALUES ('alice', 'Alice'), ('bob', 'Bob'), ('carol', 'Carol');
INSERT INTO conversations VALUES (1, 'alice and carol'), (2, 'everyone'), (3, 'bob and carol');
INSERT INTO conversation_members VALUES
    (1, 'alice'), (1, 'carol'), (2, 'alice'), (2, 'bob'), (2, 'carol'), (3, 'bob'), (3, 'carol');
INSERT INTO messages VALUES
    (10, 1, 'alice', 'hi carol'), (11, 1, 'carol', 'hi alice'),
    (20, 2, 'bob', 'hello all'), (21, 2, 'alice', 'hey'),
    (30, 3, 'carol', 'psst bob');

-- The policies: a user reads and writes their own memberships; members see a conversation and
-- its messages, and post, edit and delete only their own messages.
SELECT electric_shapes.enable_owner_rls('users', 'id', commands => '{select,update}');
SELECT electric_shapes.enable_owner_rls('conversation_members', 'user_id', commands => '{select}');
SELECT electric_shapes.enable_membership_rls('conversations', 'id', 'conversation_members',
                                             'conversation_id', 'user_id', commands => '{select}');
SELECT electric_shapes.enable_membership_rls('messages', 'conversation_id', 'conversation_members',
                                             'conversation_id', 'user_id');
SELECT electric_shapes.enable_owner_rls('messages', 'author_id', commands => '{insert,update,delete}',
                                        restrictive => true);

SELECT tablename, policyname, permissive, cmd, qual, with_check
  FROM pg_policies WHERE schemaname = 'public' ORDER BY tablename, policyname;
SELECT relname, relrowsecurity, relforcerowsecurity
  FROM pg_class WHERE relname IN ('users', 'conversations', 'conversation_members', 'messages')
 ORDER BY relname;

-- A shape of every message: what shape_snapshot returns of it depends on who asks.
SELECT electric_shapes.create_shape('chat_messages', 'messages');

-- The application's role: not the tables' owner, no BYPASSRLS.
CREATE ROLE regress_chat_app NOBYPASSRLS;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, conversations, conversation_members, messages
   TO regress_chat_app;
SET ROLE regress_chat_app;

-- Without claims nothing is visible, through a shape's snapshot neither.
SELECT count(*) FROM messages;
SELECT count(*) FROM electric_shapes.shape_snapshot('chat_messages') m
 WHERE m::jsonb->'headers'->>'operation' = 'insert';
SELECT count(*) FROM conversations;
SELECT count(*) FROM conversation_members;

-- set_claims needs a grant (authenticate, which needs a signed token, does not).
SELECT electric_shapes.set_claims('{"sub":"alice"}');
RESET ROLE;
GRANT EXECUTE ON FUNCTION electric_shapes.set_claims(jsonb) TO regress_chat_app;
SET ROLE regress_chat_app;
-- Alice sees conversations 1 and 2.
BEGIN;
SELECT electric_shapes.set_claims('{"sub":"alice"}');
SELECT id, conversation_id, author_id, body FROM messages ORDER BY id;
-- The shape's snapshot holds exactly the same messages.
SELECT m::jsonb->>'key' AS key FROM electric_shapes.shape_snapshot('chat_messages') m
 WHERE m::jsonb->'headers'->>'operation' = 'insert' ORDER BY 1;
SELECT id, title FROM conversations ORDER BY id;
SELECT * FROM conversation_members ORDER BY conversation_id;
SELECT * FROM users;
-- Alice posts in her conversation, as herself.
INSERT INTO messages VALUES (12, 1, 'alice', 'see you');
-- Not as someone else, nor into a conversation she is not in.
SAVEPOINT s;
INSERT INTO messages VALUES (13, 1, 'carol', 'forged');
ROLLBACK TO s;
INSERT INTO messages VALUES (31, 3, 'alice', 'intruding');
ROLLBACK TO s;
-- She edits and deletes only her own messages: carol's and bob's are untouched.
UPDATE messages SET body = body || '!' WHERE conversation_id IN (1, 2) RETURNING id, body;
DELETE FROM messages WHERE id IN (11, 20, 21, 30) RETURNING id;
-- And cannot move a message to a conversation she is not in.
SAVEPOINT t;
UPDATE messages SET conversation_id = 3 WHERE id = 12;
ROLLBACK TO t;
-- Nor rename another user.
UPDATE users SET name = 'Robert' WHERE id = 'bob' RETURNING id;
COMMIT;

-- Bob, authenticated by a token (sub bob, exp 2100-01-01), sees conversations 2 and 3, without
-- the message alice deleted.
BEGIN;
SELECT electric_shapes.authenticate(
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJleHAiOjQxMDI0NDQ4MDB9.ytkqZpqyeYryuKC5Xm6ycuOrLO9mmzxCHtZy_IAl7uQ',
    'chat-secret-0123456789-abcdefghij') ->> 'sub' AS authenticated;
SELECT id, conversation_id, author_id, body FROM messages ORDER BY id;
SELECT m::jsonb->>'key' AS key FROM electric_shapes.shape_snapshot('chat_messages') m
 WHERE m::jsonb->'headers'->>'operation' = 'insert' ORDER BY 1;
SELECT id, title FROM conversations ORDER BY id;
COMMIT;

-- After the transaction the claims are gone, and so are the rows.
SELECT count(*) FROM messages;
-- A user who is in no conversation sees nothing.
BEGIN;
SELECT electric_shapes.set_claims('{"sub":"mallory"}');
SELECT count(*) FROM messages;
COMMIT;
RESET ROLE;

-- The claims are read once per statement: an InitPlan, and a hashed subplan for membership.
SET enable_seqscan = off;
SET ROLE regress_chat_app;
EXPLAIN (COSTS OFF) SELECT * FROM messages;
RESET ROLE;
RESET enable_seqscan;

-- Running a helper again replaces its policies; fewer commands drop the others.
SELECT electric_shapes.enable_membership_rls('messages', 'conversation_id', 'conversation_members',
                                             'conversation_id', 'user_id');
SELECT electric_shapes.enable_owner_rls('messages', 'author_id', commands => '{insert,update,delete}',
                                        restrictive => true);
SELECT policyname, permissive, cmd FROM pg_policies WHERE tablename = 'messages' ORDER BY policyname;
SELECT electric_shapes.enable_owner_rls('messages', 'author_id', commands => '{insert}', restrictive => true);
SELECT policyname, permissive, cmd FROM pg_policies WHERE tablename = 'messages' ORDER BY policyname;

-- A uuid owner column: the sub claim is cast once per statement.
CREATE TABLE devices (id int PRIMARY KEY, owner uuid NOT NULL);
INSERT INTO devices VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (2, 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12');
SELECT electric_shapes.enable_owner_rls('devices', 'owner', commands => '{select}');
SELECT qual FROM pg_policies WHERE tablename = 'devices';
GRANT SELECT ON devices TO regress_chat_app;
SET ROLE regress_chat_app;
BEGIN;
SELECT electric_shapes.set_claims('{"sub":"b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"}');
SELECT * FROM devices;
COMMIT;
RESET ROLE;

-- Wrong arguments, each shown as SQLSTATE, message and hint.
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
\pset format unaligned
\pset tuples_only on
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('messages', 'writer')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('messages', 'ctid')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('messages', NULL)$$);
CREATE TABLE notes (id int PRIMARY KEY, owner jsonb, topic uuid);
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('notes', 'owner')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_membership_rls('notes', 'topic', 'conversation_members', 'conversation_id', 'user_id')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_membership_rls('messages', 'conversation_id', 'conversation_members', 'conversation', 'user_id')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_membership_rls('messages', 'conversation_id', 'conversation_members', 'conversation_id', 'member')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_membership_rls('conversation_members', 'conversation_id', 'conversation_members', 'conversation_id', 'user_id')$$);
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('messages', 'author_id', commands => '{select,upsert}')$$);
CREATE VIEW my_messages AS SELECT * FROM messages;
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('my_messages', 'author_id')$$);
-- A role that does not own the table cannot enable policies on it.
SET ROLE regress_chat_app;
SELECT pg_temp.try($$SELECT electric_shapes.enable_owner_rls('notes', 'id')$$);
RESET ROLE;

DROP OWNED BY regress_chat_app;
DROP ROLE regress_chat_app;

-- The regression tests share one database: leave it as it was found.
\pset format aligned
\pset tuples_only off
DROP VIEW my_messages;
DROP TABLE messages, conversation_members, conversations, users, devices, notes;
