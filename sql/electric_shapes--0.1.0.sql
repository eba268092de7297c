-- electric_shapes 0.1.0: the shapes catalog, its SQL API and views.
\echo Use "CREATE EXTENSION electric_shapes" to load this file. \quit

-------------------------------------------------------------------------------------------------
-- Shapes (SPEC section 2)
-------------------------------------------------------------------------------------------------

-- The catalog the output plugin reads while decoding, hence a user catalog table. Changed only
-- through create_shape and drop_shape; nobody else may write it.
CREATE TABLE shape_catalog (
    name           text PRIMARY KEY,
    relation       oid NOT NULL,
    where_clause   text,            -- as the user wrote it
    filter_node    text,            -- the analyzed, checked expression (nodeToString)
    columns        text[],          -- projection as given; NULL means every column
    replica        text NOT NULL CHECK (replica IN ('default', 'full')),
    owner          oid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
) WITH (user_catalog_table = true);
REVOKE ALL ON shape_catalog FROM PUBLIC;

-- Applications call the API; what each function lets a caller do is checked inside it.
GRANT USAGE ON SCHEMA electric_shapes TO PUBLIC;

CREATE FUNCTION create_shape(name text, relation regclass, where_clause text DEFAULT NULL,
                             columns text[] DEFAULT NULL, replica text DEFAULT 'default')
RETURNS void
AS 'MODULE_PATHNAME', 'create_shape'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION create_shape(text, regclass, text, text[], text) IS
    'Defines a shape: the rows of relation matching where_clause, projected on columns';

CREATE FUNCTION drop_shape(name text, if_exists boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'drop_shape'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION drop_shape(text, boolean) IS 'Drops a shape';

CREATE VIEW shapes AS
    SELECT c.name,
           c.relation::pg_catalog.regclass AS relation,
           c.where_clause,
           c.columns,
           c.replica,
           c.created_at,
           c.owner::pg_catalog.regrole AS owner
      FROM shape_catalog c;
GRANT SELECT ON shapes TO PUBLIC;

-- Dropping a shaped table drops its shapes, inside the same transaction.
CREATE FUNCTION drop_shapes_of_dropped_tables()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM electric_shapes.shape_catalog c
     USING pg_catalog.pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.objsubid = 0
       AND c.relation = d.objid;
END
$$;
REVOKE ALL ON FUNCTION drop_shapes_of_dropped_tables() FROM PUBLIC;

CREATE EVENT TRIGGER electric_shapes_drop_shapes ON sql_drop
    EXECUTE FUNCTION drop_shapes_of_dropped_tables();
