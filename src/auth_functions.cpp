// The SQL functions of SPEC section 6 that need C: verify_jwt, set_claims and authenticate.
// Verification itself is the pure C++ of pure/jwt.hpp; this file reads the arguments, takes the
// time from the server's clock, turns verified claims into jsonb and stores them where PostgREST
// and Supabase keep them, the transaction-local setting request.jwt.claims.
#include "electric_shapes/pure/jwt.hpp"
#include "electric_shapes/pg_boundary.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

namespace es {

namespace {

constexpr const char *kClaimsSetting = "request.jwt.claims";

// The text of a non-null text argument, or an authorization error saying which one is missing.
char *required_text(FunctionCallInfo fcinfo, int argno, const char *message)
{
    if (PG_ARGISNULL(argno))
        ereport(ERROR, (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), errmsg("%s", message)));
    return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

// The leeway argument in seconds, counting months and years as extract(epoch ...) does.
double leeway_seconds(FunctionCallInfo fcinfo, int argno)
{
    if (PG_ARGISNULL(argno))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("leeway must not be null"),
                        errhint("Pass interval '0' for no tolerance.")));
    Interval *leeway = PG_GETARG_INTERVAL_P(argno);
    double seconds = static_cast<double>(leeway->time) / USECS_PER_SEC +
                     static_cast<double>(leeway->day) * SECS_PER_DAY +
                     static_cast<double>(leeway->month / MONTHS_PER_YEAR) * DAYS_PER_YEAR * SECS_PER_DAY +
                     static_cast<double>(leeway->month % MONTHS_PER_YEAR) * DAYS_PER_MONTH * SECS_PER_DAY;
    if (seconds < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("leeway must not be negative"),
                        errhint("The leeway is how much clock difference to tolerate, such as interval '30 seconds'.")));
    return seconds;
}

// Runs the pure verifier and returns the verified payload copied into the current memory
// context. The copy is allocated while C++ strings are alive, so it uses the allocation that
// reports failure by returning NULL instead of raising an error (pg_boundary.hpp, rule 2).
char *verify_into_palloc(const char *token, const char *secret, double now, double leeway)
{
    char *copy;
    {
        jwt::Verified verified = jwt::verify(token, secret, now, leeway);
        size_t size = verified.claims.size() + 1;
        copy = static_cast<char *>(MemoryContextAllocExtended(
            CurrentMemoryContext, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM));
        if (copy == nullptr)
            throw std::bad_alloc();
        memcpy(copy, verified.claims.c_str(), size);
    }
    return copy;
}

// Verifies the (token, secret, leeway) arguments against the server's clock; returns the claims.
Datum verified_claims(FunctionCallInfo fcinfo)
{
    const char *token = required_text(fcinfo, 0, "JWT is null");
    char *secret = required_text(fcinfo, 1, "JWT secret is null");
    double leeway = leeway_seconds(fcinfo, 2);
    // Tokens are signed over the UTF-8 bytes of the secret, whatever the database encoding is.
    secret = pg_server_to_any(secret, static_cast<int>(strlen(secret)), PG_UTF8);
    // The wall clock rather than the transaction's start: a long transaction must not keep
    // accepting a token that has expired since it began.
    TimestampTz clock = GetCurrentTimestamp();
    double now = static_cast<double>(clock) / USECS_PER_SEC +
                 static_cast<double>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    char *claims = verify_into_palloc(token, secret, now, leeway);
    claims = pg_any_to_server(claims, static_cast<int>(strlen(claims)), PG_UTF8);
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(claims));
}

// Stores claims (JSON text, or "" for none) in request.jwt.claims until the transaction ends, as
// set_config(..., true) does.
void store_claims(const char *claims)
{
    (void) set_config_option(kClaimsSetting, claims, superuser() ? PGC_SUSET : PGC_USERSET,
                             PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

// The text form of a jsonb datum.
const char *jsonb_text(Datum value)
{
    Jsonb *claims = DatumGetJsonbP(value);
    return JsonbToCString(nullptr, &claims->root, VARSIZE(claims));
}

Datum set_claims_impl(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(0)) {
        store_claims("");
        PG_RETURN_VOID();
    }
    Jsonb *claims = PG_GETARG_JSONB_P(0);
    if (!JB_ROOT_IS_OBJECT(claims))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("claims must be a JSON object, not %s",
                               JB_ROOT_IS_SCALAR(claims) ? "a scalar" : "an array"),
                        errhint("JWT claims are an object such as '{\"sub\": \"alice\"}'; pass NULL "
                                "to clear them.")));
    store_claims(jsonb_text(PG_GETARG_DATUM(0)));
    PG_RETURN_VOID();
}

Datum authenticate_impl(FunctionCallInfo fcinfo)
{
    Datum claims = verified_claims(fcinfo);
    store_claims(jsonb_text(claims));
    PG_RETURN_DATUM(claims);
}

}  // namespace

}  // namespace es

extern "C" {

PG_FUNCTION_INFO_V1(verify_jwt);
// verify_jwt(token, secret, leeway): the claims of an HS256/384/512 token, or an error.
Datum verify_jwt(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::verified_claims(fcinfo); });
}

PG_FUNCTION_INFO_V1(set_claims);
// set_claims(claims): sets request.jwt.claims for the rest of the transaction.
Datum set_claims(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::set_claims_impl(fcinfo); });
}

PG_FUNCTION_INFO_V1(authenticate);
// authenticate(token, secret, leeway): verify_jwt, then set_claims with the result.
Datum authenticate(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::authenticate_impl(fcinfo); });
}

}
