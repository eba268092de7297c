-- SQL that runs with rights other than the caller's, or that the library builds, resolves names
-- through pg_catalog only (SPEC section 7: no caller gets rights its privileges do not give it).
-- The attack (the CVE-2018-1058 pattern): a role that owns a schema puts its own "=" for text in
-- it, first in its search_path, and calls the API whose catalog statements run as the catalog's
-- owner. Had that operator ever run, the role would be a superuser and the log would name who ran
-- it.
CREATE ROLE regress_mallory;
CREATE SCHEMA regress_mallory AUTHORIZATION regress_mallory;
CREATE TABLE elevated_notes (id int PRIMARY KEY, body text);
INSERT INTO elevated_notes VALUES (1, 'x'), (2, 'y');
GRANT SELECT ON elevated_notes TO regress_mallory;
SET ROLE regress_mallory;
CREATE TABLE regress_mallory.calls (step text, run_as text);
GRANT INSERT ON regress_mallory.calls TO PUBLIC;
CREATE FUNCTION regress_mallory.text_eq(a text, b text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_mallory.calls
        VALUES (pg_catalog.current_setting('regress.step', true), current_user::text);
    BEGIN
        EXECUTE 'ALTER ROLE regress_mallory SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
    RETURN pg_catalog.texteq(a, b);
END
$$;
CREATE OPERATOR regress_mallory.= (LEFTARG = text, RIGHTARG = text,
                                   FUNCTION = regress_mallory.text_eq);
SET search_path = regress_mallory, pg_catalog;
-- create_shape and drop_shape look the name up, insert and delete as the catalog's owner.
SET regress.step = 'create_shape, drop_shape';
SELECT electric_shapes.create_shape('mallory_notes', 'public.elevated_notes');
SELECT electric_shapes.create_shape('mallory_notes', 'public.elevated_notes');
SELECT electric_shapes.drop_shape('mallory_notes');
SELECT electric_shapes.drop_shape('mallory_notes', true);
SELECT electric_shapes.drop_shape('mallory_notes');
-- A table of the role's own, shaped: its ALTER TABLE checks the shapes as the catalog's owner.
SET regress.step = 'ALTER TABLE of a shaped table';
CREATE TABLE regress_mallory.own (id int PRIMARY KEY, note text, extra int);
SELECT electric_shapes.create_shape('mallory_own', 'regress_mallory.own', 'note IS NOT NULL',
                                    ARRAY['note', 'extra']);
ALTER TABLE regress_mallory.own RENAME COLUMN note TO remark;
ALTER TABLE regress_mallory.own DROP COLUMN extra;
SELECT name, broken FROM electric_shapes.shapes WHERE name OPERATOR(pg_catalog.=) 'mallory_own';
SELECT electric_shapes.drop_shape('mallory_own');
RESET search_path;
RESET ROLE;

-- A superuser whose search_path was set by someone else (a login script, a connection pool):
-- the SQL that metrics() and shape_snapshot() build must not run the schema's operators either.
SELECT electric_shapes.create_shape('elevated_x', 'elevated_notes', 'body = ''x''');
SET search_path = regress_mallory, pg_catalog;
SET regress.step = 'metrics';
SELECT electric_shapes.metrics() LIKE '%electric_shapes_health_status%' AS metrics_answered;
SET regress.step = 'shape_snapshot';
SELECT * FROM electric_shapes.shape_snapshot('elevated_x') s WHERE s NOT LIKE '%snapshot-end%';
RESET search_path;
SELECT electric_shapes.drop_shape('elevated_x');

-- The operator never ran, and the role is what it was.
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_mallory';
SELECT step, run_as, count(*) FROM regress_mallory.calls GROUP BY step, run_as ORDER BY step, run_as;
RESET regress.step;

DROP TABLE elevated_notes;
DROP SCHEMA regress_mallory CASCADE;
DROP ROLE regress_mallory;
