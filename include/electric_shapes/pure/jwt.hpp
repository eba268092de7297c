// Verification of HMAC-signed JSON Web Tokens (RFC 7519, JWS compact serialization of RFC 7515),
// without PostgreSQL: the SQL functions of SPEC section 6 wrap it. Only HS256, HS384 and HS512
// are accepted, because the signing secret is the only key material the database holds; "none"
// and public-key algorithms are refused rather than half-supported. The current time is a
// parameter so that the expiry rules can be tested deterministically.
//
// Every failure is an es::UserError with an authorization SQLSTATE: 28P01 when the token is
// well formed but its signature does not match (a wrong credential, as a wrong password is),
// 28000 for everything else (malformed, refused algorithm, expired, not yet valid).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace es::jwt {

inline constexpr const char *kInvalidAuthorization = "28000";
inline constexpr const char *kInvalidSignature = "28P01";

// Claims payloads nesting deeper than this are refused (real tokens nest two or three levels).
inline constexpr int kMaxNesting = 64;

enum class Algorithm { HS256, HS384, HS512 };

// "HS256", "HS384" or "HS512".
const char *algorithm_name(Algorithm algorithm);

// The algorithm a header's "alg" names, or nothing when it is not one of the three.
std::optional<Algorithm> parse_algorithm(std::string_view name);

// A token whose signature, algorithm and time claims were checked.
struct Verified {
    Algorithm algorithm;
    std::string header;  // the decoded header, JSON text
    std::string claims;  // the decoded payload exactly as signed: a JSON object, valid UTF-8
};

// Verifies token against secret at time now (seconds since 1970-01-01 UTC) with leeway seconds
// of tolerance on "exp" and "nbf". Throws es::UserError on every failure.
Verified verify(std::string_view token, std::string_view secret, double now, double leeway);

// base64url without padding (RFC 4648 section 5).
std::string base64url_encode(std::string_view bytes);

// Strict base64url decoding: no padding, no white space, only the 64 letters of the alphabet,
// no length of the form 4n+1, and unused trailing bits zero, so that every byte string has
// exactly one encoding. Returns nothing and sets *reason when text is not such an encoding.
std::optional<std::string> base64url_decode(std::string_view text, std::string *reason = nullptr);

// The HMAC of data under secret with the algorithm's hash function.
std::string hmac(Algorithm algorithm, std::string_view secret, std::string_view data);

// A signed token for the given header and payload JSON texts (used by tests and tools).
std::string sign(std::string_view header_json, std::string_view payload_json,
                 std::string_view secret, Algorithm algorithm);

}  // namespace es::jwt
