-- The plugin writes integers, oids, booleans, text and timestamps itself instead of calling their
-- output functions. Over a wide spread of values (and whatever the session's own settings), every
-- value streamed must be exactly what PostgreSQL prints with the stream's pinned settings
-- (DateStyle ISO, TimeZone UTC), in both `values` modes.
\pset format unaligned
CREATE DOMAIN stamp AS timestamptz;
CREATE DOMAIN label AS varchar(80);
CREATE TABLE printed (
    id int PRIMARY KEY,
    i2 int2, i4 int4, i8 int8, o oid, b boolean, t text, vc label, ch char(6),
    ts timestamp, tstz timestamptz, st stamp
);
ALTER TABLE printed REPLICA IDENTITY FULL;
SELECT electric_shapes.create_shape('printed_all', 'printed');
SELECT 'init' FROM pg_create_logical_replication_slot('printed', 'electric_shapes');

-- Settings the stream must not follow.
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'German, DMY';

-- Microsecond counts since 2000-01-01 spread over the whole range PostgreSQL accepts (year 1 to
-- 294276, and before 1 AD, which the plugin leaves to PostgreSQL), with fractions that do and do
-- not end in zeros; text with characters JSON must escape, compressed and out-of-line values.
INSERT INTO printed
SELECT g,
       (h % 32768)::int2, (h % 2147483648)::int4, h, (abs(h % 4294967296))::oid, h % 2 = 0,
       CASE g % 5 WHEN 0 THEN E'q"uote \\ back/slash \n\t\x01 é 😀 ' || g
                  WHEN 1 THEN repeat(md5(g::text), 40)
                  WHEN 2 THEN (SELECT string_agg(md5((g * 1000 + k)::text), '') FROM generate_series(1, 150) k)
                  ELSE 'plain ' || g END,
       'label ' || g, left(md5(g::text), g % 7),
       (timestamp '2000-01-01' + micros * interval '1 microsecond'),
       (timestamptz '2000-01-01 00:00:00+00' + micros * interval '1 microsecond'),
       (timestamptz '2000-01-01 00:00:00+00' + micros * interval '1 microsecond')
  FROM generate_series(1, 3000) g,
       LATERAL (SELECT hashint8extended(g, 0) AS h) hashed,
       LATERAL (SELECT CASE g % 6
                       WHEN 0 THEN abs(h % 9223371331000000000)::float8             -- 2000 to 294276
                       WHEN 1 THEN (h % 63082281600000000)::float8                  -- 2 AD to 3997
                       WHEN 2 THEN (h % 4000000000000000)::float8                   -- around 2000
                       WHEN 3 THEN (h % 4000000000)::float8 * 1000000               -- whole seconds
                       WHEN 4 THEN ((h % 40000000) * 1000000 + abs(h % 10) * 100000)::float8  -- .1 to .9
                       ELSE -63082281600000001 - abs(h % 148000000000000000)::float8  -- BC
                       END AS micros) spread;
INSERT INTO printed (id, ts, tstz, st) VALUES
    (-1, 'infinity', 'infinity', '-infinity'),
    (-2, '-infinity', '-infinity', 'infinity'),
    (-3, '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01 00:00:00.000001+00'),
    (-4, '0001-12-31 23:59:59.999999 BC', '0001-12-31 23:59:59.999999+00 BC', '4713-01-01 00:00:00+00 BC'),
    (-5, '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00', '9999-12-31 23:59:59.5+00'),
    (-6, '2024-02-29 23:59:59.1', '1900-02-28 12:00:00.010+00', '2000-02-29 00:00:00.000100+00');
INSERT INTO printed (id, i2, i4, i8, o, b, t) VALUES
    (-7, -32768, -2147483648, -9223372036854775808, 4294967295, false, ''),
    (-8, 32767, 2147483647, 9223372036854775807, 0, true, '/');

-- What PostgreSQL itself prints for every row with the stream's settings, now and after updates:
-- a value's output function text (format's %s), or in json mode the JSON number or boolean.
CREATE FUNCTION pg_temp.printed(value anyelement) RETURNS jsonb
LANGUAGE sql AS $$ SELECT CASE WHEN value IS NULL THEN 'null' ELSE to_jsonb(format('%s', value)) END $$;
CREATE FUNCTION pg_temp.printed_rows() RETURNS TABLE (id int, mode text, value jsonb)
LANGUAGE sql SET TimeZone = 'UTC' SET DateStyle = 'ISO' AS $$
SELECT id, mode, jsonb_build_object(
           'id', CASE mode WHEN 'json' THEN to_jsonb(id) ELSE pg_temp.printed(id) END,
           'i2', CASE mode WHEN 'json' THEN to_jsonb(i2) ELSE pg_temp.printed(i2) END,
           'i4', CASE mode WHEN 'json' THEN to_jsonb(i4) ELSE pg_temp.printed(i4) END,
           'i8', CASE mode WHEN 'json' THEN to_jsonb(i8) ELSE pg_temp.printed(i8) END,
           'b', CASE mode WHEN 'json' THEN to_jsonb(b) ELSE pg_temp.printed(b) END,
           'o', pg_temp.printed(o), 't', pg_temp.printed(t), 'vc', pg_temp.printed(vc),
           'ch', pg_temp.printed(ch), 'ts', pg_temp.printed(ts), 'tstz', pg_temp.printed(tstz),
           'st', pg_temp.printed(st))
  FROM printed, (VALUES ('text'), ('json')) modes(mode)
$$;
CREATE TEMP TABLE inserted AS SELECT * FROM pg_temp.printed_rows();
-- Updates compare old and new texts: only changed columns are sent.
UPDATE printed SET i4 = i4 + 1, tstz = tstz + interval '1 microsecond' WHERE id % 10 = 3;
CREATE TEMP TABLE updated AS SELECT * FROM pg_temp.printed_rows();

-- The stream, in both modes.
CREATE TEMP TABLE streamed AS
SELECT data::jsonb AS m, 'text' AS mode
  FROM pg_logical_slot_peek_changes('printed', NULL, NULL, 'values', 'text')
UNION ALL
SELECT data::jsonb, 'json'
  FROM pg_logical_slot_peek_changes('printed', NULL, NULL, 'values', 'json');
CREATE TEMP VIEW expected AS
SELECT 'insert' AS operation, * FROM inserted UNION ALL SELECT 'update', * FROM updated;
-- Every row arrives (an insert, and an update for every tenth), and every value matches:
-- an insert carries the whole row, an update the key and what changed.
SELECT s.mode, e.operation, count(*) AS messages,
       count(*) FILTER (WHERE CASE e.operation WHEN 'insert' THEN s.m->'value' <> e.value
                                               ELSE NOT s.m->'value' <@ e.value END) AS differing_values,
       count(*) FILTER (WHERE s.m->>'key' <> format('"public"."printed"/"%s"', e.id)) AS differing_keys
  FROM streamed s
  JOIN expected e ON e.operation = s.m->'headers'->>'operation' AND e.mode = s.mode
                 AND e.id = (s.m->'value'->>'id')::int
 GROUP BY 1, 2 ORDER BY 1, 2;
-- Where a value differs, it is shown here (no row is expected).
SELECT s.mode, e.operation, e.id, key, s.m->'value'->key AS streamed, e.value->key AS printed
  FROM streamed s
  JOIN expected e ON e.operation = s.m->'headers'->>'operation' AND e.mode = s.mode
                 AND e.id = (s.m->'value'->>'id')::int,
       LATERAL jsonb_object_keys(s.m->'value') key
 WHERE s.m->'value'->key <> e.value->key
 ORDER BY 1, 2, 3, 4 LIMIT 10;
-- The update messages carry just what changed (replica default: key and changed columns).
SELECT DISTINCT mode, (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(m->'value') k) AS value_columns
  FROM streamed WHERE m->'headers'->>'operation' = 'update' ORDER BY 1;
-- The spread reached what it is meant to: early and six-digit years, BC dates and infinities
-- (both printed by PostgreSQL), short fractions, and long text (compressed and out of line).
SELECT count(*) FILTER (WHERE m->'value'->>'ts' ~ '^0[0-9]{3}-') > 0 AS early_years,
       count(*) FILTER (WHERE m->'value'->>'ts' ~ '^[0-9]{6}-') > 0 AS six_digit_years,
       count(*) FILTER (WHERE m->'value'->>'ts' LIKE '% BC') > 0 AS bc_dates,
       count(*) FILTER (WHERE m->'value'->>'tstz' ~ '\.[0-9]{1,5}\+00$') > 0 AS short_fractions,
       count(*) FILTER (WHERE length(m->'value'->>'t') > 4000) > 0 AS long_texts,
       count(*) FILTER (WHERE m->'value'->>'tstz' = 'infinity') AS infinities
  FROM streamed WHERE mode = 'text';
RESET ALL;
SELECT pg_drop_replication_slot('printed');
DROP TABLE printed;
DROP DOMAIN stamp;
DROP DOMAIN label;
