// Fuzzes the JWT verifier: any token and secret either verify (and then the claims are a JSON
// object and the signature is the HMAC of header.payload under the secret, computed here with
// OpenSSL independently of the verifier) or fail with an es::UserError of SQLSTATE 28000 or
// 28P01; base64url round-trips; a token signed for an arbitrary claims object verifies back to
// exactly that object, and is refused with 28P01 once one bit of its signature is flipped.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

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

// base64url without padding, decoded here rather than by the code under test.
std::optional<std::string> decode_base64url(const std::string &text)
{
    std::string out;
    unsigned bits = 0, count = 0;
    for (char c : text) {
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '-'             ? 62
                : c == '_'             ? 63
                                       : -1;
        if (v < 0)
            return std::nullopt;
        bits = (bits << 6) | static_cast<unsigned>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xff));
        }
    }
    return out;
}

// The HMAC of data under secret with the digest an HS* algorithm names.
std::string reference_hmac(es::jwt::Algorithm algorithm, const std::string &secret, const std::string &data)
{
    const EVP_MD *md = algorithm == es::jwt::Algorithm::HS256   ? EVP_sha256()
                       : algorithm == es::jwt::Algorithm::HS384 ? EVP_sha384()
                                                                : EVP_sha512();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    check(HMAC(md, secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char *>(data.data()), data.size(), out, &length) != nullptr);
    return std::string(reinterpret_cast<const char *>(out), length);
}

// A verified token's signature must be the HMAC of its first two parts, whatever the verifier
// thought of them: otherwise it accepted a forgery.
void check_signature(const std::string &token, const std::string &secret, es::jwt::Algorithm algorithm)
{
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    check(first != std::string::npos && second != std::string::npos &&
          token.find('.', second + 1) == std::string::npos);
    auto signature = decode_base64url(token.substr(second + 1));
    check(signature && *signature == reference_hmac(algorithm, secret, token.substr(0, second)));
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
        check_signature(token, secret, verified.algorithm);
    } catch (const es::UserError &e) {
        check(e.sqlstate == es::jwt::kInvalidAuthorization || e.sqlstate == es::jwt::kInvalidSignature);
    }

    // Arbitrary bytes as a claim value: a valid claims object only when they are UTF-8.
    nlohmann::json claims = nlohmann::json::object();
    claims["sub"] = bytes;
    std::string payload = claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore);
    static const es::jwt::Algorithm algorithms[] = {es::jwt::Algorithm::HS256, es::jwt::Algorithm::HS384,
                                                     es::jwt::Algorithm::HS512};
    es::jwt::Algorithm algorithm = algorithms[bytes.size() % 3];
    std::string header = std::string(R"({"alg":")") + es::jwt::algorithm_name(algorithm) + R"(","typ":"JWT"})";
    std::string signed_token = es::jwt::sign(header, payload, secret, algorithm);
    bool claims_valid = false;
    try {
        es::jwt::Verified verified = es::jwt::verify(signed_token, secret, now, 0);
        check(verified.claims == payload);
        check_signature(signed_token, secret, verified.algorithm);
        claims_valid = true;
    } catch (const es::UserError &e) {
        check(e.sqlstate == es::jwt::kInvalidAuthorization);
    }

    // The same token with one bit of its signature flipped (the bit chosen by the input) is a
    // forgery: refused as an invalid signature whenever the unaltered token verified.
    if (claims_valid) {
        size_t second = signed_token.rfind('.');
        auto signature = decode_base64url(signed_token.substr(second + 1));
        check(signature.has_value() && !signature->empty());
        size_t bit = (secret.size() * 131 + bytes.size() * 7 + static_cast<size_t>(now)) % (signature->size() * 8);
        (*signature)[bit / 8] = static_cast<char>((*signature)[bit / 8] ^ (1 << (bit % 8)));
        std::string forged = signed_token.substr(0, second + 1) + es::jwt::base64url_encode(*signature);
        try {
            es::jwt::verify(forged, secret, now, 0);
            check(false);
        } catch (const es::UserError &e) {
            check(e.sqlstate == es::jwt::kInvalidSignature);
        }
    }
    return 0;
}
