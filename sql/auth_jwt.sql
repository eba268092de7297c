-- JWT verification and the claims functions: verify_jwt, authenticate, set_claims, claims and
-- user_id, every refusal with its SQLSTATE, and who may call what.
CREATE EXTENSION pgcrypto;
SET search_path = electric_shapes, public;

-- Test helpers: tokens signed here with pgcrypto, and the outcome of a statement as one line
-- ("ok: <result>" or "<SQLSTATE>: <message>"), followed by the detail and hint when asked for.
CREATE FUNCTION pg_temp.b64url(bytes bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT translate(encode(bytes, 'base64'), E'+/=\n', '-_') $$;
CREATE FUNCTION pg_temp.token(payload text, secret text DEFAULT 'chat-secret-0123456789-abcdefghij',
                              alg text DEFAULT 'HS256', header text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
    SELECT input || '.' || pg_temp.b64url(hmac(input, secret, 'sha' || substr(alg, 3)))
      FROM (SELECT pg_temp.b64url(convert_to(coalesce(header, '{"alg":"' || alg || '","typ":"JWT"}'), 'UTF8'))
                   || '.' || pg_temp.b64url(convert_to(payload, 'UTF8')) AS input) s
$$;
CREATE FUNCTION pg_temp.try(statement text, show_detail boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE statement INTO result;
    RETURN 'ok: ' || coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message
        || CASE WHEN show_detail AND detail <> '' THEN E'\n    detail: ' || detail ELSE '' END
        || CASE WHEN show_detail AND hint <> '' THEN E'\n    hint: ' || hint ELSE '' END;
END
$$;
\pset format unaligned
\pset tuples_only on

-- Valid tokens of the three algorithms give their claims as jsonb.
SELECT verify_jwt(pg_temp.token('{"sub":"alice","role":"member","exp":4102444800}'),
                  'chat-secret-0123456789-abcdefghij');
SELECT verify_jwt(pg_temp.token('{"sub":"bob","n":[1,2.5,{"x":null}]}', alg => 'HS384'),
                  'chat-secret-0123456789-abcdefghij');
SELECT verify_jwt(pg_temp.token('{"sub":"Zoë 💬"}', 's3', 'HS512'), 's3') ->> 'sub';
SELECT jsonb_typeof(verify_jwt(pg_temp.token('{"sub":"alice"}'), 'chat-secret-0123456789-abcdefghij'));
-- jsonwebtoken's classic example token (jwt.io), a token signed elsewhere.
SELECT verify_jwt('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
                  'your-256-bit-secret');

-- Wrong secret, altered payload, altered signature: 28P01.
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"alice"}'), 'another-secret')$$);
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L)',
    split_part(t, '.', 1) || '.' || pg_temp.b64url('{"sub":"admin"}') || '.' || split_part(t, '.', 3),
    'chat-secret-0123456789-abcdefghij'))
  FROM pg_temp.token('{"sub":"alice"}') t;
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L)', overlay(t placing 'A' from length(t) - 5),
                          'chat-secret-0123456789-abcdefghij'))
  FROM pg_temp.token('{"sub":"alice"}') t WHERE substr(t, length(t) - 5, 1) <> 'A';
-- A header that names HS256 over an HS512 signature.
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L)',
    split_part(pg_temp.token('{"sub":"alice"}', 'k', 'HS256'), '.', 1) || '.' ||
    split_part(pg_temp.token('{"sub":"alice"}', 'k', 'HS256'), '.', 2) || '.' ||
    split_part(pg_temp.token('{"sub":"alice"}', 'k', 'HS512', '{"alg":"HS256","typ":"JWT"}'), '.', 3),
    'k'));

-- Refused algorithms and headers: 28000.
SELECT pg_temp.try($$SELECT verify_jwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"admin"}', 'k', 'HS256', '{"alg":"None"}'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"admin"}', 'k', 'HS256', '{"alg":"RS256"}'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"admin"}', 'k', 'HS256', '{"alg":"ES256"}'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"admin"}', 'k', 'HS256', '{"typ":"JWT"}'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"admin"}', 'k', 'HS256', '{"alg":"HS256","crit":["b64"]}'), 'k')$$);

-- Malformed tokens: 28000.
SELECT pg_temp.try($$SELECT verify_jwt('', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(NULL, 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('not-a-token', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('a.b.c.d.e', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('Bearer ' || pg_temp.token('{}', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{}', 'k') || '=', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.abc+def', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.abcde', 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt('e30.e30.e30', 'k')$$);
-- Every truncation of a valid token is refused with an authorization SQLSTATE.
SELECT string_agg(DISTINCT split_part(pg_temp.try(format('SELECT verify_jwt(%L, %L)', left(t, n), 'k')), ':', 1), ', ')
  FROM pg_temp.token('{"sub":"alice","exp":4102444800}', 'k') t, generate_series(0, length(t) - 1) n;
-- Signed payloads that are not acceptable claims.
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('["alice"]', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a\u0000"}', 'k'), 'k')$$);
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L)', h || '.' || p || '.' || pg_temp.b64url(hmac(h || '.' || p, 'k', 'sha256')), 'k'))
  FROM pg_temp.b64url('{"alg":"HS256"}') h, pg_temp.b64url('\x7b22737562223a22ff227d'::bytea) p;  -- {"sub":"\xff"}

-- The secret: null and empty are refused; a non-ASCII secret is used as its UTF-8 bytes.
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{}', 'k'), NULL)$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{}', 'k'), '')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"x"}', 'sécret'), 'sécret')$$);

-- exp and nbf, with and without leeway (fixed dates far from now).
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a","exp":1300819380}', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a","nbf":4102444800}', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a","exp":"tomorrow"}', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a","exp":4102444800,"nbf":1300819380}', 'k'), 'k')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a","exp":1300819380}', 'k'), 'k', '-1 second')$$);
SELECT pg_temp.try($$SELECT verify_jwt(pg_temp.token('{"sub":"a","exp":1300819380}', 'k'), 'k', NULL)$$);
-- Tokens that expired 30 seconds ago, or become valid in 30 seconds: the leeway decides.
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L)', pg_temp.token(format('{"exp":%s}', extract(epoch FROM now())::bigint - 30), 'k'), 'k'), false);
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L, %L) ? %L', pg_temp.token(format('{"exp":%s}', extract(epoch FROM now())::bigint - 30), 'k'), 'k', '1 minute', 'exp'), false);
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L, %L)', pg_temp.token(format('{"exp":%s}', extract(epoch FROM now())::bigint - 30), 'k'), 'k', '10 seconds'), false);
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L)', pg_temp.token(format('{"nbf":%s}', extract(epoch FROM now())::bigint + 30), 'k'), 'k'), false);
SELECT pg_temp.try(format('SELECT verify_jwt(%L, %L, %L) ? %L', pg_temp.token(format('{"nbf":%s}', extract(epoch FROM now())::bigint + 30), 'k'), 'k', '1 minute', 'nbf'), false);

-- claims, user_id and set_claims: nothing set yet.
SELECT claims() IS NULL AS no_claims, user_id() IS NULL AS no_user;
BEGIN;
SELECT set_claims('{"sub":"alice","role":"member"}');
SELECT claims(), user_id();
-- The same setting PostgREST and Supabase use.
SELECT current_setting('request.jwt.claims');
SELECT set_claims('{"sub":42}');
SELECT user_id();
SELECT set_claims(NULL);
SELECT claims() IS NULL AS cleared, user_id() IS NULL AS no_user;
SELECT pg_temp.try($$SELECT set_claims('["alice"]')$$);
SELECT pg_temp.try($$SELECT set_claims('"alice"')$$);
-- Claims set by PostgREST are read the same way.
SELECT set_config('request.jwt.claims', '{"sub":"carol","role":"authenticated"}', true) IS NOT NULL;
SELECT user_id();
COMMIT;
-- Transaction-local: gone after the transaction.
SELECT claims() IS NULL AS no_claims;

-- authenticate = verify_jwt + set_claims.
BEGIN;
SELECT authenticate(pg_temp.token('{"sub":"dave","exp":4102444800}', 'k'), 'k') ->> 'sub';
SELECT user_id(), claims() ->> 'exp' AS exp;
-- A failed authentication raises; caught, it leaves the claims as they were.
SELECT pg_temp.try($$SELECT authenticate(pg_temp.token('{"sub":"mallory"}', 'k'), 'wrong')$$);
SELECT user_id();
COMMIT;
SELECT user_id() IS NULL AS no_user;

-- Volatility, parallel safety and security of the functions.
SELECT p.proname, p.provolatile, p.proparallel, p.prosecdef, p.proisstrict
  FROM pg_proc p
 WHERE p.pronamespace = 'electric_shapes'::regnamespace
   AND p.proname IN ('verify_jwt', 'authenticate', 'set_claims', 'claims', 'user_id')
 ORDER BY p.proname;

-- Privileges: any role may verify, authenticate and read claims; set_claims needs a grant.
CREATE ROLE regress_jwt_client;
SET ROLE regress_jwt_client;
BEGIN;
SELECT electric_shapes.authenticate(pg_temp.token('{"sub":"erin"}', 'k'), 'k') ->> 'sub';
SELECT electric_shapes.user_id(), electric_shapes.claims();
SELECT pg_temp.try($$SELECT electric_shapes.set_claims('{"sub":"admin"}')$$);
COMMIT;
RESET ROLE;
GRANT EXECUTE ON FUNCTION electric_shapes.set_claims(jsonb) TO regress_jwt_client;
SET ROLE regress_jwt_client;
BEGIN;
SELECT electric_shapes.set_claims('{"sub":"frank"}');
SELECT electric_shapes.user_id();
COMMIT;
RESET ROLE;
DROP OWNED BY regress_jwt_client;
DROP ROLE regress_jwt_client;

-- The regression tests share one database: leave it as it was found.
\pset format aligned
\pset tuples_only off
DROP EXTENSION pgcrypto;
