-- electric_shapes.shape_snapshot (SPEC section 4): a shape's rows as the stream's insert
-- messages, then snapshot-end with the snapshot they were read in; values in both modes with
-- pinned output settings; the caller's privileges and row-level security; errors.
\pset format unaligned
\pset tuples_only on
CREATE TABLE snap_items (
    id int PRIMARY KEY,
    grp int NOT NULL,
    body text,
    price numeric,
    flag boolean,
    doc jsonb,
    at timestamptz,
    secret text
);
INSERT INTO snap_items VALUES
    (1, 1, 'one', 1.50, true, '{"a": [1, 2]}', '2024-05-01 12:30:00+00', 's1'),
    (2, 2, 'two "quoted"', 'NaN', false, NULL, NULL, 's2'),
    (3, 1, NULL, 3, NULL, '"x"', '2024-12-31 23:59:59.5+00', 's3'),
    (4, 3, 'a/b', -4, true, '[]', '1999-01-08 04:05:06+00', 's4');
SELECT electric_shapes.create_shape('snap_all', 'snap_items');
SELECT electric_shapes.create_shape('snap_grp1', 'snap_items', 'grp = 1 OR body LIKE ''a/%''',
                                    ARRAY['body']);
SELECT electric_shapes.create_shape('snap_none', 'snap_items', 'grp > 100');

-- Masks what differs from run to run: the snapshot and the WAL position.
CREATE FUNCTION regress.snapshot(shape text, mode text DEFAULT 'text')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT regexp_replace(m,
        '"xmin":"[0-9]+","xmax":"[0-9]+","xip_list":\[("[0-9]+",?)*\],"lsn":"[0-9]+"',
        '"xmin":"X","xmax":"X","xip_list":[X],"lsn":"L"')
      FROM electric_shapes.shape_snapshot(shape, mode) m
$$;

-- Every row of the shape, in the stream's format: headers without lsn, op_position and txids.
-- The session's own settings do not change how values are printed.
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'America/New_York';
SET extra_float_digits = -3;
SELECT * FROM regress.snapshot('snap_all');
SELECT * FROM regress.snapshot('snap_all', 'json');
SHOW DateStyle;
SHOW TimeZone;
RESET DateStyle;
RESET TimeZone;
RESET extra_float_digits;
-- A projection (the key is always in it) and a filter.
SELECT * FROM regress.snapshot('snap_grp1');
-- A shape with no rows still ends with snapshot-end.
SELECT * FROM regress.snapshot('snap_none');
-- Called in the select list, the rows stream out one by one.
SELECT count(*) FROM (SELECT electric_shapes.shape_snapshot('snap_all')) s;
SELECT electric_shapes.shape_snapshot('snap_all') LIMIT 1;

-- The rows match what the stream would send for them: a row inserted now comes out of the slot
-- with the same key and value as the snapshot gives it.
SELECT 'init' FROM pg_create_logical_replication_slot('snap_slot', 'electric_shapes');
INSERT INTO snap_items VALUES (5, 1, 'five', 5.5, false, '{"b": null}', '2024-02-29 00:00:00+00', 's5');
SELECT c.data::jsonb - 'headers' AS streamed, (s::jsonb - 'headers') = (c.data::jsonb - 'headers') AS same,
       (s::jsonb -> 'headers') = (c.data::jsonb -> 'headers') - 'lsn' - 'op_position' - 'txids' AS same_headers
  FROM electric_shapes.shape_snapshot('snap_all', 'json') s,
       pg_logical_slot_get_changes('snap_slot', NULL, NULL, 'shapes', 'snap_all', 'values', 'json') c
 WHERE s::jsonb->>'key' = c.data::jsonb->>'key';
SELECT pg_drop_replication_slot('snap_slot');

-- snapshot-end describes the snapshot the rows were read in: in a REPEATABLE READ transaction,
-- pg_current_snapshot() of the transaction, and the WAL insert position at the call, which is past
-- every commit it sees. A prepared transaction stays in progress without a session, so the
-- snapshot has a transaction in xip_list (and an xmin below its xmax) to report; the position
-- lies between the insert positions read just before and just after the call.
CREATE TABLE snap_other (id int);
BEGIN;
INSERT INTO snap_other VALUES (1);
PREPARE TRANSACTION 'snap_open';
-- A later transaction commits, so the snapshot's xmax passes the prepared one's xid.
INSERT INTO snap_other VALUES (2);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_current_wal_insert_lsn() - '0/0' AS lsn_before \gset
SELECT m::jsonb->'headers' AS snap_end FROM electric_shapes.shape_snapshot('snap_none') m \gset
SELECT pg_current_wal_insert_lsn() - '0/0' AS lsn_after \gset
SELECT h->>'xmin' = pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
       h->>'xmax' = pg_snapshot_xmax(pg_current_snapshot())::text AS xmax,
       (h->>'xmin')::bigint < (h->>'xmax')::bigint AS xmin_below_xmax,
       ARRAY(SELECT jsonb_array_elements_text(h->'xip_list')) =
           ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot())::text) AS xip_list,
       h->'xip_list' @> jsonb_build_array((SELECT transaction::text FROM pg_prepared_xacts
                                            WHERE gid = 'snap_open')) AS prepared_in_xip_list,
       (h->>'lsn')::numeric BETWEEN :lsn_before AND :lsn_after AS lsn
  FROM (SELECT :'snap_end'::jsonb AS h) s;
-- Rows committed by others after the transaction's snapshot are not in it: five rows and
-- snapshot-end, then six rows and snapshot-end once the transaction is over.
\! psql -X -q -d contrib_regression -c "INSERT INTO snap_items VALUES (6, 1, 'six', 6, true, NULL, NULL, 's6')"
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_all');
COMMIT;
ROLLBACK PREPARED 'snap_open';
DROP TABLE snap_other;
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_all');

-- Row-level security applies: the caller sees only the rows its policies give it.
CREATE ROLE regress_snap_reader;
GRANT USAGE ON SCHEMA regress TO regress_snap_reader;
GRANT SELECT ON snap_items TO regress_snap_reader;
ALTER TABLE snap_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY snap_grp_2 ON snap_items FOR SELECT TO regress_snap_reader USING (grp = 2 OR id = 4);
SET ROLE regress_snap_reader;
SELECT * FROM regress.snapshot('snap_all');
SELECT * FROM regress.snapshot('snap_grp1');
RESET ROLE;
-- The owner is not subject to the policy.
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_all');

-- Column privileges: the caller needs SELECT on the projected columns and those the filter reads.
CREATE ROLE regress_snap_columns;
GRANT SELECT (id, grp, body) ON snap_items TO regress_snap_columns;
ALTER TABLE snap_items DISABLE ROW LEVEL SECURITY;
SET ROLE regress_snap_columns;
\set VERBOSITY default
SELECT electric_shapes.shape_snapshot('snap_all');
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_grp1');
RESET ROLE;
REVOKE SELECT (body) ON snap_items FROM regress_snap_columns;
SET ROLE regress_snap_columns;
SELECT electric_shapes.shape_snapshot('snap_grp1');
RESET ROLE;

-- Errors.
SELECT electric_shapes.shape_snapshot('no_such_shape');
SELECT electric_shapes.shape_snapshot('snap_all', 'xml');
SELECT electric_shapes.shape_snapshot(NULL);
SELECT electric_shapes.shape_snapshot('snap_all', NULL);
DO $$
BEGIN
    PERFORM electric_shapes.shape_snapshot('no_such_shape');
EXCEPTION WHEN undefined_object THEN
    RAISE NOTICE 'unknown shape: SQLSTATE %', SQLSTATE;
END
$$;
DO $$
BEGIN
    PERFORM electric_shapes.shape_snapshot('snap_all', 'JSON');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'bad values mode: SQLSTATE %', SQLSTATE;
END
$$;
-- A shape created after the transaction's snapshot does not exist for it.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_all');
\! psql -X -q -d contrib_regression -c "SELECT electric_shapes.create_shape('snap_late', 'snap_items')" >/dev/null
SELECT electric_shapes.shape_snapshot('snap_late');
ROLLBACK;
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_late');

-- Settings. shape_snapshot reads and prints with the stream's settings, and the session has its
-- own back on every path: here a value that cannot be printed (an enum value whose label was
-- deleted from pg_enum, standing in for any output function that fails) makes it fail while it
-- prints, at the top level and inside a subtransaction. SHOW and what the session prints agree.
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'America/New_York';
SET IntervalStyle = 'postgres_verbose';
SET extra_float_digits = 0;
SET bytea_output = 'escape';
CREATE TYPE snap_mood AS ENUM ('calm', 'lost');
CREATE TABLE snap_moods (id int PRIMARY KEY, mood snap_mood);
INSERT INTO snap_moods VALUES (1, 'calm'), (2, 'lost');
SELECT electric_shapes.create_shape('snap_moods', 'snap_moods');
DELETE FROM pg_enum WHERE enumtypid = 'snap_mood'::regtype AND enumlabel = 'lost';
CREATE FUNCTION regress.session_settings() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT pg_catalog.format('%s | %s | %s | %s | %s', current_setting('DateStyle'),
                             current_setting('TimeZone'), current_setting('IntervalStyle'),
                             current_setting('extra_float_digits'), current_setting('bytea_output'))
    UNION ALL
    SELECT pg_catalog.format('%s | %s | %s | %s', '2026-01-02 03:04:05.5+00'::timestamptz,
                             '-1 day 2 hours'::interval, 0.1::float8 + 0.2::float8, '\x01ff'::bytea)
$$;
\set VERBOSITY sqlstate
SELECT count(*) FROM electric_shapes.shape_snapshot('snap_moods');
\set VERBOSITY default
SELECT * FROM regress.session_settings();
DO $$
BEGIN
    PERFORM count(*) FROM electric_shapes.shape_snapshot('snap_moods');
EXCEPTION WHEN invalid_binary_representation THEN
    RAISE NOTICE 'unprintable value: SQLSTATE %', SQLSTATE;
END
$$;
SELECT * FROM regress.session_settings();

-- The rows are the stream's under any session setting: with extra_float_digits = 0 the filter's
-- constant, deparsed for the query, would print as 0.3, another number, and row 2 would be read.
CREATE TABLE snap_floats (id int PRIMARY KEY, f float8);
SELECT electric_shapes.create_shape('snap_floats', 'snap_floats', 'f >= ''0.30000000000000004''::float8');
SELECT 'init' FROM pg_create_logical_replication_slot('snap_float_slot', 'electric_shapes');
INSERT INTO snap_floats VALUES (1, 0.1), (2, 0.3), (3, 0.1::float8 + 0.2::float8), (4, 0.4);
SET extra_float_digits = 0;
SELECT 'stream', string_agg(c.data::jsonb->>'key', ' ' ORDER BY c.data::jsonb->>'key')
  FROM pg_logical_slot_get_changes('snap_float_slot', NULL, NULL, 'shapes', 'snap_floats') c
UNION ALL
SELECT 'snapshot', string_agg(m::jsonb->>'key', ' ' ORDER BY m::jsonb->>'key')
  FROM electric_shapes.shape_snapshot('snap_floats') m WHERE m::jsonb->'headers' ? 'operation';
SELECT pg_drop_replication_slot('snap_float_slot');
RESET DateStyle;
RESET TimeZone;
RESET IntervalStyle;
RESET extra_float_digits;
RESET bytea_output;
DROP FUNCTION regress.session_settings();

SELECT count(electric_shapes.drop_shape(name)) FROM electric_shapes.shapes WHERE name LIKE 'snap%';
DROP TABLE snap_items, snap_moods, snap_floats;
DROP TYPE snap_mood;
DROP FUNCTION regress.snapshot(text, text);
REVOKE USAGE ON SCHEMA regress FROM regress_snap_reader;
DROP ROLE regress_snap_reader;
DROP ROLE regress_snap_columns;
