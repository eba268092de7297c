-- The old/new match matrix of SPEC section 3, with replica default and full, key changes, and
-- several shapes with different projections in one transaction.
\pset format unaligned
\pset tuples_only on
CREATE TABLE chat (id int PRIMARY KEY, room int NOT NULL, body text, votes int DEFAULT 0);
SELECT electric_shapes.create_shape('room_1', 'chat', 'room = 1');
SELECT electric_shapes.create_shape('room_1_full', 'chat', 'room = 1', replica => 'full');
SELECT electric_shapes.create_shape('room_1_bodies', 'chat', 'room = 1', columns => ARRAY['body']);
SELECT 'init' FROM pg_create_logical_replication_slot('matrix', 'electric_shapes');

-- insert: matches (room 1) and does not (room 2)
INSERT INTO chat VALUES (1, 1, 'hello'), (2, 2, 'elsewhere');
SELECT * FROM regress.changes('matrix');
-- yes/yes: update (default: key + changed columns; full: whole row + old values of changes)
UPDATE chat SET body = 'hello again' WHERE id = 1;
SELECT * FROM regress.changes('matrix');
-- yes/yes, but only a column outside room_1_bodies' projection changed
UPDATE chat SET votes = 5 WHERE id = 1;
SELECT * FROM regress.changes('matrix');
-- yes/yes, nothing changed at all: nothing sent
UPDATE chat SET votes = 5 WHERE id = 1;
SELECT * FROM regress.changes('matrix');
-- no/yes: move-in, the whole projected row as an insert
UPDATE chat SET room = 1, body = 'moved in' WHERE id = 2;
SELECT * FROM regress.changes('matrix');
-- yes/no: move-out, a delete
UPDATE chat SET room = 3 WHERE id = 1;
SELECT * FROM regress.changes('matrix');
-- no/no: nothing
UPDATE chat SET body = 'still elsewhere' WHERE id = 1;
SELECT * FROM regress.changes('matrix');
-- delete: matching and not
DELETE FROM chat WHERE id IN (1, 2);
SELECT * FROM regress.changes('matrix');

-- A key change is a delete of the old key, then an insert of the new one.
INSERT INTO chat VALUES (10, 1, 'ten');
UPDATE chat SET id = 11 WHERE id = 10;
-- ... also when the row moves out (only the delete) or in (only the insert) at the same time
UPDATE chat SET id = 12, room = 2 WHERE id = 11;
UPDATE chat SET id = 13, room = 1 WHERE id = 12;
SELECT * FROM regress.changes('matrix');

-- Replica identity default with a filter on the key only: no old row is logged for updates.
CREATE TABLE items (id int PRIMARY KEY, label text, price numeric);
SELECT electric_shapes.create_shape('items_low', 'items', 'id < 100');
SELECT relreplident FROM pg_class WHERE relname = 'items';
INSERT INTO items VALUES (1, 'pen', 1.50), (200, 'car', 20000);
UPDATE items SET price = 1.75 WHERE id = 1;    -- every projected column is sent: no old row to compare
UPDATE items SET price = 1 WHERE id = 200;
UPDATE items SET id = 2 WHERE id = 1;          -- key change: the old key is logged
UPDATE items SET id = 300 WHERE id = 2;        -- moves out through its key
DELETE FROM items;
SELECT * FROM regress.changes('matrix');

-- NULL in a filter counts as no match.
CREATE TABLE tasks (id int PRIMARY KEY, owner int);
SELECT electric_shapes.create_shape('owner_7', 'tasks', 'owner = 7');
INSERT INTO tasks VALUES (1, NULL), (2, 7);
UPDATE tasks SET owner = NULL WHERE id = 2;
UPDATE tasks SET owner = 7 WHERE id = 1;
SELECT * FROM regress.changes('matrix');

-- One message per distinct payload: shapes whose projections differ but whose messages for a
-- change are byte-identical share one message, its shapes sorted (eq_b's projection lies between
-- those of eq_a and eq_c in name order). A replica full shape's message differs, and a change whose
-- bytes differ between the projections stays two messages.
CREATE TABLE notes (id int PRIMARY KEY, x text, y text, z text);
SELECT electric_shapes.create_shape('eq_a', 'notes', columns => ARRAY['x']);
SELECT electric_shapes.create_shape('eq_b', 'notes', columns => ARRAY['x', 'y']);
SELECT electric_shapes.create_shape('eq_c', 'notes', columns => ARRAY['x']);
SELECT electric_shapes.create_shape('eq_d', 'notes', columns => ARRAY['x', 'y'], replica => 'full');
INSERT INTO notes VALUES (1, 'x1', 'y1', 'z1');
SELECT * FROM regress.changes('matrix');
UPDATE notes SET x = 'x2' WHERE id = 1;        -- one message for eq_a, eq_b and eq_c
UPDATE notes SET x = 'x3', y = 'y3' WHERE id = 1;  -- eq_b's message holds y too
UPDATE notes SET z = 'z4' WHERE id = 1;        -- no projected column changed: nothing
DELETE FROM notes;                             -- replica default deletes send the key alone
SELECT * FROM regress.changes('matrix');

SELECT pg_drop_replication_slot('matrix');
DROP TABLE chat, items, tasks, notes;
