-- electric_shapes 0.1.0 -> 0.2.0: ALTER EXTENSION electric_shapes UPDATE.
-- Shapes, slots and statistics made under 0.1.0 keep working: the catalog keeps its rows, and
-- streams running through the update go on (they follow the catalog rows it rewrites without
-- telling their consumers to refetch).
\echo Use "ALTER EXTENSION electric_shapes UPDATE TO '0.2.0'" to load this file. \quit

-- The shapes catalog: signatures now end with the primary key's column numbers, so that a
-- dropped or replaced key breaks the shape instead of collapsing its messages' keys. Rows of
-- 0.1.0 get the key their table has now (the stream treats exactly this addition as no change
-- of form). The constants' text is now for reading only: the stream hashes the stored filter's.
UPDATE shape_catalog c
   SET signature = c.signature || ' |key' ||
       (SELECT pg_catalog.string_agg(' ' || k.attnum::text, '' ORDER BY k.position)
          FROM pg_catalog.pg_index i,
               LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
         WHERE i.indrelid = c.relation AND i.indisprimary AND k.position <= i.indnkeyatts)
 WHERE pg_catalog.strpos(c.signature, ' |key') = 0
   AND EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = c.relation AND i.indisprimary);

-- Definitions too large for one catalog row (a where clause of up to 1 MB, an IN list of 10,000
-- constants) are cut into rows of shape_catalog_parts; stored_apart names the columns whose
-- values are there. Rows of 0.1.0 all fit in their row: they need nothing.
ALTER TABLE shape_catalog ADD COLUMN stored_apart int2[];
ALTER TABLE shape_catalog ALTER COLUMN stored_apart SET STORAGE MAIN;
CREATE TABLE shape_catalog_parts (
    name  text NOT NULL,              -- the shape's
    field int2 NOT NULL,              -- the shape_catalog column number the value belongs to
    part  int4 NOT NULL,              -- 0, 1, ...: the pieces in order
    chunk bytea NOT NULL,             -- bytes of the value's text, in the database encoding
    PRIMARY KEY (name, field, part)
) WITH (user_catalog_table = true);
REVOKE ALL ON shape_catalog_parts FROM PUBLIC;
ALTER TABLE shape_catalog_parts
    ALTER COLUMN name SET STORAGE MAIN,
    ALTER COLUMN chunk SET STORAGE MAIN;

-- The shapes view lists the columns the stream sends: the listed ones (every column when none
-- were listed) and the primary key's, in table order; a where clause too large for its catalog
-- row is reassembled from its pieces.
CREATE OR REPLACE VIEW shapes AS
    SELECT c.name,
           c.relation::pg_catalog.regclass AS relation,
           CASE WHEN c.stored_apart IS NULL THEN c.where_clause
                ELSE COALESCE(c.where_clause,
                              (SELECT pg_catalog.convert_from(pg_catalog.string_agg(p.chunk, ''::bytea ORDER BY p.part),
                                                              pg_catalog.getdatabaseencoding())
                                 FROM shape_catalog_parts p
                                WHERE p.name OPERATOR(pg_catalog.=) c.name AND p.field OPERATOR(pg_catalog.=) 3))
           END COLLATE pg_catalog."default" AS where_clause,
           (SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum)
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.relation AND a.attnum > 0 AND NOT a.attisdropped
               AND (c.column_numbers IS NULL OR a.attnum = ANY (c.column_numbers)
                    OR EXISTS (SELECT FROM pg_catalog.pg_index i
                                WHERE i.indrelid = c.relation AND i.indisprimary
                                  AND a.attnum = ANY (i.indkey)))) AS columns,
           c.replica,
           c.created_at,
           c.owner::pg_catalog.regrole AS owner,
           c.broken
      FROM shape_catalog c;

-- Dropping the extension, or its catalog, is refused while replication slots of this database
-- decode with the plugin (see the install script).
CREATE FUNCTION guard_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'guard_drop'
LANGUAGE C;
REVOKE ALL ON FUNCTION guard_drop() FROM PUBLIC;

CREATE EVENT TRIGGER electric_shapes_guard_drop ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP TABLE', 'DROP OWNED')
    EXECUTE FUNCTION guard_drop();
ALTER EVENT TRIGGER electric_shapes_guard_drop ENABLE ALWAYS;

-- An SQL-standard body: bound when created, so the caller's search_path plays no part in it.
CREATE OR REPLACE FUNCTION current_wal_lsn()
RETURNS pg_lsn
LANGUAGE sql STABLE
RETURN CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
            ELSE pg_catalog.pg_current_wal_lsn() END;

-- Dropping a shaped table also removes the pieces of its shapes' large definitions.
CREATE OR REPLACE FUNCTION follow_dropped_objects()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed oid;
    dropped text;
BEGIN
    -- One by one in name order, so that the stream announces the drops in that order.
    FOR dropped IN
        SELECT c.name FROM electric_shapes.shape_catalog c
          JOIN pg_catalog.pg_event_trigger_dropped_objects() d
            ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.objsubid = 0 AND c.relation = d.objid
         ORDER BY c.name
    LOOP
        DELETE FROM electric_shapes.shape_catalog WHERE name = dropped;
        DELETE FROM electric_shapes.shape_catalog_parts WHERE name = dropped;
    END LOOP;
    FOR changed IN
        SELECT DISTINCT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d
         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid > 0
           AND d.objid IN (SELECT relation FROM electric_shapes.shape_catalog)
    LOOP
        PERFORM electric_shapes.check_shapes(changed);
    END LOOP;
END
$$;

-- The health checks read a filter too large for its catalog row from its pieces.
CREATE OR REPLACE VIEW health AS
WITH settings AS (
    SELECT pg_catalog.current_setting('wal_level') AS wal_level,
           pg_catalog.current_setting('max_replication_slots')::int AS max_slots,
           pg_catalog.current_setting('max_wal_senders')::int AS max_senders,
           pg_catalog.current_setting('max_slot_wal_keep_size') AS keep_size,
           electric_shapes.current_wal_lsn() AS wal_lsn,
           t.*, cap.*
      FROM electric_shapes.health_settings() t, electric_shapes.stats_capacity() cap
),
slots AS (
    SELECT s.*, pg_catalog.pg_wal_lsn_diff(st.wal_lsn, s.restart_lsn)::bigint AS retained,
           pg_catalog.pg_wal_lsn_diff(st.wal_lsn, s.confirmed_flush_lsn)::bigint AS lag
      FROM pg_catalog.pg_replication_slots s, settings st
),
inactive AS (
    SELECT s.slot_name, s.plugin, s.database, COALESCE(s.retained, 0) AS retained,
           COALESCE(s.retained, 0) > st.inactive_slot_error_bytes AS too_big
      FROM slots s, settings st
     WHERE s.slot_type = 'logical' AND NOT s.active
),
lagging AS (
    SELECT s.slot_name, s.lag, s.lag > st.lag_error_bytes AS too_big
      FROM slots s, settings st
     WHERE s.plugin = 'electric_shapes' AND s.lag > st.lag_warning_bytes
),
shaped AS (
    SELECT c.name, c.relation, c.column_numbers, c.needs_full_identity,
           CASE WHEN c.stored_apart IS NULL THEN c.filter_node
                ELSE COALESCE(c.filter_node,
                              (SELECT pg_catalog.convert_from(pg_catalog.string_agg(p.chunk, ''::bytea ORDER BY p.part),
                                                              pg_catalog.getdatabaseencoding())
                                 FROM electric_shapes.shape_catalog_parts p
                                WHERE p.name = c.name AND p.field = 4))
           END AS filter_node,
           c.broken,
           cl.oid AS table_oid,
           CASE WHEN cl.oid IS NULL THEN NULL
                ELSE pg_catalog.format('%I.%I', n.nspname, cl.relname) END AS table_name
      FROM electric_shapes.shape_catalog c
      LEFT JOIN pg_catalog.pg_class cl ON cl.oid = c.relation
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
),
broken_shapes AS (
    SELECT s.name, pg_catalog.format('shape "%s": table with OID %s no longer exists', s.name, s.relation)
               AS problem
      FROM shaped s WHERE s.table_oid IS NULL
    UNION ALL
    SELECT s.name, pg_catalog.format('shape "%s" on %s: %s', s.name, s.table_name, s.broken)
      FROM shaped s WHERE s.table_oid IS NOT NULL AND s.broken IS NOT NULL
    UNION ALL
    SELECT s.name, pg_catalog.format('shape "%s": column number %s of %s no longer exists', s.name, col, s.table_name)
      FROM shaped s, pg_catalog.unnest(s.column_numbers) AS col
     WHERE s.table_oid IS NOT NULL AND s.broken IS NULL
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute att
                        WHERE att.attrelid = s.table_oid AND att.attnum = col
                          AND NOT att.attisdropped)
    UNION ALL
    SELECT DISTINCT s.name, pg_catalog.format('shape "%s": its filter reads column number %s of %s, '
                                              'which no longer exists', s.name, m[1], s.table_name)
      FROM shaped s, pg_catalog.regexp_matches(s.filter_node, ':varattno (\d+)', 'g') AS m
     WHERE s.table_oid IS NOT NULL AND s.broken IS NULL AND m[1]::int > 0
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute att
                        WHERE att.attrelid = s.table_oid AND att.attnum = m[1]::int
                          AND NOT att.attisdropped)
),
-- Shapes whose filter or replica mode needs whole old rows, on a table (or a partition of it:
-- PostgreSQL decodes partitions, each with its own replica identity) that does not log them.
identity_missing AS (
    SELECT s.name, pg_catalog.format('%I.%I', n.nspname, p.relname) AS table_name,
           CASE p.relreplident WHEN 'd' THEN 'default' WHEN 'n' THEN 'nothing'
                               WHEN 'i' THEN 'index' ELSE p.relreplident::text END AS identity
      FROM shaped s
      CROSS JOIN LATERAL (SELECT s.table_oid AS relid
                          UNION
                          SELECT pt.relid FROM pg_catalog.pg_partition_tree(s.table_oid) pt
                           WHERE pt.isleaf) t
      JOIN pg_catalog.pg_class p ON p.oid = t.relid
      JOIN pg_catalog.pg_namespace n ON n.oid = p.relnamespace
     WHERE s.table_oid IS NOT NULL AND s.needs_full_identity
       AND p.relkind = 'r' AND p.relreplident <> 'f'
),
slot_count AS (SELECT count(*)::int AS used FROM pg_catalog.pg_replication_slots),
sender_count AS (SELECT count(*)::int AS used FROM pg_catalog.pg_stat_replication),
checks AS (
    SELECT 1 AS position, 'wal_level' AS check_name,
           CASE WHEN st.wal_level = 'logical' THEN 'ok' ELSE 'error' END AS status,
           pg_catalog.format('wal_level is %s', st.wal_level) AS detail,
           CASE WHEN st.wal_level <> 'logical'
                THEN 'Set wal_level = logical (ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL.'
           END AS hint
      FROM settings st
    UNION ALL
    SELECT 2, 'output_plugin_libraries',
           CASE WHEN st.plugin_library_listed IS NOT FALSE THEN 'ok' ELSE 'error' END,
           CASE WHEN st.plugin_library_listed IS NULL
                THEN 'this PostgreSQL version lets every library be an output plugin'
                WHEN st.output_plugin_libraries IS NOT NULL
                THEN pg_catalog.format('output_plugin_libraries is ''%s''', st.output_plugin_libraries)
                WHEN st.plugin_library_listed THEN 'output_plugin_libraries lists electric_shapes'
                ELSE 'output_plugin_libraries does not list electric_shapes' END,
           CASE WHEN st.plugin_library_listed IS FALSE
                THEN 'Add electric_shapes to output_plugin_libraries, e.g. ALTER SYSTEM SET '
                     'output_plugin_libraries = pgoutput, test_decoding, electric_shapes; '
                     'SELECT pg_reload_conf(); (a list, unquoted). Without it no electric_shapes slot '
                     'can be created.'
           END
      FROM settings st
    UNION ALL
    SELECT 3, 'preload',
           CASE WHEN st.enabled THEN 'ok' ELSE 'warning' END,
           CASE WHEN st.enabled THEN 'statistics are kept in shared memory'
                WHEN st.preload_listed OR pending.restart
                THEN 'statistics are off: shared_preload_libraries was changed but the server has not '
                     'been restarted since'
                ELSE 'statistics are off: electric_shapes is not in shared_preload_libraries' END,
           CASE WHEN NOT st.enabled
                THEN 'Add electric_shapes to shared_preload_libraries and restart PostgreSQL; shapes '
                     'and streaming work without it, only the counters are missing.'
           END
      FROM settings st,
           LATERAL (SELECT COALESCE(bool_or(ps.pending_restart), false) AS restart
                      FROM pg_catalog.pg_settings ps WHERE ps.name = 'shared_preload_libraries') pending
    UNION ALL
    SELECT 4, 'replication_slots',
           CASE WHEN sc.used >= st.max_slots THEN 'error'
                WHEN st.max_slots - sc.used <= GREATEST(1, st.max_slots / 5) THEN 'warning'
                ELSE 'ok' END,
           pg_catalog.format('%s of max_replication_slots = %s in use', sc.used, st.max_slots),
           CASE WHEN st.max_slots - sc.used <= GREATEST(1, st.max_slots / 5)
                THEN 'Raise max_replication_slots (needs a restart) or drop slots nobody consumes.'
           END
      FROM settings st, slot_count sc
    UNION ALL
    SELECT 5, 'wal_senders',
           CASE WHEN sd.used >= st.max_senders THEN 'error'
                WHEN st.max_senders - sd.used <= GREATEST(1, st.max_senders / 5) THEN 'warning'
                ELSE 'ok' END,
           pg_catalog.format('%s of max_wal_senders = %s in use', sd.used, st.max_senders),
           CASE WHEN st.max_senders - sd.used <= GREATEST(1, st.max_senders / 5)
                THEN 'Raise max_wal_senders (needs a restart); every streaming consumer holds one.'
           END
      FROM settings st, sender_count sd
    UNION ALL
    SELECT 6, 'inactive_slots',
           CASE WHEN count(i.slot_name) = 0 THEN 'ok'
                WHEN bool_or(i.too_big) THEN 'error' ELSE 'warning' END,
           CASE WHEN count(i.slot_name) = 0 THEN 'no inactive logical slot'
                ELSE pg_catalog.string_agg(
                    pg_catalog.format('slot "%s" (plugin %s, database %s) is inactive and retains %s of WAL',
                                      i.slot_name, i.plugin, i.database, pg_catalog.pg_size_pretty(i.retained)),
                    '; ' ORDER BY i.slot_name) END,
           CASE WHEN count(i.slot_name) > 0
                THEN 'Reconnect the slot''s consumer, or drop an abandoned slot with '
                     'SELECT pg_drop_replication_slot(''name''); an inactive slot keeps WAL until the disk is full.'
           END
      FROM inactive i
    UNION ALL
    SELECT 7, 'max_slot_wal_keep_size',
           CASE WHEN st.keep_size = '-1' AND sc.used > 0 THEN 'warning' ELSE 'ok' END,
           CASE WHEN st.keep_size = '-1'
                THEN pg_catalog.format('max_slot_wal_keep_size is unlimited (-1) and %s replication slot(s) exist',
                                       sc.used)
                ELSE pg_catalog.format('max_slot_wal_keep_size is %s', st.keep_size) END,
           CASE WHEN st.keep_size = '-1' AND sc.used > 0
                THEN 'Set a limit, e.g. ALTER SYSTEM SET max_slot_wal_keep_size = ''10GB''; SELECT pg_reload_conf(); '
                     'so an abandoned slot cannot fill the disk (a slot past the limit is invalidated).'
           END
      FROM settings st, slot_count sc
    UNION ALL
    SELECT 8, 'wal_status',
           CASE WHEN bool_or(s.wal_status = 'lost') THEN 'error'
                WHEN bool_or(s.wal_status = 'unreserved') THEN 'warning' ELSE 'ok' END,
           COALESCE(pg_catalog.string_agg(
                        pg_catalog.format('slot "%s" has wal_status %s', s.slot_name, s.wal_status),
                        '; ' ORDER BY s.slot_name)
                        FILTER (WHERE s.wal_status IN ('unreserved', 'lost')),
                    'no slot is unreserved or lost'),
           CASE WHEN bool_or(s.wal_status = 'lost')
                THEN 'A lost slot can never stream again: drop it, create it anew and have its consumers '
                     'refetch their shapes (shape_snapshot).'
                WHEN bool_or(s.wal_status = 'unreserved')
                THEN 'The slot''s consumer must catch up before the next checkpoint removes the WAL it needs, '
                     'or the slot is lost; raise max_slot_wal_keep_size to give it room.'
           END
      FROM slots s
    UNION ALL
    SELECT 9, 'replica_identity',
           CASE WHEN count(m.name) = 0 THEN 'ok' ELSE 'error' END,
           CASE WHEN count(m.name) = 0 THEN 'every shaped table has the replica identity its shapes need'
                ELSE pg_catalog.string_agg(
                    pg_catalog.format('shape "%s" needs REPLICA IDENTITY FULL on %s, which has %s',
                                      m.name, m.table_name, m.identity), '; ' ORDER BY m.name) END,
           CASE WHEN count(m.name) > 0
                THEN pg_catalog.format('Run %s.', pg_catalog.string_agg(DISTINCT
                         pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY FULL', m.table_name), '; '))
           END
      FROM identity_missing m
    UNION ALL
    SELECT 10, 'shape_definitions',
           CASE WHEN count(b.name) = 0 THEN 'ok' ELSE 'error' END,
           CASE WHEN count(b.name) = 0 THEN 'every shape''s table and columns exist'
                ELSE pg_catalog.string_agg(b.problem, '; ' ORDER BY b.problem) END,
           CASE WHEN count(b.name) > 0
                THEN 'Drop such shapes with electric_shapes.drop_shape(name) and define them again '
                     'over the table as it is now.'
           END
      FROM broken_shapes b
    UNION ALL
    SELECT 11, 'consumer_lag',
           CASE WHEN count(l.slot_name) = 0 THEN 'ok'
                WHEN bool_or(l.too_big) THEN 'error' ELSE 'warning' END,
           CASE WHEN count(l.slot_name) = 0 THEN 'no electric_shapes consumer lags beyond the warning size'
                ELSE pg_catalog.string_agg(
                    pg_catalog.format('slot "%s" lags %s behind the current WAL position',
                                      l.slot_name, pg_catalog.pg_size_pretty(l.lag)),
                    '; ' ORDER BY l.slot_name) END,
           CASE WHEN count(l.slot_name) > 0
                THEN 'Check that the consumer is running and confirming what it applied; thresholds are '
                     'electric_shapes.health_lag_warning_size and electric_shapes.health_lag_error_size.'
           END
      FROM lagging l
    UNION ALL
    SELECT 12, 'statistics_capacity',
           CASE WHEN st.enabled AND (st.untracked_slots > 0 OR st.untracked_shapes > 0) THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN NOT st.enabled THEN 'statistics are off (see the preload check)'
                ELSE pg_catalog.format('%s of %s slots and %s of %s shapes tracked; %s slot(s) and %s shape(s) '
                                       'could not be tracked since %s',
                                       st.tracked_slots, st.max_tracked_slots, st.tracked_shapes,
                                       st.max_tracked_shapes, st.untracked_slots, st.untracked_shapes,
                                       st.stats_reset) END,
           CASE WHEN st.enabled AND (st.untracked_slots > 0 OR st.untracked_shapes > 0)
                THEN 'Raise electric_shapes.max_tracked_slots or electric_shapes.max_tracked_shapes '
                     '(needs a restart), then clear the count with electric_shapes.reset_stats().'
           END
      FROM settings st
)
SELECT check_name, status, detail, hint FROM checks ORDER BY position;
