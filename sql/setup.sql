-- Runs first: the extension, and regress.changes(), which consumes a slot's changes, checks that
-- every message is one JSON document and that (lsn, op_position) strictly increases, and masks
-- what differs from run to run (LSNs, transaction ids, commit times).
SET client_min_messages = warning;
CREATE EXTENSION electric_shapes;
RESET client_min_messages;
CREATE SCHEMA regress;
CREATE FUNCTION regress.changes(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    message text;
    headers jsonb;
    previous numeric[] := ARRAY[-1, -1];
    position numeric[];
BEGIN
    FOR message IN SELECT data FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC options) LOOP
        headers := message::jsonb -> 'headers';
        IF headers ? 'op_position' THEN
            position := ARRAY[(headers->>'lsn')::numeric, (headers->>'op_position')::numeric];
            IF position <= previous THEN
                RAISE EXCEPTION 'stream order broken at %', message;
            END IF;
            previous := position;
        END IF;
        RETURN NEXT regexp_replace(regexp_replace(regexp_replace(message,
            '"lsn":"[0-9]+"', '"lsn":"L"', 'g'),
            '"txids":\[[0-9]+\]', '"txids":[T]', 'g'),
            '"commit_time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"', '"commit_time":"C"', 'g');
    END LOOP;
END
$$;
