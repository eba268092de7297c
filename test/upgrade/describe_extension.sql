-- Describes every object of the electric_shapes extension as text, one line per object, sorted:
-- the upgrade test compares an upgraded database with a fresh install through it. Columns by
-- name, not position, since an upgrade adds columns where a fresh install may list them earlier.
WITH ext AS (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'electric_shapes'),
members AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid
       AND d.deptype = 'e'
)
SELECT line FROM (
    SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_catalog.pg_get_functiondef(p.oid)
           || E'\nacl ' || coalesce(p.proacl::text, '-')
           || E'\ncomment ' || coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '-') AS line
      FROM members m JOIN pg_catalog.pg_proc p ON m.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = m.objid
     WHERE p.prokind <> 'a'
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text
           || ' options ' || coalesce(c.reloptions::text, '-')
           || ' acl ' || coalesce(c.relacl::text, '-')
           || ' comment ' || coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '-')
           || E'\n' || coalesce(pg_catalog.pg_get_viewdef(c.oid), '')
           || (SELECT coalesce(string_agg(E'\n  column ' || a.attname || ' '
                         || pg_catalog.format_type(a.atttypid, a.atttypmod)
                         || ' storage ' || a.attstorage::text || ' not null ' || a.attnotnull
                         || ' default ' || coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '-')
                         || ' comment ' || coalesce(pg_catalog.col_description(c.oid, a.attnum), '-'),
                         '' ORDER BY a.attname), '')
                 FROM pg_catalog.pg_attribute a
                 LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
           || (SELECT coalesce(string_agg(E'\n  constraint ' || co.conname || ' '
                         || pg_catalog.pg_get_constraintdef(co.oid), '' ORDER BY co.conname), '')
                 FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid)
           || (SELECT coalesce(string_agg(E'\n  index ' || pg_catalog.pg_get_indexdef(i.indexrelid),
                         '' ORDER BY 1), '')
                 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)
      FROM members m JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::regclass AND c.oid = m.objid
    UNION ALL
    SELECT 'event trigger ' || e.evtname || ' on ' || e.evtevent || ' enabled ' || e.evtenabled::text
           || ' tags ' || coalesce(e.evttags::text, '-') || ' function ' || e.evtfoid::regproc
      FROM members m JOIN pg_catalog.pg_event_trigger e
        ON m.classid = 'pg_catalog.pg_event_trigger'::regclass AND e.oid = m.objid
    UNION ALL
    SELECT 'type ' || t.oid::regtype
      FROM members m JOIN pg_catalog.pg_type t ON m.classid = 'pg_catalog.pg_type'::regclass AND t.oid = m.objid
    UNION ALL
    SELECT 'member of another kind ' || m.classid::regclass
      FROM members m
     WHERE m.classid NOT IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_class'::regclass,
                             'pg_catalog.pg_event_trigger'::regclass, 'pg_catalog.pg_type'::regclass)
    UNION ALL
    SELECT 'schema acl ' || coalesce(n.nspacl::text, '-')
      FROM pg_catalog.pg_namespace n WHERE n.nspname = 'electric_shapes'
) objects
ORDER BY line;
