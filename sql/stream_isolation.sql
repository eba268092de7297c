-- Errors are isolated to the shape they belong to, and only errors about data are survived.
--  1. create_shape refuses a filter whose constant parts fail (1/0, overflow, sqrt(-1)), with the
--     underlying SQLSTATE, as the stream would fail to plan it.
--  2. In the stream, a shape whose filter cannot be planned, whose index constants cannot be read
--     or (at the end, in a WIN1252 database) one of whose values cannot be rendered gets one
--     must-refetch naming the cause, a WARNING and a filter_errors count, and nothing after;
--     the other shapes and tables go on.
--  3. A cancel (statement_timeout) inside a slow filter is not "no match": the call fails and the
--     slot does not move past the rows.
--  4. Dropping or replacing a shaped table's primary key breaks its shapes (must-refetch, health).
\pset format unaligned
\pset tuples_only on
CREATE TABLE items (id int PRIMARY KEY, n int, d date, body text);
ALTER TABLE items REPLICA IDENTITY FULL;

-- 1. Constant folding at definition time: each refused with the error of the expression.
SELECT electric_shapes.create_shape('div_zero', 'items', 'n > 1/0');
\echo :LAST_ERROR_SQLSTATE
SELECT electric_shapes.create_shape('overflow', 'items', 'n = 2147483647 + 1');
\echo :LAST_ERROR_SQLSTATE
SELECT electric_shapes.create_shape('sqrt_negative', 'items', 'n > sqrt(-1)');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM electric_shapes.shapes;
-- A constant part that folds fine is accepted; the row-dependent part is left to each row.
SELECT electric_shapes.create_shape('folds', 'items', 'n > 10 / 2 AND 100 / n > 1');

-- 2. Failures of one shape in the stream. A catalog written by an older version can hold a
-- filter that does not plan: simulated here by editing the catalog (as a superuser) after
-- create_shape. The text of the index constants is for reading only: the stream hashes the
-- constants of the stored filter, so a text that does not read back changes nothing.
SELECT electric_shapes.create_shape('every_item', 'items');
SELECT electric_shapes.create_shape('plan_fails', 'items', 'n > 7 / 1');
SELECT electric_shapes.create_shape('index_text_ignored', 'items', 'n = 3');
UPDATE electric_shapes.shape_catalog
   SET filter_node = replace(filter_node, ':constvalue 4 [ 1 0 0 0 0 0 0 0 ]', ':constvalue 4 [ 0 0 0 0 0 0 0 0 ]')
 WHERE name = 'plan_fails';
UPDATE electric_shapes.shape_catalog SET index_values = '{three}' WHERE name = 'index_text_ignored';
SELECT 'init' FROM pg_create_logical_replication_slot('isolation', 'electric_shapes');
INSERT INTO items VALUES (1, 3, '2026-01-01', 'a'), (2, 20, '2026-01-02', 'b');
UPDATE items SET n = 30 WHERE id = 2;
SELECT * FROM regress.changes('isolation');
-- Each failure counts as a filter error of its shape.
SELECT shape, filter_errors, must_refetches FROM electric_shapes.shape_stats
 WHERE slot_name = 'isolation' ORDER BY shape;
-- The failure is the stream's, not the catalog's: each new stream (each call of the SQL
-- interface is one) announces it again at the shape's first change, and sends nothing after.
INSERT INTO items VALUES (3, 3, '2026-01-03', 'c');
UPDATE items SET n = 3 WHERE id = 3;
SELECT * FROM regress.changes('isolation');
SELECT pg_drop_replication_slot('isolation');
SELECT electric_shapes.drop_shape(name) FROM electric_shapes.shapes ORDER BY name;
DELETE FROM items;

-- 3. statement_timeout inside a slow filter: factorial(30000) takes seconds (the largest that
-- fits numeric) and checks for interrupts, so the timeout fires inside the filter. The call
-- fails with the cancel, and the slot keeps the rows: read again without the slow shape, they
-- all come.
SELECT electric_shapes.create_shape('slow', 'items', 'factorial(n) > 0');
SELECT electric_shapes.create_shape('fast', 'items');
SELECT 'init' FROM pg_create_logical_replication_slot('timeout', 'electric_shapes');
INSERT INTO items VALUES (1, 1, NULL, 'before');
INSERT INTO items VALUES (2, 30000, NULL, 'slow');
INSERT INTO items VALUES (3, 1, NULL, 'after');
SET statement_timeout = '300ms';
\set VERBOSITY terse
SELECT * FROM regress.changes('timeout');
\set VERBOSITY default
RESET statement_timeout;
SELECT * FROM regress.changes('timeout', 'shapes', 'fast');
SELECT pg_drop_replication_slot('timeout');
SELECT electric_shapes.drop_shape(name) FROM electric_shapes.shapes ORDER BY name;
DROP TABLE items;

-- 4. The primary key of a shaped table dropped, or replaced by one of other columns.
CREATE TABLE keyed (id int PRIMARY KEY, code text NOT NULL, v int);
CREATE TABLE rekeyed (id int PRIMARY KEY, code text NOT NULL, v int);
SELECT electric_shapes.create_shape('keyed_all', 'keyed');
SELECT electric_shapes.create_shape('rekeyed_all', 'rekeyed');
SELECT electric_shapes.create_shape('rekeyed_v', 'rekeyed', columns => ARRAY['v']);
SELECT 'init' FROM pg_create_logical_replication_slot('keys', 'electric_shapes');
INSERT INTO keyed VALUES (1, 'a', 1);
INSERT INTO rekeyed VALUES (1, 'a', 1);
-- Rows written after the key is gone, in the same transaction, get no message with a bad key.
BEGIN;
ALTER TABLE keyed DROP CONSTRAINT keyed_pkey;
INSERT INTO keyed VALUES (2, 'b', 2);
COMMIT;
DELETE FROM keyed WHERE id = 1;
ALTER TABLE rekeyed DROP CONSTRAINT rekeyed_pkey, ADD PRIMARY KEY (code);
INSERT INTO rekeyed VALUES (2, 'b', 2);
SELECT * FROM regress.changes('keys');
SELECT name, broken FROM electric_shapes.shapes ORDER BY name;
SELECT status, detail FROM electric_shapes.health WHERE check_name = 'shape_definitions';
-- A new stream knows them broken from the catalog and sends nothing for them.
SELECT 'init' FROM pg_create_logical_replication_slot('keys_later', 'electric_shapes');
INSERT INTO keyed VALUES (3, 'c', 3);
UPDATE rekeyed SET v = 3;
SELECT * FROM regress.changes('keys_later');
SELECT pg_drop_replication_slot('keys');
SELECT pg_drop_replication_slot('keys_later');
DROP TABLE keyed, rekeyed;

-- 2, continued: a value that cannot be rendered. WIN1252 has no character for byte 0x81, so
-- that byte has no UTF-8 form: the shapes that send it fail, the shape that projects only the
-- key and the other table's shape go on.
SELECT current_database() AS regress_database \gset
CREATE DATABASE stream_isolation_win1252 ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c stream_isolation_win1252
SET client_min_messages = warning;
CREATE EXTENSION electric_shapes;
RESET client_min_messages;
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE TABLE others (id int PRIMARY KEY);
SELECT electric_shapes.create_shape('note_bodies', 'notes');
SELECT electric_shapes.create_shape('note_ids', 'notes', columns => ARRAY['id']);
SELECT electric_shapes.create_shape('every_other', 'others');
SELECT 'init' FROM pg_create_logical_replication_slot('win1252', 'electric_shapes');
INSERT INTO notes VALUES (1, 'fine');
INSERT INTO notes VALUES (2, 'byte ' || chr(129));
INSERT INTO others VALUES (1);
INSERT INTO notes VALUES (3, 'fine again');
SELECT regexp_replace(regexp_replace(data, '"lsn":"[0-9]+"', '"lsn":"L"'), '"txids":\[[0-9]+\]', '"txids":[T]')
  FROM pg_logical_slot_get_changes('win1252', NULL, NULL);
SELECT pg_drop_replication_slot('win1252');
\c :regress_database
DROP DATABASE stream_isolation_win1252;
