-- Plugin options (SPEC section 3): `shapes` selects shapes, names without a shape yet match
-- nothing until one is created; unknown options and bad values are errors naming the option.
\pset format unaligned
\pset tuples_only on
CREATE TABLE notes (id int PRIMARY KEY, topic text);
ALTER TABLE notes REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('topic_a', 'notes', $$topic = 'a'$$);
SELECT electric_shapes.create_shape('topic_b', 'notes', $$topic = 'b'$$);
SELECT electric_shapes.create_shape('every_note', 'notes');
SELECT 'init' FROM pg_create_logical_replication_slot('opts', 'electric_shapes');
INSERT INTO notes VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT * FROM regress.changes('opts', 'shapes', 'topic_a, topic_b,not_yet');
-- Created later, a selected name starts to match, and its creation is announced.
SELECT electric_shapes.create_shape('not_yet', 'notes', $$topic = 'c'$$);
SELECT electric_shapes.create_shape('unselected', 'notes');
UPDATE notes SET topic = 'c' WHERE id = 1;
SELECT * FROM regress.changes('opts', 'shapes', 'not_yet');
-- The default selects every shape.
INSERT INTO notes VALUES (4, 'b');
SELECT * FROM regress.changes('opts');

-- Bad options: errors naming the option, and the slot is left as it was.
INSERT INTO notes VALUES (5, 'a');
\set VERBOSITY default
SELECT * FROM regress.changes('opts', 'colour', 'red');
SELECT * FROM regress.changes('opts', 'values', 'xml');
SELECT * FROM regress.changes('opts', 'include-transaction', 'maybe');
SELECT * FROM regress.changes('opts', 'shapes', 'bad name');
SELECT * FROM regress.changes('opts', 'shapes', '');
SELECT * FROM regress.changes('opts', 'shapes', 'a', 'shapes', 'b');
SELECT * FROM regress.changes('opts', 'shapes', repeat('x', 1000));
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL);
-- Thousands of shape names are fine.
SELECT * FROM regress.changes('opts', 'shapes',
    (SELECT string_agg('shape_' || g, ',') FROM generate_series(1, 5000) g) || ',topic_a');

SELECT pg_drop_replication_slot('opts');
DO $$ BEGIN PERFORM electric_shapes.drop_shape(name) FROM electric_shapes.shapes; END $$;
DROP TABLE notes;
