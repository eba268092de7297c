-- electric_shapes 0.3.0: the shapes catalog, its SQL API and views.
\echo Use "CREATE EXTENSION electric_shapes" to load this file. \quit

-------------------------------------------------------------------------------------------------
-- Shapes (SPEC section 2)
-------------------------------------------------------------------------------------------------

-- The catalog the output plugin reads while decoding, hence a user catalog table. Changed only
-- through this extension's functions and event triggers; nobody else may write it. Columns are
-- kept by number, as the filter's column references are, so renaming a column keeps a shape.
CREATE TABLE shape_catalog (
    name           text PRIMARY KEY,
    relation       oid NOT NULL,
    where_clause   text,            -- as the user wrote it
    filter_node    text,            -- the analyzed, checked expression (nodeToString)
    column_numbers int2[],          -- the projection; NULL means every column
    replica        text NOT NULL CHECK (replica IN ('default', 'full')),
    owner          oid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    needs_full_identity boolean NOT NULL,  -- the filter or replica mode needs whole old rows
    -- An equality term of the filter (column = constant, column IN (...)) the plugin indexes
    -- shapes by, so that a change costs the same with one such shape or many; NULL: none.
    index_column   int2,
    index_operator oid,             -- the hashable equality, the column on its left
    index_collation oid,
    index_values   text[],          -- the constants as text (fixed settings), for reading only
    signature      text NOT NULL,   -- the table's name, projected columns and key, as messages show them
    broken         text,            -- why the shape can no longer be honoured, or NULL
    -- The columns (by number: where_clause 3, filter_node 4, index_values 13) whose values are
    -- too large for this row: NULL here, their text is in shape_catalog_parts. NULL: none.
    stored_apart   int2[]
) WITH (user_catalog_table = true);
REVOKE ALL ON shape_catalog FROM PUBLIC;
-- Decoding reads this table through historic snapshots, and PostgreSQL keeps old row versions of
-- a user catalog table for that, but not the TOAST chunks of its values (its TOAST table is
-- vacuumed like any other): every value is kept in the row (compressed if need be). Definitions
-- too large for that are cut into rows of shape_catalog_parts.
ALTER TABLE shape_catalog
    ALTER COLUMN name SET STORAGE MAIN,
    ALTER COLUMN where_clause SET STORAGE MAIN,
    ALTER COLUMN filter_node SET STORAGE MAIN,
    ALTER COLUMN column_numbers SET STORAGE MAIN,
    ALTER COLUMN replica SET STORAGE MAIN,
    ALTER COLUMN index_values SET STORAGE MAIN,
    ALTER COLUMN signature SET STORAGE MAIN,
    ALTER COLUMN broken SET STORAGE MAIN,
    ALTER COLUMN stored_apart SET STORAGE MAIN;

-- The large values of shape_catalog, as their text cut in pieces. Each piece is small enough to
-- stay in its row uncompressed (create_shape cuts them so), so that, like the catalog's rows,
-- every version decoding may still read is kept: a value never lives in the TOAST table, whose
-- old chunks VACUUM removes whatever a replication slot still needs. A user catalog table too,
-- read through the same historic snapshots.
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

-- columns: what the stream sends, as Electric's selected columns do: the listed columns (every
-- column when none were listed) and the primary key's, in table order, as the messages carry them.
CREATE VIEW shapes AS
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

-- Follows a change of a shaped table's definition: marks the shapes it can no longer honour (a
-- filtered or projected column dropped, or its type changed, the primary key dropped or given
-- other columns), and records a new signature for
-- those whose messages change form (the table or a projected column renamed, a column added to
-- an all-columns shape). Both are catalog updates the plugin announces with must-refetch.
CREATE FUNCTION check_shapes(relation oid)
RETURNS void
AS 'MODULE_PATHNAME', 'check_shapes'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION check_shapes(oid) FROM PUBLIC;

-- Dropping a shaped table drops its shapes, inside the same transaction; dropping one of its
-- columns checks them.
CREATE FUNCTION follow_dropped_objects()
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
REVOKE ALL ON FUNCTION follow_dropped_objects() FROM PUBLIC;

CREATE EVENT TRIGGER electric_shapes_dropped_objects ON sql_drop
    EXECUTE FUNCTION follow_dropped_objects();

-- ALTER TABLE on a shaped table (a column's type, say) checks its shapes.
CREATE FUNCTION follow_altered_tables()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed oid;
BEGIN
    FOR changed IN
        SELECT DISTINCT d.objid FROM pg_catalog.pg_event_trigger_ddl_commands() d
         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.objid IN (SELECT relation FROM electric_shapes.shape_catalog)
    LOOP
        PERFORM electric_shapes.check_shapes(changed);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION follow_altered_tables() FROM PUBLIC;

CREATE EVENT TRIGGER electric_shapes_altered_tables ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION follow_altered_tables();

-- Dropping the extension, or its catalog, is refused while replication slots of this database
-- decode with the plugin: they read the catalog to decode every change made before the drop.
-- The check is an object access hook of the library, which sees the extension or the catalog
-- being dropped however the DROP reached it; this trigger only makes sure the library is loaded
-- in the backend that drops. ENABLE ALWAYS: it fires under session_replication_role = replica too.
CREATE FUNCTION guard_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'guard_drop'
LANGUAGE C;
REVOKE ALL ON FUNCTION guard_drop() FROM PUBLIC;

CREATE EVENT TRIGGER electric_shapes_guard_drop ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP TABLE', 'DROP OWNED')
    EXECUTE FUNCTION guard_drop();
ALTER EVENT TRIGGER electric_shapes_guard_drop ENABLE ALWAYS;

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

-- May the current user (role, and claims as authenticate sets them) sync a shape? Allowed only
-- when every row the shape can ever hold is one that user may read: the table has no row-level
-- security for the role (and the role may SELECT it), or a top-level AND conjunct of the
-- analysed filter pins the owner column of enable_owner_rls to the sub claim, or the key column
-- of enable_membership_rls, by = or IN, to keys the user is a member of now. Anything else is
-- refused with the reason and a hint of what would be allowed. depends_on: the membership
-- relations the answer read, whose changes can change it. Runs as the caller.
CREATE FUNCTION shape_access(relation regclass, where_clause text DEFAULT NULL, columns text[] DEFAULT NULL,
                             OUT allowed boolean, OUT reason text, OUT hint text,
                             OUT depends_on regclass[])
RETURNS record
AS 'MODULE_PATHNAME', 'shape_access'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION shape_access(regclass, text, text[]) IS
    'Whether the current user may sync the shape (relation, where_clause, columns): allowed, the reason, a hint of what would be allowed, and the membership relations the answer depends on';
GRANT EXECUTE ON FUNCTION shape_access(regclass, text, text[]) TO PUBLIC;

-------------------------------------------------------------------------------------------------
-- Statistics and health (SPEC section 5)
-------------------------------------------------------------------------------------------------

-- The plugin's counters in shared memory (empty without shared_preload_libraries).
CREATE FUNCTION slot_counters(
    OUT slot_name text, OUT changes_decoded bigint, OUT changes_emitted bigint,
    OUT changes_filtered bigint, OUT txns_decoded bigint, OUT txns_emitted bigint,
    OUT bytes_emitted bigint, OUT spill_baseline bigint, OUT last_commit_lsn pg_lsn,
    OUT last_commit_at timestamptz, OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'slot_counters'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION shape_counters(
    OUT slot_name text, OUT shape text, OUT inserts bigint, OUT updates bigint,
    OUT deletes bigint, OUT move_ins bigint, OUT move_outs bigint, OUT must_refetches bigint,
    OUT filter_errors bigint, OUT bytes bigint, OUT last_lsn pg_lsn, OUT last_emit_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'shape_counters'
LANGUAGE C STRICT VOLATILE;

-- Whether statistics are on, and how full their shared tables are; untracked_* count what did
-- not fit since stats_reset (a full reset_stats()).
CREATE FUNCTION stats_capacity(
    OUT enabled boolean, OUT max_tracked_slots integer, OUT tracked_slots integer,
    OUT untracked_slots bigint, OUT max_tracked_shapes integer, OUT tracked_shapes bigint,
    OUT untracked_shapes bigint, OUT stats_reset timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'stats_capacity'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION stats_capacity() IS
    'Whether electric_shapes statistics are on, and how many slots and shapes they track';

CREATE FUNCTION reset_stats(slot text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'reset_stats'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION reset_stats(text) IS
    'Clears the electric_shapes statistics of one replication slot, or of every slot when NULL';
REVOKE ALL ON FUNCTION reset_stats(text) FROM PUBLIC;

-- What the health view needs from the configuration, readable by any role: the
-- electric_shapes.health_* sizes in bytes (NULL when disabled), whether output_plugin_libraries
-- (NULL when this server has no such setting) and shared_preload_libraries name electric_shapes,
-- and output_plugin_libraries itself for roles that may read settings.
CREATE FUNCTION health_settings(
    OUT inactive_slot_error_bytes bigint, OUT lag_warning_bytes bigint, OUT lag_error_bytes bigint,
    OUT output_plugin_libraries text, OUT plugin_library_listed boolean, OUT preload_listed boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'health_settings'
LANGUAGE C STRICT STABLE;

-- The server's current WAL position (the replay position on a standby). An SQL-standard body:
-- bound when created, so the caller's search_path plays no part in it.
CREATE FUNCTION current_wal_lsn()
RETURNS pg_lsn
LANGUAGE sql STABLE
RETURN CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
            ELSE pg_catalog.pg_current_wal_lsn() END;

CREATE VIEW shape_stats AS
    SELECT c.slot_name, c.shape, c.inserts, c.updates, c.deletes, c.move_ins, c.move_outs,
           c.must_refetches, c.filter_errors, c.bytes, c.last_lsn, c.last_emit_at
      FROM electric_shapes.shape_counters() c
     ORDER BY c.slot_name, c.shape;
GRANT SELECT ON shape_stats TO PUBLIC;

-- One row per slot of the electric_shapes plugin. application_name and client_addr come from the
-- process holding the slot: a walsender or a backend calling pg_logical_slot_get_changes.
-- spill_bytes is PostgreSQL's own figure (pg_stat_replication_slots) counted from the last
-- reset_stats, or since PostgreSQL's own reset when that came later. Without the preload the
-- plugin's counters are NULL and spill_bytes and stats_reset are PostgreSQL's.
CREATE VIEW slot_stats AS
    SELECT s.slot_name::text AS slot_name,
           s.active,
           s.active_pid,
           a.application_name,
           a.client_addr,
           s.confirmed_flush_lsn,
           pg_catalog.pg_wal_lsn_diff(electric_shapes.current_wal_lsn(), s.confirmed_flush_lsn)::bigint
               AS lag_bytes,
           pg_catalog.pg_wal_lsn_diff(electric_shapes.current_wal_lsn(), s.restart_lsn)::bigint
               AS retained_wal_bytes,
           s.wal_status,
           s.safe_wal_size,
           c.changes_decoded,
           c.changes_emitted,
           c.changes_filtered,
           c.txns_decoded,
           c.txns_emitted,
           c.bytes_emitted,
           CASE WHEN c.slot_name IS NULL OR r.spill_bytes < c.spill_baseline THEN r.spill_bytes
                ELSE r.spill_bytes - c.spill_baseline END AS spill_bytes,
           c.last_commit_lsn,
           c.last_commit_at,
           CASE WHEN c.slot_name IS NULL THEN r.stats_reset ELSE c.stats_reset END AS stats_reset
      FROM pg_catalog.pg_replication_slots s
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = s.active_pid
      LEFT JOIN pg_catalog.pg_stat_replication_slots r ON r.slot_name = s.slot_name
      LEFT JOIN electric_shapes.slot_counters() c ON c.slot_name = s.slot_name::text
     WHERE s.plugin = 'electric_shapes'
     ORDER BY s.slot_name;
GRANT SELECT ON slot_stats TO PUBLIC;

-- One row per check, whatever its status; detail names the slots, tables and shapes concerned.
CREATE VIEW health AS
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
GRANT SELECT ON health TO PUBLIC;

-- The statistics and health checks in Prometheus text exposition format 0.0.4.
CREATE FUNCTION metrics()
RETURNS text
AS 'MODULE_PATHNAME', 'metrics'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION metrics() IS
    'electric_shapes statistics and health checks in Prometheus text exposition format 0.0.4';
