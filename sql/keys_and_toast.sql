-- Keys (composite, escaped, non-ASCII) and TOAST: unchanged values are never sent as anything
-- but their real value; without REPLICA IDENTITY FULL they are omitted from updates, and a
-- move-in that would need one becomes must-refetch (SPEC section 3).
\pset format unaligned
\pset tuples_only on
CREATE SCHEMA "odd ""schema""";
CREATE TABLE "odd ""schema""".members (room text, "user" text, role text, PRIMARY KEY (room, "user"));
SELECT electric_shapes.create_shape('members', '"odd ""schema""".members');
SELECT 'init' FROM pg_create_logical_replication_slot('keys', 'electric_shapes');
INSERT INTO "odd ""schema""".members VALUES
  ('a/b', 'c//d', 'x'), ('_', '"quoted"', 'y'), ('é/😀', E'back\\slash', 'z'), ('', ' ', 'w');
UPDATE "odd ""schema""".members SET "user" = 'new/user' WHERE room = 'a/b';
DELETE FROM "odd ""schema""".members WHERE room = '_';
SELECT * FROM regress.changes('keys');

-- TOAST with REPLICA IDENTITY FULL: unchanged values come from the logged old row.
CREATE TABLE docs (id int PRIMARY KEY, topic int, title text, body text);
ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;  -- keep big values out of line, uncompressed
SELECT electric_shapes.create_shape('topic_1', 'docs', 'topic = 1');
INSERT INTO docs VALUES (1, 1, 'big', repeat('0123456789', 300)), (2, 2, 'other', repeat('abcdefghij', 300));
UPDATE docs SET title = 'still big' WHERE id = 1;            -- body unchanged, not sent (not changed)
UPDATE docs SET body = repeat('x', 3000) WHERE id = 1;       -- body changed: sent whole
UPDATE docs SET topic = 1 WHERE id = 2;                      -- move-in needs the unchanged body: from the old row
SELECT m->'headers'->>'operation' AS op, m->>'key' AS key,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(m->'value') k) AS value_columns,
       length(m->'value'->>'body') AS body_length, left(m->'value'->>'body', 12) AS body_start,
       m->'old_value' AS old_value
  FROM (SELECT data::jsonb AS m FROM pg_logical_slot_get_changes('keys', NULL, NULL)) c;

-- TOAST without REPLICA IDENTITY FULL (a shape filtering on the key only needs none).
CREATE TABLE pages (id int PRIMARY KEY, title text, body text);
ALTER TABLE pages ALTER COLUMN body SET STORAGE EXTERNAL;
SELECT electric_shapes.create_shape('low_pages', 'pages', 'id < 10');
SELECT electric_shapes.create_shape('low_titles', 'pages', 'id < 10', columns => ARRAY['title']);
SELECT relreplident FROM pg_class WHERE relname = 'pages';
INSERT INTO pages VALUES (1, 'one', repeat('p', 3000)), (20, 'twenty', repeat('q', 3000));
UPDATE pages SET title = 'one!' WHERE id = 1;     -- body unchanged and not in the WAL: omitted
UPDATE pages SET id = 2 WHERE id = 1;             -- key change: the insert needs body -> must-refetch; titles fine
UPDATE pages SET id = 3 WHERE id = 20;            -- moves in through its key: the same
SELECT regexp_replace(m, '(p{5})p+|(q{5})q+', '\1\2...', 'g') FROM regress.changes('keys') m;

SELECT pg_drop_replication_slot('keys');
DROP SCHEMA "odd ""schema""" CASCADE;
DROP TABLE docs, pages;
