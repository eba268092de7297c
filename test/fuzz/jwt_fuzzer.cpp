// Fuzzes the JWT verifier: any token and secret either verify (and then the claims are a JSON
// object) or fail with an es::UserError of SQLSTATE 28000 or 28P01; base64url round-trips; a
// token signed for an arbitrary claims object verifies back to exactly that object.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/jwt.hpp"

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    std::string secret = provider.ConsumeRandomLengthString(64);
    double now = provider.ConsumeFloatingPointInRange<double>(0, 4e9);
    std::string bytes = provider.ConsumeRandomLengthString(256);
    std::string token = provider.ConsumeRemainingBytesAsString();

    std::string encoded = es::jwt::base64url_encode(bytes);
    auto decoded = es::jwt::base64url_decode(encoded);
    check(decoded && *decoded == bytes);

    try {
        es::jwt::Verified verified = es::jwt::verify(token, secret, now, 0);
        check(nlohmann::json::parse(verified.claims, nullptr, false).is_object());
    } catch (const es::UserError &e) {
        check(e.sqlstate == es::jwt::kInvalidAuthorization || e.sqlstate == es::jwt::kInvalidSignature);
    }

    // Arbitrary bytes as a claim value: a valid claims object only when they are UTF-8.
    nlohmann::json claims = nlohmann::json::object();
    claims["sub"] = bytes;
    std::string payload = claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore);
    std::string signed_token =
        es::jwt::sign(R"({"alg":"HS256","typ":"JWT"})", payload, secret, es::jwt::Algorithm::HS256);
    try {
        es::jwt::Verified verified = es::jwt::verify(signed_token, secret, now, 0);
        check(verified.claims == payload);
    } catch (const es::UserError &e) {
        check(e.sqlstate == es::jwt::kInvalidAuthorization);
    }
    return 0;
}
