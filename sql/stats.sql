-- Statistics and health (SPEC section 5): the views' columns, reset_stats, metrics() and the
-- health checks that a single preloaded instance can show. Runs in a database of its own.
CREATE DATABASE stats_regress;
\c stats_regress
CREATE EXTENSION electric_shapes;

-- The views' columns, exactly as SPEC section 5 lists them.
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'electric_shapes.shape_stats'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'electric_shapes.slot_stats'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'electric_shapes.health'::regclass AND attnum > 0
 ORDER BY attnum;

-- The regression instance preloads the library: statistics are on, and empty.
SELECT enabled, max_tracked_slots, tracked_slots, untracked_slots, max_tracked_shapes,
       tracked_shapes, untracked_shapes, stats_reset IS NOT NULL AS has_reset_time
  FROM electric_shapes.stats_capacity();
SELECT count(*) FROM electric_shapes.shape_stats;
SELECT count(*) FROM electric_shapes.slot_stats;

-- Every check has a row, in a fixed order, even when it is ok.
SELECT check_name, status FROM electric_shapes.health;
SELECT check_name, detail FROM electric_shapes.health
 WHERE check_name IN ('wal_level', 'output_plugin_libraries', 'preload', 'max_slot_wal_keep_size');

-- A slot of another plugin is not in slot_stats, but an inactive logical slot is a warning, and
-- an error once it retains more WAL than electric_shapes.health_inactive_slot_error_size.
SELECT 'ok' FROM pg_create_logical_replication_slot('stats_regress_idle', 'test_decoding');
SELECT count(*) FROM electric_shapes.slot_stats;
SELECT check_name, status, regexp_replace(detail, 'retains .* of WAL', 'retains (size) of WAL') AS detail
  FROM electric_shapes.health WHERE check_name IN ('inactive_slots', 'max_slot_wal_keep_size');
CREATE TABLE wal_filler AS SELECT g AS id, repeat('x', 500) AS pad FROM generate_series(1, 5000) g;
SET electric_shapes.health_inactive_slot_error_size = '1MB';
SELECT status FROM electric_shapes.health WHERE check_name = 'inactive_slots';
SET electric_shapes.health_inactive_slot_error_size = -1;
SELECT status FROM electric_shapes.health WHERE check_name = 'inactive_slots';
RESET electric_shapes.health_inactive_slot_error_size;
SELECT inactive_slot_error_bytes, lag_warning_bytes, lag_error_bytes, output_plugin_libraries,
       plugin_library_listed, preload_listed
  FROM electric_shapes.health_settings();
SELECT pg_drop_replication_slot('stats_regress_idle');
SELECT check_name, status, detail FROM electric_shapes.health
 WHERE check_name IN ('inactive_slots', 'max_slot_wal_keep_size');

-- Replica identity: a shape with replica 'full' on a table that lost REPLICA IDENTITY FULL.
CREATE TABLE chat_messages (id bigint PRIMARY KEY, room int NOT NULL, body text);
SELECT electric_shapes.create_shape('room_1_full', 'chat_messages', 'room = 1', replica => 'full');
SELECT check_name, status, detail, hint FROM electric_shapes.health WHERE check_name = 'replica_identity';
ALTER TABLE chat_messages REPLICA IDENTITY DEFAULT;
SELECT check_name, status, detail, hint FROM electric_shapes.health WHERE check_name = 'replica_identity';
ALTER TABLE chat_messages REPLICA IDENTITY FULL;
SELECT status FROM electric_shapes.health WHERE check_name = 'replica_identity';

-- Shapes whose columns or table are gone.
CREATE TABLE rooms (id int PRIMARY KEY, title text, topic text);
SELECT electric_shapes.create_shape('rooms_titles', 'rooms', columns => ARRAY['id', 'title']);
SELECT electric_shapes.create_shape('rooms_topic', 'rooms', 'topic = ''news''');
SELECT check_name, status, detail FROM electric_shapes.health WHERE check_name = 'shape_definitions';
ALTER TABLE rooms DROP COLUMN title;
ALTER TABLE rooms DROP COLUMN topic;
SELECT check_name, status, detail, hint FROM electric_shapes.health WHERE check_name = 'shape_definitions';
ALTER EVENT TRIGGER electric_shapes_dropped_objects DISABLE;
DROP TABLE chat_messages;
ALTER EVENT TRIGGER electric_shapes_dropped_objects ENABLE;
SELECT check_name, status, regexp_replace(detail, 'OID \d+', 'OID (oid)', 'g') AS detail
  FROM electric_shapes.health WHERE check_name IN ('replica_identity', 'shape_definitions');
SELECT electric_shapes.drop_shape('room_1_full');
SELECT electric_shapes.drop_shape('rooms_titles');
SELECT electric_shapes.drop_shape('rooms_topic');
SELECT check_name, status FROM electric_shapes.health
 WHERE check_name IN ('replica_identity', 'shape_definitions');

-- reset_stats: all slots, or one slot that must exist.
SELECT electric_shapes.reset_stats();
SELECT electric_shapes.reset_stats(NULL);
SELECT electric_shapes.reset_stats('no_such_slot');
SELECT 'ok' FROM pg_create_logical_replication_slot('stats_regress_reset', 'test_decoding');
SELECT electric_shapes.reset_stats('stats_regress_reset');
SELECT pg_drop_replication_slot('stats_regress_reset');
SELECT stats_reset > now() - interval '1 hour' AS recently_reset, untracked_slots, untracked_shapes
  FROM electric_shapes.stats_capacity();

-- Only privileged roles may reset; everyone may read.
CREATE ROLE stats_reader;
GRANT USAGE ON SCHEMA electric_shapes TO stats_reader;
SET ROLE stats_reader;
SELECT check_name, status, detail FROM electric_shapes.health
 WHERE check_name IN ('output_plugin_libraries', 'preload');
SELECT count(*) FROM electric_shapes.slot_stats;
SELECT electric_shapes.reset_stats();
RESET ROLE;
REVOKE USAGE ON SCHEMA electric_shapes FROM stats_reader;
DROP ROLE stats_reader;

-- metrics(): HELP and TYPE before every family, counters named *_total.
SELECT line FROM regexp_split_to_table(electric_shapes.metrics(), '\n') AS line
 WHERE line ~ '^# TYPE' ORDER BY line;
SELECT line FROM regexp_split_to_table(electric_shapes.metrics(), '\n') AS line
 WHERE line ~ '^electric_shapes_(statistics_enabled|health_status|tracked_slots_limit) ' OR
       line ~ '^electric_shapes_health_status\{check="(wal_level|preload)"\}'
 ORDER BY line;
SELECT right(electric_shapes.metrics(), 1) = E'\n' AS ends_with_newline;

\c contrib_regression
DROP DATABASE stats_regress;
