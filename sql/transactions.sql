-- Transactions: begin/commit messages with include-transaction, silence for transactions with
-- nothing for the selected shapes, savepoints and rolled-back subtransactions, op_position
-- across tables, and TRUNCATE as must-refetch.
\pset format unaligned
\pset tuples_only on
CREATE TABLE rooms (id int PRIMARY KEY, name text);
CREATE TABLE posts (id int PRIMARY KEY, room_id int, body text);
CREATE TABLE unshaped (id int PRIMARY KEY);
SELECT electric_shapes.create_shape('rooms', 'rooms');
SELECT electric_shapes.create_shape('room_1_posts', 'posts', 'room_id = 1');
SELECT 'init' FROM pg_create_logical_replication_slot('txn', 'electric_shapes');

BEGIN;
INSERT INTO rooms VALUES (1, 'general');
SAVEPOINT a;
INSERT INTO posts VALUES (1, 1, 'kept');
SAVEPOINT b;
INSERT INTO posts VALUES (2, 1, 'rolled back');
ROLLBACK TO SAVEPOINT b;
INSERT INTO posts VALUES (3, 2, 'other room');
RELEASE SAVEPOINT a;
INSERT INTO posts VALUES (4, 1, 'last');
COMMIT;
-- Nothing for the shapes: no message at all, not even begin/commit.
INSERT INTO unshaped VALUES (1);
INSERT INTO posts VALUES (5, 2, 'not in any shape');
-- Rolled back: nothing.
BEGIN;
INSERT INTO rooms VALUES (2, 'gone');
ROLLBACK;
SELECT * FROM regress.changes('txn', 'include-transaction', 'on');

-- Without include-transaction there are no control messages around the changes.
INSERT INTO rooms VALUES (3, 'quiet');
SELECT * FROM regress.changes('txn');

-- TRUNCATE of a shaped table: must-refetch for its shapes; of an unshaped one: nothing.
BEGIN;
INSERT INTO posts VALUES (6, 1, 'before truncate');
TRUNCATE posts, unshaped;
INSERT INTO posts VALUES (7, 1, 'after truncate');
COMMIT;
TRUNCATE rooms CASCADE;
SELECT * FROM regress.changes('txn', 'include-transaction', 'true');

-- A transaction sending many messages keeps op_position increasing across tables.
BEGIN;
INSERT INTO rooms SELECT g, 'room ' || g FROM generate_series(10, 12) g;
INSERT INTO posts SELECT g, 1, 'post ' || g FROM generate_series(10, 12) g;
UPDATE rooms SET name = upper(name) WHERE id = 11;
COMMIT;
SELECT * FROM regress.changes('txn');

SELECT pg_drop_replication_slot('txn');
DROP TABLE rooms, posts, unshaped;
