-- Hostile input (SPEC section 7): huge and deeply nested where clauses, names and values full of
-- quotes, backslashes, newlines, control characters and multi-byte UTF-8, and malformed plugin
-- options. Every case either works or fails with a clean error; none may crash the backend.
\pset format unaligned
\pset tuples_only on
CREATE SCHEMA hostile;
-- Runs a statement and shows its SQLSTATE and the start of its message instead of the error
-- itself, so that server-dependent details (max_stack_depth) stay out of the expected output.
CREATE FUNCTION hostile.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || left(SQLERRM, 60);
END
$$;

CREATE TABLE hostile.numbers (id int PRIMARY KEY, label text);

-- 1. A 100 kB where clause of 7,000 OR terms: accepted, its definition kept in catalog pieces.
SELECT length(string_agg('id = ' || g, ' OR ')) FROM generate_series(1, 7000) g;
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'long_where',
    'hostile.numbers', (SELECT string_agg('id = ' || g, ' OR ') FROM generate_series(1, 7000) g)));
-- One over 1 MB is refused before it is parsed (54000).
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'over_1mb',
    'hostile.numbers', repeat(' ', 1024 * 1024 - 5) || 'id = 1'));

-- 2. Deep nesting: parentheses, NOTs and function calls, 10,000 deep.
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'deep_parens',
    'hostile.numbers', repeat('(', 10000) || 'id = 1' || repeat(')', 10000)));
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'deep_nots',
    'hostile.numbers', repeat('NOT ', 10000) || 'id = 1'));
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'deep_calls',
    'hostile.numbers', repeat('abs(', 10000) || 'id' || repeat(')', 10000) || ' = 1'));
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'deep_ands',
    'hostile.numbers', (SELECT string_agg('(id <> ' || g || ' AND ', '') FROM generate_series(1, 10000) g)
                       || 'true' || repeat(')', 10000)));
-- Below the parser's limit, deep trees reach the stack depth check (54001) or are accepted.
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'nots_9000',
    'hostile.numbers', repeat('NOT ', 9000) || 'id = 1'));
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'sums_3000',
    'hostile.numbers', repeat('id + (', 3000) || 'id' || repeat(')', 3000) || ' = 1'));
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'calls_3000',
    'hostile.numbers', repeat('abs(', 3000) || 'id' || repeat(')', 3000) || ' = 1'));
-- Moderate nesting is fine, and so is evaluating it on every change.
SELECT hostile.outcome(format('SELECT electric_shapes.create_shape(%L, %L, %L)', 'nested_200',
    'hostile.numbers', repeat('NOT (', 200) || 'id = 5' || repeat(')', 200)));
SELECT name FROM electric_shapes.shapes ORDER BY name;

SELECT 'init' FROM pg_create_logical_replication_slot('hostile', 'electric_shapes');
INSERT INTO hostile.numbers VALUES (5, 'five'), (6999, 'near the end'), (7001, 'beyond');
SELECT * FROM regress.changes('hostile');
SELECT electric_shapes.drop_shape('nested_200');

-- 3. Names and values with quotes, backslashes, newlines, control characters, multi-byte UTF-8.
CREATE TABLE hostile."wéird ""table"" \ name
2" ("ïd ""/\" text PRIMARY KEY, "col
with newline" text, "tab	col" text, "ctl" text, "Ünïcødé 😀" text);
SELECT electric_shapes.create_shape('weird', 'hostile."wéird ""table"" \ name
2"', '"ctl" IS DISTINCT FROM E''skip\x01''');
SELECT * FROM regress.changes('hostile');
INSERT INTO hostile."wéird ""table"" \ name
2" VALUES
    (E'a"b\\c/d\ne', E'\x01\x02\x1f\x7f', E'tab\there', E'\x01', 'ß 😀 日本'),
    ('/', '', NULL, E'skip\x01', 'skipped'),
    (E'\\"', E'\b\f\r', 'x', 'x', E'ends with backslash\\');
UPDATE hostile."wéird ""table"" \ name
2" SET "Ünïcødé 😀" = E'new\n\"value\"' WHERE "ïd ""/\" = E'\\"';
DELETE FROM hostile."wéird ""table"" \ name
2" WHERE "ïd ""/\" = E'a"b\\c/d\ne';
SELECT * FROM regress.changes('hostile');
-- The same stream as JSON documents: each decodes back to exactly the stored text.
INSERT INTO hostile."wéird ""table"" \ name
2" VALUES (E'\x01\\x', E'"\\"', NULL, NULL, E'\u00e9\n');
SELECT data::jsonb -> 'value' = jsonb_build_object('ïd "/\', E'\x01\\x', E'col\nwith newline', E'"\\"',
           E'tab\tcol', NULL, 'ctl', NULL, 'Ünïcødé 😀', E'\u00e9\n'),
       data::jsonb ->> 'key' = E'"hostile"."wéird \"table\" \\ name\n2"/"\x01\\x"'
FROM pg_logical_slot_get_changes('hostile', NULL, NULL);

-- 4. Malformed plugin options: each fails cleanly, naming the option, and consumes nothing.
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, '', 'x')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, ' shapes', 'weird')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', 'weird,,x')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', 'weird, x y')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', ',')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', E'weird\n')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', E'we\x01ird')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', 'wéird')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', NULL)$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'values', 'text,json')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'include-transaction', 'on, off')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'include-transaction', repeat('t', 1000000))$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes', repeat('a,', 500000) || 'weird')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, repeat('o', 100000), 'x')$$);
SELECT hostile.outcome($$SELECT * FROM pg_logical_slot_peek_changes('hostile', NULL, NULL, 'shapes')$$);
-- Well-formed but unusual: blanks around names, a long list naming shapes that do not exist.
INSERT INTO hostile."wéird ""table"" \ name
2" VALUES ('last', NULL, NULL, NULL, NULL);
SELECT * FROM regress.changes('hostile', 'shapes', (SELECT string_agg('s' || g, ',') FROM generate_series(1, 10000) g) || ' ,  weird ');

SELECT pg_drop_replication_slot('hostile');
SELECT electric_shapes.drop_shape(name) FROM electric_shapes.shapes ORDER BY name;
DROP SCHEMA hostile CASCADE;
