-- A filter that raises an error on some rows counts as no match for that shape only: the stream
-- and the other shapes go on, and a WARNING is logged at a bounded rate (SPEC section 3).
\pset format unaligned
\pset tuples_only on
CREATE TABLE readings (id int PRIMARY KEY, total int, parts int);
ALTER TABLE readings REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('ratio_over_2', 'readings', 'total / parts > 2');
SELECT electric_shapes.create_shape('all_readings', 'readings');
SELECT 'init' FROM pg_create_logical_replication_slot('fail', 'electric_shapes');
INSERT INTO readings VALUES (1, 10, 2), (2, 10, 0), (3, 9, 3), (4, 2147483647, 0), (5, 30, 1);
UPDATE readings SET parts = 0 WHERE id = 1;   -- was in ratio_over_2; now the filter fails: a move-out
SELECT regexp_replace(m, ',"lsn".*', '') FROM regress.changes('fail') m;
SELECT pg_drop_replication_slot('fail');
DROP TABLE readings;
