-- The shape index over every kind of column a filter may compare, whatever the session settings
-- of the shape's creator and of the stream's consumer, and across a change of a column's type.
-- The index hashes the constants of the stored, analyzed filter as they are (never their text),
-- with the hash functions of the term's operator, and only hashes a row's value with a function
-- chosen for the column's current type.
\pset format unaligned
\pset tuples_only on

-- A column's type changes under an indexed shape while another shape keeps the table in the
-- stream: the value of the new type must never reach the old type's hash function (text's
-- hashtext on an int4 crashed the server, at every attempt to decode). The shape is broken by
-- the change: its consumers refetch, and the other shape goes on.
CREATE TABLE retyped (id int PRIMARY KEY, v text);
ALTER TABLE retyped REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('retyped_ab', 'retyped', $$v = 'ab'$$);
SELECT electric_shapes.create_shape('retyped_all', 'retyped');
SELECT 'init' FROM pg_create_logical_replication_slot('retype', 'electric_shapes');
INSERT INTO retyped VALUES (1, 'ab');
ALTER TABLE retyped ALTER COLUMN v TYPE int USING length(v);
INSERT INTO retyped VALUES (2, 2);
SELECT * FROM regress.changes('retype');
-- In one transaction, rows of the new type come before the catalog says the shape is broken.
ALTER TABLE retyped ALTER COLUMN v TYPE text;
SELECT electric_shapes.create_shape('retyped_ab_again', 'retyped', $$v = 'ab'$$);
INSERT INTO retyped VALUES (3, 'ab');
BEGIN;
ALTER TABLE retyped ALTER COLUMN v TYPE int USING length(v);
INSERT INTO retyped VALUES (4, 2);
UPDATE retyped SET v = 5 WHERE id = 3;
COMMIT;
INSERT INTO retyped VALUES (5, 2);
SELECT * FROM regress.changes('retype');
SELECT pg_drop_replication_slot('retype');
DROP TABLE retyped;

-- Equality and IN over enums, arrays, ranges, multiranges and domains over them: their
-- operators are polymorphic (anyenum, anyarray, anyrange, anymultirange), and the constants are
-- of the column's concrete type.
CREATE TYPE feeling AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN feeling_d AS feeling;
CREATE DOMAIN int_list_d AS int[];
CREATE DOMAIN span_range_d AS int4range;
CREATE TABLE typed (id int PRIMARY KEY, m feeling, md feeling_d, ms feeling[], a int[], ad int_list_d,
                    ta text[], r int4range, rd span_range_d, mr int4multirange);
ALTER TABLE typed REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('enum_eq', 'typed', $$m = 'happy'$$);
SELECT electric_shapes.create_shape('enum_in', 'typed', $$m IN ('sad', 'ok')$$);
SELECT electric_shapes.create_shape('enum_any', 'typed', $$m = ANY ('{sad,ok}'::feeling[])$$);
SELECT electric_shapes.create_shape('enum_domain', 'typed', $$md::feeling = 'ok'$$);
SELECT electric_shapes.create_shape('enum_array', 'typed', $$ms = '{ok,happy}'$$);
SELECT electric_shapes.create_shape('array_eq', 'typed', $$a = '{1,2}'$$);
SELECT electric_shapes.create_shape('array_in', 'typed', $$a IN ('{3}', '{4,5}')$$);
SELECT electric_shapes.create_shape('array_domain', 'typed', $$ad = '{1,2}'$$);
SELECT electric_shapes.create_shape('text_array', 'typed', $$ta = '{x,y}'$$);
SELECT electric_shapes.create_shape('range_eq', 'typed', $$r = '[1,5)'$$);
SELECT electric_shapes.create_shape('range_in', 'typed', $$r IN ('[2,3]', 'empty')$$);
SELECT electric_shapes.create_shape('range_any', 'typed', $$r = ANY ('{"[2,3]",empty}'::int4range[])$$);
SELECT electric_shapes.create_shape('range_domain', 'typed', $$rd = '[1,5)'$$);
SELECT electric_shapes.create_shape('multirange_eq', 'typed', $$mr = '{[1,2), [4,6)}'$$);
SELECT electric_shapes.create_shape('multirange_in', 'typed', $$mr IN ('{}', '{[7,8)}')$$);
SELECT electric_shapes.create_shape('typed_all', 'typed', NULL, '{id}');
-- Every filter but array_in has a term the index serves: arrays have no array type, so
-- PostgreSQL makes IN over arrays an OR of equalities, which is evaluated shape by shape.
SELECT name, index_column FROM electric_shapes.shape_catalog
 WHERE relation = 'typed'::regclass ORDER BY name;
SELECT 'init' FROM pg_create_logical_replication_slot('types', 'electric_shapes');
-- Each row matches some shapes of each kind; rows 4 and 5 only typed_all.
INSERT INTO typed VALUES
    (1, 'happy', 'ok', '{ok,happy}', '{1,2}', '{1,2}', '{x,y}', '[1,4]', '(0,4]', '{[1,2),[4,5]}'),
    (2, 'sad', 'sad', '{happy,ok}', '{4,5}', '{2,1}', '{y,x}', '[2,4)', '[1,5]', '{}'),
    (3, 'ok', NULL, '{}', '{7}', NULL, '{x}', 'empty', NULL, '{[7,8)}'),
    (4, NULL, NULL, NULL, '{6}', NULL, NULL, '(2,3]', NULL, NULL),
    (5, NULL, NULL, NULL, '{1,2,3}', NULL, NULL, '[1,6)', NULL, '{[1,2)}');
-- Moves out of and into shapes of each kind.
UPDATE typed SET m = 'ok', a = '{3}', r = '[1,5)', mr = '{[7,8)}' WHERE id = 1;
UPDATE typed SET md = 'ok', ad = '{1,2}', rd = '[1,5)', ms = '{ok,happy}' WHERE id = 2;
DELETE FROM typed WHERE id = 3;
SELECT m FROM regress.changes('types') m;
SELECT pg_drop_replication_slot('types');
DROP TABLE typed;
DROP DOMAIN feeling_d, int_list_d, span_range_d;
DROP TYPE feeling;

-- Constants of shapes created under unusual settings, streamed under other unusual settings:
-- each shape gets exactly the rows its filter selects.
CREATE TABLE dated (id int PRIMARY KEY, d date, f8 float8, iv interval, ts timestamp);
ALTER TABLE dated REPLICA IDENTITY FULL;
SET datestyle = 'SQL, DMY';
SELECT electric_shapes.create_shape('date_eq', 'dated', $$d = '2026-01-02'$$);
SELECT electric_shapes.create_shape('date_in', 'dated', $$d IN ('2026-03-04', '2026-05-06')$$);
SELECT electric_shapes.create_shape('timestamp_eq', 'dated', $$ts = '2026-01-02 03:04:05.5'$$);
RESET datestyle;
SET extra_float_digits = 0;
SELECT electric_shapes.create_shape('float_eq', 'dated', $$f8 = '0.30000000000000004'$$);
SELECT electric_shapes.create_shape('float_in', 'dated', $$f8 IN ('0.30000000000000004', '1e-320')$$);
RESET extra_float_digits;
SET intervalstyle = 'sql_standard';
SELECT electric_shapes.create_shape('interval_eq', 'dated', $$iv = '-1 day -2 hours'$$);
SELECT electric_shapes.create_shape('interval_in', 'dated', $$iv IN ('1 year -1 month', '-3 days')$$);
RESET intervalstyle;
-- The catalog shows the constants as the stream prints values, whatever the creator's settings.
SELECT name, index_values FROM electric_shapes.shape_catalog
 WHERE relation = 'dated'::regclass ORDER BY name;
SELECT 'init' FROM pg_create_logical_replication_slot('settings', 'electric_shapes');
INSERT INTO dated VALUES
    (1, '2026-01-02', 0.1::float8 + 0.2::float8, '-1 day -2 hours', '2026-01-02 03:04:05.5'),
    (2, '2026-02-01', 0.3, '-1 day +2 hours', '2026-01-02 03:04:05'),
    (3, '2026-05-06', 1e-320, '11 months', NULL),
    (4, '2026-03-04', NULL, '-3 days', NULL);
SET datestyle = 'German, DMY';
SET extra_float_digits = -15;
SET intervalstyle = 'postgres_verbose';
SELECT m FROM regress.changes('settings') m;
RESET datestyle;
RESET extra_float_digits;
RESET intervalstyle;
SELECT pg_drop_replication_slot('settings');
DROP TABLE dated;
