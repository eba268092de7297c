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

-- Initial data (SPEC section 4): the shape's rows as the stream's insert messages, then the
-- snapshot they were read in. SECURITY INVOKER: the caller's privileges and row-level security
-- apply. Value per call, so that SELECT electric_shapes.shape_snapshot(...) streams the rows.
CREATE FUNCTION shape_snapshot(name text, "values" text DEFAULT 'text')
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'shape_snapshot'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY INVOKER;
COMMENT ON FUNCTION shape_snapshot(text, text) IS
    'The rows of a shape as insert messages in the stream''s format, then a snapshot-end message with the snapshot they were read in';

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

-------------------------------------------------------------------------------------------------
-- Authentication and row-level security (SPEC section 6)
-------------------------------------------------------------------------------------------------

-- Verification of HMAC-signed tokens. Volatile: it reads the wall clock for exp and nbf.
CREATE FUNCTION verify_jwt(token text, secret text, leeway interval DEFAULT '0')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'verify_jwt'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION verify_jwt(text, text, interval) IS
    'The claims of an HS256, HS384 or HS512 JWT signed with secret; an error (SQLSTATE 28000, or 28P01 for a wrong signature) otherwise';

-- The claims of the current transaction, in the setting PostgREST and Supabase use.
CREATE FUNCTION set_claims(claims jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'set_claims'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION set_claims(jsonb) IS
    'Sets request.jwt.claims until the end of the transaction; NULL clears it';

CREATE FUNCTION authenticate(token text, secret text, leeway interval DEFAULT '0')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'authenticate'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION authenticate(text, text, interval) IS
    'verify_jwt, then set_claims with the verified claims; returns them';

-- The readers are SQL-standard bodies: bound when created, so they depend on no search_path, and
-- simple enough to be inlined into the policies that call them.
CREATE FUNCTION claims()
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb;
COMMENT ON FUNCTION claims() IS 'The claims of request.jwt.claims, or NULL when none are set';

CREATE FUNCTION user_id()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb
       OPERATOR(pg_catalog.->>) 'sub';
COMMENT ON FUNCTION user_id() IS 'The sub claim of request.jwt.claims, or NULL when none is set';

-- Checks one column argument of the RLS helpers and returns its type, domains resolved to their
-- base type. Used by enable_owner_rls and enable_membership_rls.
CREATE FUNCTION rls_column_type(relation regclass, column_name text, argument text)
RETURNS regtype
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    column_type oid;
    kind "char";
    base oid;
BEGIN
    IF column_name IS NULL THEN
        RAISE EXCEPTION '% must not be null', argument USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT a.atttypid INTO column_type
      FROM pg_attribute a
     WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', column_name, relation
            USING ERRCODE = 'undefined_column',
                  HINT = format('%s names a column of %s; its columns are: %s.', argument, relation,
                                (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                                   FROM pg_attribute a
                                  WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped));
    END IF;
    LOOP
        SELECT t.typtype, t.typbasetype INTO kind, base FROM pg_type t WHERE t.oid = column_type;
        EXIT WHEN kind <> 'd';
        column_type := base;
    END LOOP;
    RETURN column_type;
END
$$;

-- The right-hand side comparing a user-id column of the given base type with the sub claim,
-- read once per statement; an error when the type cannot hold a user id.
CREATE FUNCTION rls_user_id_expression(relation regclass, column_name text, base_type regtype)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF base_type IN ('uuid'::regtype, 'int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN
        RETURN format('(SELECT electric_shapes.user_id()::%s)', base_type::text);
    ELSIF (SELECT typcategory FROM pg_type WHERE oid = base_type) = 'S' THEN
        RETURN '(SELECT electric_shapes.user_id())';
    END IF;
    RAISE EXCEPTION 'column "%" of relation % has type %, which cannot hold a user id',
                    column_name, relation, base_type
        USING ERRCODE = 'datatype_mismatch',
              HINT = 'The column compared with the sub claim must be of a string type (text, varchar), uuid, smallint, integer or bigint.';
END
$$;

-- Checks the relation a helper enables row-level security on.
CREATE FUNCTION rls_check_table(relation regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = relation) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', relation
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Row-level security applies to ordinary and partitioned tables; put the policies on the tables under the view.';
    END IF;
END
$$;

-- The commands of a helper's policies, checked and lower-cased, in a fixed order.
CREATE FUNCTION rls_commands(commands text[])
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    command text;
BEGIN
    IF commands IS NULL THEN
        RAISE EXCEPTION 'commands must not be null' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass some of select, insert, update and delete.';
    END IF;
    FOREACH command IN ARRAY commands LOOP
        IF command IS NULL OR lower(command) NOT IN ('select', 'insert', 'update', 'delete') THEN
            RAISE EXCEPTION 'invalid command "%" in commands', command
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Commands are select, insert, update and delete.';
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT c FROM unnest(ARRAY['select', 'insert', 'update', 'delete']) AS c
                  WHERE c = ANY (SELECT lower(x) FROM unnest(commands) AS x));
END
$$;

-- Enables row-level security on relation and replaces the policies named <prefix>_<command>
-- with one per requested command, each testing condition.
CREATE FUNCTION rls_replace_policies(relation regclass, prefix text, commands text[],
                                     restrictive boolean, condition text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    command text;
    policy text;
BEGIN
    IF restrictive IS NULL THEN
        RAISE EXCEPTION 'restrictive must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', relation);
    FOREACH command IN ARRAY ARRAY['select', 'insert', 'update', 'delete'] LOOP
        policy := prefix || '_' || command;
        IF EXISTS (SELECT FROM pg_policy WHERE polrelid = relation AND polname = policy) THEN
            EXECUTE format('DROP POLICY %I ON %s', policy, relation);
        END IF;
        CONTINUE WHEN NOT command = ANY (commands);
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO PUBLIC %s', policy, relation,
                       CASE WHEN restrictive THEN 'RESTRICTIVE' ELSE 'PERMISSIVE' END,
                       upper(command),
                       CASE command
                           WHEN 'insert' THEN format('WITH CHECK (%s)', condition)
                           WHEN 'update' THEN format('USING (%s) WITH CHECK (%s)', condition, condition)
                           ELSE format('USING (%s)', condition)
                       END);
    END LOOP;
END
$$;

-- Rows belong to the user whose id is in owner_column.
CREATE FUNCTION enable_owner_rls(relation regclass, owner_column text,
                                 commands text[] DEFAULT ARRAY['select', 'insert', 'update', 'delete'],
                                 restrictive boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner_type regtype;
BEGIN
    PERFORM electric_shapes.rls_check_table(relation);
    owner_type := electric_shapes.rls_column_type(relation, owner_column, 'owner_column');
    PERFORM electric_shapes.rls_replace_policies(
        relation, 'electric_shapes_owner', electric_shapes.rls_commands(commands), restrictive,
        format('%I = %s', owner_column,
               electric_shapes.rls_user_id_expression(relation, owner_column, owner_type)));
END
$$;
COMMENT ON FUNCTION enable_owner_rls(regclass, text, text[], boolean) IS
    'Enables row-level security on relation with policies electric_shapes_owner_<command>: a row is the user''s when owner_column equals the sub claim';

-- Rows are visible to the members of the group key_column names, as listed in
-- membership_relation.
CREATE FUNCTION enable_membership_rls(relation regclass, key_column text,
                                      membership_relation regclass, membership_key_column text,
                                      member_column text,
                                      commands text[] DEFAULT ARRAY['select', 'insert', 'update', 'delete'],
                                      restrictive boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_type regtype;
    membership_key_type regtype;
    member_type regtype;
BEGIN
    PERFORM electric_shapes.rls_check_table(relation);
    IF membership_relation IS NULL THEN
        RAISE EXCEPTION 'membership_relation must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF membership_relation = relation THEN
        RAISE EXCEPTION '% cannot be its own membership relation', relation
            USING ERRCODE = 'invalid_object_definition',
                  HINT = 'A policy that reads its own table recurses forever; keep memberships in a table of their own.';
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = membership_relation) NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION '% is not a table or view', membership_relation
            USING ERRCODE = 'wrong_object_type';
    END IF;
    key_type := electric_shapes.rls_column_type(relation, key_column, 'key_column');
    membership_key_type := electric_shapes.rls_column_type(membership_relation, membership_key_column,
                                                           'membership_key_column');
    member_type := electric_shapes.rls_column_type(membership_relation, member_column, 'member_column');
    BEGIN
        EXECUTE format('SELECT NULL::%s = NULL::%s', key_type, membership_key_type);
    EXCEPTION WHEN undefined_function OR ambiguous_function THEN
        RAISE EXCEPTION 'key_column "%" (%) cannot be compared with membership_key_column "%" (%)',
                        key_column, key_type, membership_key_column, membership_key_type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'Give both key columns the same type, as a foreign key would need.';
    END;
    PERFORM electric_shapes.rls_replace_policies(
        relation, 'electric_shapes_member', electric_shapes.rls_commands(commands), restrictive,
        format('%I IN (SELECT m.%I FROM %s m WHERE m.%I = %s)', key_column, membership_key_column,
               membership_relation, member_column,
               electric_shapes.rls_user_id_expression(membership_relation, member_column, member_type)));
END
$$;
COMMENT ON FUNCTION enable_membership_rls(regclass, text, regclass, text, text, text[], boolean) IS
    'Enables row-level security on relation with policies electric_shapes_member_<command>: a row is visible to the users listed as member_column of membership_relation for its key_column';

-- Who may call what. The readers run inside every policy, as every role, and verify_jwt and
-- authenticate need a correctly signed token, so all roles may call them. set_claims trusts its
-- argument: only the roles that stand in for an authentication service should call it.
-- The RLS helpers run with the caller's rights, and the statements they issue already demand
-- ownership of the table, so all roles may call them too.
REVOKE ALL ON FUNCTION set_claims(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION verify_jwt(text, text, interval), authenticate(text, text, interval),
                          claims(), user_id() TO PUBLIC;
GRANT EXECUTE ON FUNCTION enable_owner_rls(regclass, text, text[], boolean),
                          enable_membership_rls(regclass, text, regclass, text, text, text[], boolean),
                          rls_check_table(regclass), rls_column_type(regclass, text, text),
                          rls_user_id_expression(regclass, text, regtype), rls_commands(text[]),
                          rls_replace_policies(regclass, text, text[], boolean, text)
                       TO PUBLIC;
