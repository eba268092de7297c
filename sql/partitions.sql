-- Partitioned tables: a shape on the root receives changes made in any partition (also one
-- attached later), reported under the root's name, its filter using the root's column numbers
-- even where a partition orders its columns differently or has dropped columns.
\pset format unaligned
\pset tuples_only on
CREATE TABLE events (tenant int NOT NULL, id int NOT NULL, kind text, note text,
                     PRIMARY KEY (tenant, id)) PARTITION BY LIST (tenant);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
-- A partition with its own column order and a dropped column.
CREATE TABLE events_2 (junk int, note text, kind text, id int NOT NULL, tenant int NOT NULL);
ALTER TABLE events_2 DROP COLUMN junk;
ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES IN (2);
SELECT electric_shapes.create_shape('alerts', 'events', $$kind = 'alert'$$);
SELECT relname, relreplident FROM pg_class WHERE relname LIKE 'events%' ORDER BY 1;
SELECT 'init' FROM pg_create_logical_replication_slot('parts', 'electric_shapes');

INSERT INTO events VALUES (1, 1, 'alert', 'in one'), (2, 1, 'alert', 'in two'), (2, 2, 'info', 'quiet');
UPDATE events SET note = 'changed' WHERE tenant = 2 AND id = 1;
UPDATE events SET kind = 'alert' WHERE tenant = 2 AND id = 2;     -- move-in through a partition
UPDATE events SET tenant = 1 WHERE tenant = 2 AND id = 2;         -- moves between partitions
DELETE FROM events WHERE tenant = 1 AND id = 1;
SELECT * FROM regress.changes('parts');

-- A partition attached later (its replica identity is the DBA's to set, see the README).
CREATE TABLE events_3 (LIKE events);
ALTER TABLE events_3 REPLICA IDENTITY FULL;
ALTER TABLE events ATTACH PARTITION events_3 FOR VALUES IN (3);
INSERT INTO events VALUES (3, 1, 'alert', 'late partition'), (3, 2, 'info', 'no');
-- TRUNCATE of one partition: the root's shapes must refetch, once.
TRUNCATE events_1;
TRUNCATE events;
SELECT * FROM regress.changes('parts');
SELECT pg_drop_replication_slot('parts');
DROP TABLE events;
