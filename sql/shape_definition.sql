-- Shape definitions (SPEC section 2): create_shape, drop_shape, the shapes view, and every
-- refused definition with its error.
\set VERBOSITY default
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id int NOT NULL, author_id bigint,
                       body text, payload jsonb, sent_at timestamptz DEFAULT now());
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);
CREATE TABLE statuses (id int PRIMARY KEY, mood mood, level positive_int, tags text[]);

-- Accepted definitions.
SELECT electric_shapes.create_shape('conv_42', 'messages', 'conversation_id = 42');
SELECT electric_shapes.create_shape('all_users', 'users');
SELECT electric_shapes.create_shape('user_names', 'users', columns => ARRAY['name']);
SELECT electric_shapes.create_shape('by-author', 'messages', 'author_id IN (1, 2, 3) AND body IS NOT NULL');
SELECT electric_shapes.create_shape('jsonb_kind', 'messages', $$payload->>'kind' = 'note' OR payload @> '{"pinned": true}'$$);
SELECT electric_shapes.create_shape('happy', 'statuses', $$mood = 'happy' AND level > 2$$);
SELECT electric_shapes.create_shape('tagged', 'statuses', $$'red' = ANY (tags) OR coalesce(level, 0) BETWEEN 1 AND 5$$);
SELECT electric_shapes.create_shape('cased', 'messages', $$CASE WHEN conversation_id > 10 THEN body LIKE 'a%' ELSE false END$$);
SELECT electric_shapes.create_shape('full_users', 'users', replica => 'full');
SELECT name, relation, where_clause, columns, replica, owner = current_user::regrole AS mine, broken
  FROM electric_shapes.shapes ORDER BY name;
SELECT relname, relreplident FROM pg_class WHERE relname IN ('users', 'messages', 'statuses') ORDER BY 1;

-- Refused: names.
SELECT electric_shapes.create_shape('conv_42', 'messages');
SELECT electric_shapes.create_shape('bad name', 'messages');
SELECT electric_shapes.create_shape('', 'messages');
SELECT electric_shapes.create_shape(repeat('x', 64), 'messages');
SELECT electric_shapes.create_shape(NULL, 'messages');
SELECT electric_shapes.create_shape('no_relation', NULL);

-- Refused: relations.
CREATE VIEW message_view AS SELECT * FROM messages;
CREATE TEMP TABLE scratch (id int PRIMARY KEY);
CREATE UNLOGGED TABLE fast (id int PRIMARY KEY);
CREATE TABLE keyless (id int, body text);
CREATE MATERIALIZED VIEW message_counts AS SELECT conversation_id, count(*) FROM messages GROUP BY 1;
SELECT electric_shapes.create_shape('v', 'message_view');
SELECT electric_shapes.create_shape('t', 'scratch');
SELECT electric_shapes.create_shape('u', 'fast');
SELECT electric_shapes.create_shape('k', 'keyless');
SELECT electric_shapes.create_shape('m', 'message_counts');
SELECT electric_shapes.create_shape('c', 'pg_class');
SELECT electric_shapes.create_shape('e', 'electric_shapes.shape_catalog');
SELECT electric_shapes.create_shape('missing', 'no_such_table');

-- Refused: columns and replica.
SELECT electric_shapes.create_shape('x', 'messages', columns => ARRAY['nope']);
SELECT electric_shapes.create_shape('x', 'messages', columns => ARRAY['body', 'body']);
SELECT electric_shapes.create_shape('x', 'messages', columns => ARRAY['ctid']);
SELECT electric_shapes.create_shape('x', 'messages', columns => ARRAY[NULL]);
SELECT electric_shapes.create_shape('x', 'messages', replica => 'partial');

-- Refused: where clauses.
SELECT electric_shapes.create_shape('x', 'messages', 'conversation_id IN (SELECT 1)');
SELECT electric_shapes.create_shape('x', 'messages', 'EXISTS (SELECT 1 FROM users)');
SELECT electric_shapes.create_shape('x', 'messages', 'count(*) > 1');
SELECT electric_shapes.create_shape('x', 'messages', 'row_number() OVER () > 1');
SELECT electric_shapes.create_shape('x', 'messages', 'generate_series(1, 2) > 1');
SELECT electric_shapes.create_shape('x', 'messages', 'sent_at < now()');
SELECT electric_shapes.create_shape('x', 'messages', 'random() < 0.5');
SELECT electric_shapes.create_shape('x', 'messages', 'ctid = ''(0,1)''');
SELECT electric_shapes.create_shape('x', 'messages', 'xmin::text = ''1''');
SELECT electric_shapes.create_shape('x', 'messages', 'body::int > 1');
SELECT electric_shapes.create_shape('x', 'messages', $$payload['kind'] = '"a"'$$);
SELECT electric_shapes.create_shape('x', 'statuses', 'level = 3::positive_int');
SELECT electric_shapes.create_shape('x', 'messages', 'conversation_id = $1');
SELECT electric_shapes.create_shape('x', 'messages', 'true) or (select 1');
SELECT electric_shapes.create_shape('x', 'messages', '1=1; drop table users');
SELECT electric_shapes.create_shape('x', 'messages', 'true order by 1');
SELECT electric_shapes.create_shape('x', 'messages', 'true union select 1');
SELECT electric_shapes.create_shape('x', 'messages', 'true group by 1');
SELECT electric_shapes.create_shape('x', 'messages', 'true limit 1');
SELECT electric_shapes.create_shape('x', 'messages', 'true for update');
SELECT electric_shapes.create_shape('commented', 'messages', 'true -- a comment');
SELECT electric_shapes.create_shape('x', 'messages', '');
SELECT electric_shapes.create_shape('x', 'messages', 'body');
SELECT electric_shapes.create_shape('x', 'messages', 'no_such_column = 1');
SELECT electric_shapes.create_shape('x', 'messages', 'users.id = 1');
SELECT electric_shapes.create_shape('x', 'messages', 'messages = messages');
CREATE FUNCTION always(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
SELECT electric_shapes.create_shape('x', 'messages', 'always(conversation_id)');
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq);
SELECT electric_shapes.create_shape('x', 'messages', 'conversation_id === 1');
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs (id int PRIMARY KEY, p pair);
SELECT electric_shapes.create_shape('x', 'pairs', 'p = ROW(1, 2)::pair');
SELECT electric_shapes.create_shape('collate_c', 'messages', 'body COLLATE "C" > ''a''');
CREATE COLLATION my_collation (provider = libc, locale = 'C');
SELECT electric_shapes.create_shape('x', 'messages', 'body COLLATE my_collation > ''a''');
-- Nothing in the text ran: the users table is still there.
SELECT count(*) FROM users;

-- Replica identity: set with a NOTICE for the owner, refused for others.
CREATE TABLE rooms (id int PRIMARY KEY, topic text);
SELECT electric_shapes.create_shape('topic_x', 'rooms', $$topic = 'x'$$);
SELECT relreplident FROM pg_class WHERE relname = 'rooms';
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE ROLE shape_reader;
GRANT SELECT ON notes, rooms TO shape_reader;
SET ROLE shape_reader;
SELECT electric_shapes.create_shape('notes_by_id', 'notes', 'id < 10');
SELECT electric_shapes.create_shape('notes_body', 'notes', $$body = 'x'$$);
SELECT electric_shapes.create_shape('secret', 'users');
-- The catalog is written through the API only.
INSERT INTO electric_shapes.shape_catalog (name, relation, replica, owner) VALUES ('sneaky', 'users'::regclass, 'default', 10);
DELETE FROM electric_shapes.shape_catalog;
SELECT electric_shapes.drop_shape('conv_42');
RESET ROLE;

-- Drops.
SELECT electric_shapes.drop_shape('notes_by_id');
SELECT electric_shapes.drop_shape('notes_by_id');
SELECT electric_shapes.drop_shape('notes_by_id', if_exists => true);
DROP TABLE statuses;
SELECT name FROM electric_shapes.shapes ORDER BY name;

-- The view's columns are what the stream sends, in the order it sends them: the listed columns
-- and the primary key's (here a composite key, not first, its columns not listed), in table order;
-- every column for a shape that lists none. The stream's value objects, read as json (which keeps
-- the order of keys), have the same keys in the same order.
CREATE TABLE ordered (b text, region int, a int, id int, note text, PRIMARY KEY (region, id));
SELECT electric_shapes.create_shape('ordered_some', 'ordered', columns => ARRAY['note', 'a']);
SELECT electric_shapes.create_shape('ordered_all', 'ordered');
SELECT name, columns FROM electric_shapes.shapes WHERE name LIKE 'ordered%' ORDER BY name;
SELECT 'init' FROM pg_create_logical_replication_slot('ordered_slot', 'electric_shapes');
INSERT INTO ordered VALUES ('b1', 7, 1, 2, 'n1');
SELECT s.name, array_agg(k ORDER BY o) AS sent, array_agg(k ORDER BY o) = s.columns AS same
  FROM pg_logical_slot_get_changes('ordered_slot', NULL, NULL) c,
       json_object_keys(c.data::json -> 'value') WITH ORDINALITY AS keys(k, o),
       electric_shapes.shapes s
 WHERE s.name = (c.data::json -> 'headers' -> 'shapes' ->> 0)
 GROUP BY s.name, s.columns ORDER BY s.name;
SELECT pg_drop_replication_slot('ordered_slot');

-- Clean up for the tests that follow.
DO $$ BEGIN PERFORM electric_shapes.drop_shape(name) FROM electric_shapes.shapes; END $$;
DROP TABLE users, messages, rooms, notes, pairs, keyless, fast, ordered CASCADE;
DROP ROLE shape_reader;
