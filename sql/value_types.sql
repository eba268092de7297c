-- Values of every type family in both `values` modes, printed with pinned settings whatever
-- the session says (SPEC section 3).
\pset format unaligned
\pset tuples_only on
CREATE TYPE colour AS ENUM ('red', 'green');
CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100);
CREATE DOMAIN score AS int CHECK (VALUE >= 0);
CREATE TABLE everything (
    id int PRIMARY KEY,
    i2 int2, i4 int4, i8 int8, num numeric, f4 float4, f8 float8, flag boolean,
    txt text, vc varchar(20), ch char(3), bin bytea, js json, jsb jsonb,
    ints int[], texts text[], ts timestamptz, tsz timestamp, d date, iv interval, u uuid,
    c colour, s short_text, sc score
);
SELECT electric_shapes.create_shape('all_values', 'everything');
SELECT 'init' FROM pg_create_logical_replication_slot('types', 'electric_shapes');

-- Session settings that would change how values print, if the plugin did not pin its own.
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'America/New_York';
SET IntervalStyle = 'sql_standard';
SET bytea_output = 'escape';
SET extra_float_digits = -3;

INSERT INTO everything VALUES
 (1, -32768, 2147483647, 9223372036854775807, 12345678901234567890.000123, 1.5, 0.1, true,
  E'quote " backslash \\ newline \n tab \t bell \x07 unicode é 😀', 'varchar', 'ab',
  '\xdeadbeef'::bytea, E'{"a": [1, 2],\n "b": "x\\ny"}', '{"k": {"n": 1.50, "t": true, "s": "q\"q"}}',
  '{1,2,NULL}', E'{"a b","c\\"d",NULL}', '2024-02-29 13:45:06.123456+01', '2024-02-29 13:45:06',
  '2024-02-29', '1 year 2 months 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  'green', 'domain text', 42),
 (2, 0, 0, 0, 'NaN', 'Infinity', '-Infinity', false, '', '', '', '\x', 'null', '[]',
  '{}', '{}', 'infinity', '-infinity', '1999-12-31', '-1 day', '00000000-0000-0000-0000-000000000000',
  'red', '', 0),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 1, 1, 1, -0.5, 'NaN', 1e300, true, 'x', 'x', 'x', '\x00', '3.5', '"str"',
  '{{1,2},{3,4}}', '{x}', '1970-01-01 00:00:00+00', '1970-01-01', '0001-01-01 BC', '0', NULL,
  NULL, NULL, NULL);

SELECT * FROM regress.changes('types', 'values', 'text');
-- Reading the same WAL again in json mode: a fresh slot replays from its start.
SELECT 'init' FROM pg_create_logical_replication_slot('types_json', 'electric_shapes');
-- Replica identity default logs no old row, so an update sends every projected column.
UPDATE everything SET txt = txt WHERE id IN (1, 2, 3, 4);
UPDATE everything SET i4 = i4 + 0, flag = NOT flag WHERE id IN (1, 2, 4);
DELETE FROM everything WHERE id = 3;
INSERT INTO everything SELECT 10 + id, i2, i4, i8, num, f4, f8, flag, txt, vc, ch, bin, js, jsb,
    ints, texts, ts, tsz, d, iv, u, c, s, sc FROM everything WHERE id IN (1, 2, 4);
SELECT * FROM regress.changes('types_json', 'values', 'json');
-- The session's settings are untouched by decoding.
SHOW DateStyle;
SHOW TimeZone;
SHOW IntervalStyle;
SHOW bytea_output;
SHOW extra_float_digits;
RESET ALL;
SELECT pg_drop_replication_slot('types');
SELECT pg_drop_replication_slot('types_json');
DROP TABLE everything;
DROP TYPE colour;
DROP DOMAIN short_text;
DROP DOMAIN score;
