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

-- The shapes view lists the columns the stream sends: the listed ones (every column when none
-- were listed) and the primary key's, in table order.
CREATE OR REPLACE VIEW shapes AS
    SELECT c.name,
           c.relation::pg_catalog.regclass AS relation,
           c.where_clause,
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
