-- The shape lifecycle in the stream (SPEC section 3): shapes known when the stream starts,
-- creations and drops followed in commit order and announced, dropping a table drops its
-- shapes, and a shape receives the changes of transactions that commit after its creation.
\pset format unaligned
\pset tuples_only on
CREATE TABLE events (id int PRIMARY KEY, kind text);
ALTER TABLE events REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('before_slot', 'events');
SELECT 'init' FROM pg_create_logical_replication_slot('life', 'electric_shapes');
INSERT INTO events VALUES (1, 'a');
-- Created after the slot: announced, then receives later transactions.
SELECT electric_shapes.create_shape('kind_b', 'events', $$kind = 'b'$$);
INSERT INTO events VALUES (2, 'b');
-- Created in the same transaction as a change: that transaction's changes are not its.
BEGIN;
INSERT INTO events VALUES (3, 'c');
SELECT electric_shapes.create_shape('kind_c', 'events', $$kind = 'c'$$);
INSERT INTO events VALUES (4, 'c');
COMMIT;
INSERT INTO events VALUES (5, 'c');
-- Dropped: announced; later changes no longer reach it.
SELECT electric_shapes.drop_shape('kind_b');
INSERT INTO events VALUES (6, 'b');
-- Created and dropped in one transaction: created, then dropped, in that order.
BEGIN;
SELECT electric_shapes.create_shape('fleeting', 'events');
SELECT electric_shapes.drop_shape('fleeting');
COMMIT;
-- Re-created under the same name with another filter.
BEGIN;
SELECT electric_shapes.drop_shape('kind_c');
SELECT electric_shapes.create_shape('kind_c', 'events', $$kind = 'd'$$);
COMMIT;
INSERT INTO events VALUES (7, 'c'), (8, 'd');
-- A rolled-back creation is never seen.
BEGIN;
SELECT electric_shapes.create_shape('never', 'events');
ROLLBACK;
INSERT INTO events VALUES (9, 'x');
-- Dropping the table drops its shapes, announced in the dropping transaction.
DROP TABLE events;
SELECT * FROM regress.changes('life');
-- Each call decodes as a new stream: shapes load as of its first commit, and a creation it
-- decodes is still announced.
CREATE TABLE events (id int PRIMARY KEY, kind text);
SELECT electric_shapes.create_shape('again', 'events');
INSERT INTO events VALUES (1, 'a');
SELECT * FROM regress.changes('life');
SELECT name FROM electric_shapes.shapes;
SELECT pg_drop_replication_slot('life');
DROP TABLE events;

-- A stream selecting a few shapes among many looks them up by name (the catalog's primary key)
-- instead of reading the whole catalog; it must see the catalog as of its first decoded
-- transaction all the same: a shape created later is announced, not known from the start.
CREATE TABLE notes (id int PRIMARY KEY, topic int);
SELECT count(electric_shapes.create_shape('filler_' || g, 'notes', 'topic = ' || g)) FROM generate_series(1, 60) g;
SELECT electric_shapes.create_shape('early', 'notes', 'topic = 100');
SELECT 'init' FROM pg_create_logical_replication_slot('by_name', 'electric_shapes');
INSERT INTO notes VALUES (1, 100), (2, 200);
SELECT electric_shapes.create_shape('late', 'notes', 'topic = 200');
INSERT INTO notes VALUES (3, 200);
SELECT electric_shapes.drop_shape('early');
INSERT INTO notes VALUES (4, 100);
-- Two names are looked up, 62 read with the whole catalog (more names than it has pages).
SELECT pg_relation_size('electric_shapes.shape_catalog') / 8192 BETWEEN 2 AND 61 AS catalog_pages_between;
CREATE FUNCTION pg_temp.peek(shapes text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(data, '"lsn":"[0-9]+"', '"lsn":"L"', 'g'), '"txids":\[[0-9]+\]', '"txids":[T]', 'g')
      FROM pg_logical_slot_peek_changes('by_name', NULL, NULL, 'shapes', shapes) $$;
SELECT * FROM pg_temp.peek('early,late');
SELECT array(SELECT pg_temp.peek('early,late')) =
       array(SELECT pg_temp.peek('early,late,' || (SELECT string_agg('filler_' || g, ',') FROM generate_series(1, 60) g)))
       AS same_stream_either_way;
SELECT pg_drop_replication_slot('by_name');
DROP TABLE notes;
