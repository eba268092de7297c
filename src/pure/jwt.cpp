// Verification of HMAC-signed JSON Web Tokens (see jwt.hpp). The order of the checks matters:
// the header is read first (it names the algorithm), then the signature is checked in constant
// time, and only a payload whose signature matched is parsed at all.
#include "electric_shapes/pure/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "electric_shapes/pure/errors.hpp"

namespace es::jwt {

namespace {

using nlohmann::json;

constexpr const char *kAcceptedHint = "Sign tokens with HS256, HS384 or HS512.";

// Printable ASCII only, at most limit characters: safe in any error message, whatever the input.
std::string printable(std::string_view text, size_t limit = 64)
{
    std::string out;
    for (size_t i = 0; i < text.size() && out.size() < limit; i++) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (text.size() > limit)
        out += "...";
    return out;
}

UserError unauthorized(const std::string &message, std::string hint = {}, std::string detail = {})
{
    return UserError(kInvalidAuthorization, message, std::move(hint), std::move(detail));
}

// The value of one base64url character, or -1.
int base64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

const EVP_MD *digest_of(Algorithm algorithm)
{
    switch (algorithm) {
    case Algorithm::HS256:
        return EVP_sha256();
    case Algorithm::HS384:
        return EVP_sha384();
    case Algorithm::HS512:
        return EVP_sha512();
    }
    throw std::logic_error("unknown JWT algorithm");
}

size_t digest_size(Algorithm algorithm)
{
    switch (algorithm) {
    case Algorithm::HS256:
        return 32;
    case Algorithm::HS384:
        return 48;
    case Algorithm::HS512:
        return 64;
    }
    throw std::logic_error("unknown JWT algorithm");
}

// Decodes one part of the token; part names it in the error ("header", "payload", "signature").
std::string decode_part(std::string_view text, const char *part)
{
    std::string reason;
    std::optional<std::string> bytes = base64url_decode(text, &reason);
    if (!bytes)
        throw unauthorized(std::string("JWT ") + part + " is not valid base64url",
                           "Each part of a JWT is base64url-encoded without padding (RFC 7515).",
                           reason);
    return std::move(*bytes);
}

// nlohmann's message without its "[json.exception...] " prefix, made printable.
std::string parse_problem(const json::exception &e)
{
    std::string_view what = e.what();
    size_t bracket = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && bracket != std::string_view::npos)
        what.remove_prefix(bracket + 2);
    return printable(what, 300);
}

// Checks what nlohmann accepts but jsonb would not store, or what would let the two readers of
// the payload disagree: a byte order mark (nlohmann skips it), a raw NUL byte (nlohmann stops
// there, jsonb reads a C string), the escape \u0000 (no text type can hold it), and nesting
// deeper than kMaxNesting. text has been parsed as JSON already, so strings are well formed.
void check_storable(const std::string &text, const char *part)
{
    auto refuse = [&](const std::string &detail) {
        return unauthorized(std::string("JWT ") + part + " is not acceptable JSON", {}, detail);
    };
    if (text.rfind("\xEF\xBB\xBF", 0) == 0)
        throw refuse("It begins with a byte order mark.");
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c == '\0')
            throw refuse("It contains a NUL byte.");
        if (in_string) {
            if (c == '"') {
                in_string = false;
            } else if (c == '\\') {
                if (i + 1 < text.size() && text[i + 1] == 'u' && text.compare(i + 2, 4, "0000") == 0)
                    throw refuse("It contains the escape \\u0000, which text and jsonb cannot store.");
                i++;  // the escaped character; \uXXXX digits are plain characters
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > kMaxNesting)
                throw refuse("It nests deeper than " + std::to_string(kMaxNesting) + " levels.");
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
}

// Parses a decoded part that must be one JSON object.
json parse_object(const std::string &text, const char *part)
{
    json value;
    try {
        value = json::parse(text);
    } catch (const json::exception &e) {
        // Also raised for invalid UTF-8, which nlohmann checks in every string.
        throw unauthorized(std::string("JWT ") + part + " is not valid JSON", {}, parse_problem(e));
    }
    if (!value.is_object())
        throw unauthorized(std::string("JWT ") + part + " is not a JSON object");
    check_storable(text, part);
    return value;
}

// A number of seconds for a message: an integer when it is one.
std::string seconds_text(double value)
{
    char buffer[64];
    if (std::floor(value) == value && std::fabs(value) < 1e15)
        std::snprintf(buffer, sizeof(buffer), "%lld", static_cast<long long>(value));
    else
        std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    return buffer;
}

// A NumericDate for a message: ISO 8601 in UTC, followed by the number the token holds.
std::string time_text(const char *claim, double value)
{
    std::string out;
    // Years 1 to 9999 only; outside them the number alone is shown.
    if (value >= -62135596800.0 && value < 253402300800.0) {
        time_t seconds = static_cast<time_t>(std::floor(value));
        struct tm parts;
        char buffer[32];
        if (gmtime_r(&seconds, &parts) && std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &parts))
            out = std::string(buffer) + " ";
    }
    return out + "(" + claim + " " + seconds_text(value) + ")";
}

// The value of a NumericDate claim, or nothing when the claim is absent.
std::optional<double> numeric_date(const json &claims, const char *claim)
{
    auto found = claims.find(claim);
    if (found == claims.end())
        return std::nullopt;
    if (!found->is_number())
        throw unauthorized(std::string("JWT claim \"") + claim + "\" is not a number",
                           "\"exp\" and \"nbf\" are NumericDates: seconds since 1970-01-01 UTC.");
    return found->get<double>();
}

}  // namespace

const char *algorithm_name(Algorithm algorithm)
{
    switch (algorithm) {
    case Algorithm::HS256:
        return "HS256";
    case Algorithm::HS384:
        return "HS384";
    case Algorithm::HS512:
        return "HS512";
    }
    return "?";
}

std::optional<Algorithm> parse_algorithm(std::string_view name)
{
    if (name == "HS256")
        return Algorithm::HS256;
    if (name == "HS384")
        return Algorithm::HS384;
    if (name == "HS512")
        return Algorithm::HS512;
    return std::nullopt;
}

std::string base64url_encode(std::string_view bytes)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t group = (static_cast<unsigned char>(bytes[i]) << 16) |
                         (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                         static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
        out += alphabet[(group >> 6) & 63];
        out += alphabet[group & 63];
    }
    size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2)
            group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
        if (rest == 2)
            out += alphabet[(group >> 6) & 63];
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text, std::string *reason)
{
    auto fail = [&](std::string why) -> std::optional<std::string> {
        if (reason)
            *reason = std::move(why);
        return std::nullopt;
    };
    for (size_t i = 0; i < text.size(); i++) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (base64url_value(c) >= 0)
            continue;
        if (c == '=')
            return fail("Padding ('=') is not allowed in base64url; found at position " +
                        std::to_string(i + 1) + ".");
        char shown[48];
        if (c >= 0x21 && c < 0x7f)
            std::snprintf(shown, sizeof(shown), "invalid character '%c'", c);
        else
            std::snprintf(shown, sizeof(shown), "invalid byte 0x%02X", c);
        return fail(std::string(shown) + " at position " + std::to_string(i + 1) + ".");
    }
    if (text.size() % 4 == 1)
        return fail("A length of " + std::to_string(text.size()) +
                    " characters (4n+1) is impossible in base64url; the text is truncated.");

    std::string out;
    out.reserve(text.size() * 3 / 4);
    uint32_t bits = 0;
    int count = 0;
    for (unsigned char c : text) {
        bits = (bits << 6) | static_cast<uint32_t>(base64url_value(c));
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    if ((bits & ((1u << count) - 1)) != 0)
        return fail("The last character has non-zero unused bits; it is not the canonical encoding.");
    return out;
}

std::string hmac(Algorithm algorithm, std::string_view secret, std::string_view data)
{
    if (secret.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
        throw std::length_error("HMAC secret too long");
    static const unsigned char empty = 0;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const void *key = secret.empty() ? &empty : static_cast<const void *>(secret.data());
    const unsigned char *bytes =
        data.empty() ? &empty : reinterpret_cast<const unsigned char *>(data.data());
    if (HMAC(digest_of(algorithm), key, static_cast<int>(secret.size()), bytes, data.size(), out,
             &length) == nullptr)
        throw std::runtime_error("HMAC computation failed in OpenSSL");
    return std::string(reinterpret_cast<const char *>(out), length);
}

std::string sign(std::string_view header_json, std::string_view payload_json,
                 std::string_view secret, Algorithm algorithm)
{
    std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
    return input + "." + base64url_encode(hmac(algorithm, secret, input));
}

Verified verify(std::string_view token, std::string_view secret, double now, double leeway)
{
    if (!(leeway >= 0) || std::isinf(leeway))
        throw UserError("22023", "leeway must be a finite, non-negative interval");
    if (secret.empty())
        throw unauthorized("JWT secret is empty", "Pass the secret the tokens are signed with.");
    if (token.empty())
        throw unauthorized("JWT is empty");
    if (token.size() >= 7 && (token.substr(0, 7) == "Bearer " || token.substr(0, 7) == "bearer "))
        throw unauthorized("JWT begins with \"Bearer \"",
                           "Pass the token alone, without the Authorization header's scheme.");

    size_t first = token.find('.');
    size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
    size_t parts = 1;
    for (char c : token)
        parts += c == '.';
    if (parts != 3)
        throw unauthorized("JWT is malformed: it has " + std::to_string(parts) +
                               (parts == 1 ? " part" : " parts") + " where three are expected",
                           parts == 5 ? "This looks like an encrypted token (JWE), which is not supported."
                                      : "A JWT is header.payload.signature, three base64url parts separated by dots.");
    std::string_view header_part = token.substr(0, first);
    std::string_view payload_part = token.substr(first + 1, second - first - 1);
    std::string_view signature_part = token.substr(second + 1);

    Verified verified{Algorithm::HS256, decode_part(header_part, "header"), {}};
    json header = parse_object(verified.header, "header");
    auto alg = header.find("alg");
    if (alg == header.end())
        throw unauthorized("JWT header has no \"alg\"", kAcceptedHint);
    if (!alg->is_string())
        throw unauthorized("JWT header \"alg\" is not a string", kAcceptedHint);
    const std::string &alg_name = alg->get_ref<const std::string &>();
    std::string lowered;
    for (char c : alg_name)
        lowered += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    if (lowered == "none")
        throw unauthorized("JWT algorithm \"" + printable(alg_name) + "\" is not allowed",
                           "Unsigned tokens are never accepted. " + std::string(kAcceptedHint));
    std::optional<Algorithm> algorithm = parse_algorithm(alg_name);
    if (!algorithm)
        throw unauthorized("JWT algorithm \"" + printable(alg_name) + "\" is not supported",
                           "Only HS256, HS384 and HS512 are verified, with a shared secret.");
    verified.algorithm = *algorithm;
    if (header.contains("crit"))
        throw unauthorized("JWT header has critical extensions (\"crit\")",
                           "No JWS extension is supported, so a token that requires one is refused.");

    std::string signature = decode_part(signature_part, "signature");
    if (signature.empty())
        throw unauthorized("JWT has no signature", "Unsigned tokens are never accepted.");
    if (signature.size() != digest_size(*algorithm))
        throw UserError(kInvalidSignature, "JWT signature is invalid",
                        "The token was altered, or signed with another secret.",
                        std::string("An ") + algorithm_name(*algorithm) + " signature is " +
                            std::to_string(digest_size(*algorithm)) + " bytes long; this one is " +
                            std::to_string(signature.size()) + ".");
    std::string expected = hmac(*algorithm, secret, token.substr(0, second));
    if (CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0)
        throw UserError(kInvalidSignature, "JWT signature is invalid",
                        "The token was altered, or signed with another secret.");

    verified.claims = decode_part(payload_part, "payload");
    json claims = parse_object(verified.claims, "payload");
    std::string tolerance = "; leeway " + seconds_text(leeway) + " seconds.";
    if (std::optional<double> exp = numeric_date(claims, "exp"); exp && now >= *exp + leeway)
        throw unauthorized("JWT has expired", "Get a new token.",
                           "It expired at " + time_text("exp", *exp) + tolerance);
    if (std::optional<double> nbf = numeric_date(claims, "nbf"); nbf && now + leeway < *nbf)
        throw unauthorized("JWT is not valid yet",
                           "Check the clocks of the token's issuer and of the database server.",
                           "It becomes valid at " + time_text("nbf", *nbf) + tolerance);
    return verified;
}

}  // namespace es::jwt
