-- electric_shapes 0.2.0 -> 0.3.0: ALTER EXTENSION electric_shapes UPDATE.
-- Adds shape_access, the question the sync service asks for a user with a token (SPEC section
-- 9). Nothing else changes: shapes, slots and statistics go on as they are.
\echo Use "ALTER EXTENSION electric_shapes UPDATE TO '0.3.0'" to load this file. \quit

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
