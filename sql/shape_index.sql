-- The shape index: shapes whose filter has an equality term (column = constant, constant =
-- column, column IN (...), alone or ANDed with more) are found through it; the rest are
-- evaluated one by one. Either way every shape gets exactly the changes its filter selects.
\pset format unaligned
\pset tuples_only on
CREATE TABLE posts (id int PRIMARY KEY, room int, author text, score numeric, tag text);
ALTER TABLE posts REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('room_1', 'posts', 'room = 1');
SELECT electric_shapes.create_shape('room_1_reversed', 'posts', '1 = room');
SELECT electric_shapes.create_shape('room_1_bigint', 'posts', 'room = 1::bigint');
SELECT electric_shapes.create_shape('rooms_2_3', 'posts', 'room IN (2, 3, NULL)');
SELECT electric_shapes.create_shape('room_2_by_ann', 'posts', $$author = 'ann' AND room = 2$$);
SELECT electric_shapes.create_shape('score_1', 'posts', 'score = 1.0');
SELECT electric_shapes.create_shape('tagged_x', 'posts', $$tag = ANY (ARRAY['x', 'y'])$$);
SELECT electric_shapes.create_shape('room_or_author', 'posts', $$room = 4 OR author = 'bob'$$);
SELECT electric_shapes.create_shape('no_match', 'posts', 'room = 99');
SELECT electric_shapes.create_shape('null_only', 'posts', 'room IN (NULL)');
SELECT name, index_column, index_values FROM electric_shapes.shape_catalog ORDER BY name;
SELECT 'init' FROM pg_create_logical_replication_slot('idx', 'electric_shapes');
INSERT INTO posts VALUES (1, 1, 'ann', 1.00, 'x'), (2, 2, 'ann', 2, 'z'), (3, 3, 'bob', 3, NULL),
                         (4, 4, 'cat', NULL, 'y'), (5, NULL, 'ann', 1, NULL);
UPDATE posts SET room = 2 WHERE id = 1;     -- leaves rooms 1, joins 2 (and ann's room 2)
UPDATE posts SET room = NULL WHERE id = 3;  -- leaves rooms 2_3 and room_or_author stays (bob)
SELECT regexp_replace(m, ',"lsn".*', '') FROM regress.changes('idx') m;
-- Shapes added and dropped within the stream join and leave the index one by one.
SELECT electric_shapes.create_shape('room_5', 'posts', 'room = 5');
SELECT electric_shapes.drop_shape('room_1');
UPDATE posts SET room = 5 WHERE id = 5;
UPDATE posts SET room = 1 WHERE id = 5;
SELECT regexp_replace(m, ',"lsn".*', '') FROM regress.changes('idx') m;
SELECT pg_drop_replication_slot('idx');
DROP TABLE posts;

-- Shapes joining and leaving in any name order (lists lose their order when one leaves and are
-- sorted again when needed): a change every shape matches still names them all, sorted.
CREATE TABLE cards (id int PRIMARY KEY, room int);
ALTER TABLE cards REPLICA IDENTITY FULL;
SELECT 'init' FROM pg_create_logical_replication_slot('order', 'electric_shapes');
SELECT electric_shapes.create_shape('z_every', 'cards', 'id > 0');
SELECT electric_shapes.create_shape('m_room', 'cards', 'room = 7');
SELECT electric_shapes.create_shape('a_every', 'cards', 'id + 0 > 0');
SELECT electric_shapes.create_shape('q_every', 'cards', 'room + 0 = 7');
INSERT INTO cards VALUES (1, 7);
SELECT electric_shapes.drop_shape('a_every');
SELECT electric_shapes.create_shape('b_room', 'cards', 'room IN (7, 8)');
SELECT electric_shapes.create_shape('c_every', 'cards', 'id < 100');
INSERT INTO cards VALUES (2, 7);
TRUNCATE cards;
SELECT regexp_replace(m, ',"lsn".*', '') FROM regress.changes('order') m
 WHERE m LIKE '%"operation"%' OR m LIKE '%truncate%';
SELECT pg_drop_replication_slot('order');
DROP TABLE cards;
