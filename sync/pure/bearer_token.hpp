// A user's request: "Authorization: Bearer <token>" (RFC 6750 section 2.1) checked with the rules
// of verify_jwt (SPEC section 6) by the same code, src/pure/jwt.cpp (HS256/384/512 only, the
// header's alg must match, "none" and public-key algorithms refused, exp and nbf checked, the
// signature compared in constant time). Pure: the time is a parameter, so every outcome is
// unit-tested.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace es::sync {

// The claims of a verified token that the service itself reads.
struct BearerUser {
    std::string token;   // as sent: the database verifies it again (electric_shapes.authenticate)
    std::string claims;  // the payload exactly as signed (JSON text): the cache key of the user
    std::string sub;     // the sub claim ("" when absent)
    std::string role;    // the role claim: the database role the service asks as ("" when absent)
    std::optional<double> exp;  // seconds since 1970, when the token has an exp claim
};

struct BearerOutcome {
    std::optional<BearerUser> user;
    std::string error;  // why not, for the 401 response (when no user)
};

// The token of an Authorization header value: "Bearer" (any case), one or more spaces, the
// token (no spaces); nothing, with *error set, otherwise.
std::optional<std::string> bearer_token(std::string_view header, std::string *error);

// Checks the header's token against secret at time now (seconds since 1970-01-01 UTC).
BearerOutcome verify_bearer(std::string_view header, std::string_view secret, double now);

}  // namespace es::sync
