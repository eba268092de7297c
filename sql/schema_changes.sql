-- Schema changes of shaped tables while streaming, each with its documented outcome: the stream
-- goes on; a shape whose messages change form (renames, added columns) is told to refetch; a
-- shape that can no longer be honoured (a filtered or projected column dropped, the type of a
-- filtered column changed) is marked broken and told to refetch; dropping the table drops it.
\pset format unaligned
\pset tuples_only on
CREATE TABLE notes (id int PRIMARY KEY, owner int, title text, body text, score int);
ALTER TABLE notes REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('owner_1', 'notes', 'owner = 1');
SELECT electric_shapes.create_shape('titles', 'notes', 'owner = 1', columns => ARRAY['title']);
SELECT electric_shapes.create_shape('scored', 'notes', 'score > 10');
SELECT electric_shapes.create_shape('bodies', 'notes', columns => ARRAY['body']);
SELECT 'init' FROM pg_create_logical_replication_slot('ddl', 'electric_shapes');
INSERT INTO notes VALUES (1, 1, 'first', 'text', 20);
SELECT * FROM regress.changes('ddl');

-- Add a column: shapes of every column must refetch; the others go on as before.
ALTER TABLE notes ADD COLUMN tag text;
INSERT INTO notes VALUES (2, 1, 'second', 'more', 30, 'new');
SELECT * FROM regress.changes('ddl');

-- Rename a column: the filter keeps working; shapes that send it must refetch.
ALTER TABLE notes RENAME COLUMN title TO headline;
UPDATE notes SET headline = 'renamed' WHERE id = 1;
SELECT * FROM regress.changes('ddl');

-- Drop a projected column: "bodies" is broken. Drop a column no shape names: nothing.
ALTER TABLE notes DROP COLUMN body;
ALTER TABLE notes DROP COLUMN tag;
UPDATE notes SET score = 40 WHERE id = 2;
SELECT * FROM regress.changes('ddl');

-- Change the type of a filtered column: "scored" is broken.
ALTER TABLE notes ALTER COLUMN score TYPE bigint;
UPDATE notes SET score = 50 WHERE id = 2;
SELECT * FROM regress.changes('ddl');
SELECT name, columns, broken FROM electric_shapes.shapes ORDER BY name;

-- Drop a filtered column: "owner_1" and "titles" are broken; nothing else streams for them.
ALTER TABLE notes DROP COLUMN owner;
INSERT INTO notes VALUES (3, 'third', 60);
SELECT * FROM regress.changes('ddl');

-- Rename the table: what is left goes on under the new name, after a refetch.
SELECT electric_shapes.create_shape('all_notes', 'notes');
ALTER TABLE notes RENAME TO memos;
INSERT INTO memos VALUES (4, 'fourth', 70);
SELECT * FROM regress.changes('ddl');

-- Drop the table: its shapes are dropped and announced.
DROP TABLE memos;
SELECT * FROM regress.changes('ddl');
SELECT count(*) FROM electric_shapes.shapes;
SELECT pg_drop_replication_slot('ddl');
