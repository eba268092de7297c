// Unit tests of JWT verification: the RFC examples, every refusal with its SQLSTATE, and inputs
// damaged every way a token can be.
#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/jwt.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

using es::jwt::Algorithm;
namespace jwt = es::jwt;

namespace {

// RFC 7515 appendix A.1 (also the example of RFC 7519 section 3.1): HS256, exp 1300819380.
const std::string kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kRfcPayload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
const double kRfcExp = 1300819380;

// The RFC's symmetric key, given there as a base64url JWK "k".
std::string rfc_key()
{
    return *jwt::base64url_decode(
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
}

const std::string kSecret = "a-secret-of-at-least-thirty-two-bytes";
const double kNow = 1700000000;  // 2023-11-14T22:13:20Z

// The outcome of a verification: "ok" or "<SQLSTATE> <message>".
std::string outcome(const std::string &token, const std::string &secret = kSecret,
                    double now = kNow, double leeway = 0)
{
    try {
        jwt::verify(token, secret, now, leeway);
        return "ok";
    } catch (const es::UserError &e) {
        return e.sqlstate + " " + e.what();
    }
}

// The error detail of a refused verification.
std::string detail_of(const std::string &token, const std::string &secret, double now, double leeway)
{
    try {
        jwt::verify(token, secret, now, leeway);
    } catch (const es::UserError &e) {
        return e.detail;
    }
    return "(accepted)";
}

std::string hs256(const std::string &payload, const std::string &header = R"({"alg":"HS256","typ":"JWT"})")
{
    return jwt::sign(header, payload, kSecret, Algorithm::HS256);
}

std::string hex(const std::string &bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

TEST(Base64Url, Rfc4648Vectors)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *encoded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        EXPECT_EQ(jwt::base64url_encode(plain[i]), encoded[i]);
        EXPECT_EQ(jwt::base64url_decode(encoded[i]), std::string(plain[i]));
    }
    EXPECT_EQ(jwt::base64url_encode("\xfb\xff\xbf"), "-_-_");
    EXPECT_EQ(jwt::base64url_decode("-_-_"), std::string("\xfb\xff\xbf"));
}

TEST(Base64Url, RoundTripsEveryLength)
{
    std::mt19937 random(7);
    for (size_t length = 0; length < 70; length++) {
        std::string bytes;
        for (size_t i = 0; i < length; i++)
            bytes += static_cast<char>(random() & 0xff);
        EXPECT_EQ(jwt::base64url_decode(jwt::base64url_encode(bytes)), bytes);
    }
}

TEST(Base64Url, StrictDecoding)
{
    std::string reason;
    EXPECT_FALSE(jwt::base64url_decode("Zg==", &reason));
    EXPECT_EQ(reason, "Padding ('=') is not allowed in base64url; found at position 3.");
    EXPECT_FALSE(jwt::base64url_decode("Zm+v", &reason));
    EXPECT_EQ(reason, "invalid character '+' at position 3.");
    EXPECT_FALSE(jwt::base64url_decode("Zm/v", &reason));
    EXPECT_FALSE(jwt::base64url_decode("Zm9 v", &reason));
    EXPECT_EQ(reason, "invalid byte 0x20 at position 4.");
    EXPECT_FALSE(jwt::base64url_decode("Zm9v\n", &reason));
    EXPECT_FALSE(jwt::base64url_decode("Zm9v\xc3\xa9", &reason));
    EXPECT_EQ(reason, "invalid byte 0xC3 at position 5.");
    EXPECT_FALSE(jwt::base64url_decode("Zm9vY", &reason));
    EXPECT_EQ(reason, "A length of 5 characters (4n+1) is impossible in base64url; the text is truncated.");
    // "Zh" and "Zm9" + "w" carry non-zero unused bits: a second spelling of "f" and "fo".
    EXPECT_FALSE(jwt::base64url_decode("Zh", &reason));
    EXPECT_EQ(reason, "The last character has non-zero unused bits; it is not the canonical encoding.");
    EXPECT_FALSE(jwt::base64url_decode("Zm9", &reason));
    EXPECT_TRUE(jwt::base64url_decode("Zm8"));
}

TEST(Hmac, Rfc4231TestCase2)
{
    const std::string data = "what do ya want for nothing?";
    EXPECT_EQ(hex(jwt::hmac(Algorithm::HS256, "Jefe", data)),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex(jwt::hmac(Algorithm::HS384, "Jefe", data)),
              "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
              "8e2240ca5e69e2c78b3239ecfab21649");
    EXPECT_EQ(hex(jwt::hmac(Algorithm::HS512, "Jefe", data)),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(Verify, Rfc7515AppendixA1)
{
    jwt::Verified v = jwt::verify(kRfcToken, rfc_key(), kRfcExp - 80, 0);
    EXPECT_EQ(v.algorithm, Algorithm::HS256);
    EXPECT_EQ(v.claims, kRfcPayload);
    EXPECT_EQ(v.header, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
    // sign() reproduces the RFC's token byte for byte.
    EXPECT_EQ(jwt::sign(v.header, v.claims, rfc_key(), Algorithm::HS256), kRfcToken);
}

TEST(Verify, JwtIoExample)
{
    const std::string token =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    EXPECT_EQ(outcome(token, "your-256-bit-secret"), "ok");
    EXPECT_EQ(outcome(token, "your-256-bit-secreT"), "28P01 JWT signature is invalid");
}

TEST(Verify, ExpiryOfTheRfcToken)
{
    EXPECT_EQ(outcome(kRfcToken, rfc_key(), kRfcExp - 1), "ok");
    // The token is valid strictly before exp (RFC 7519 section 4.1.4).
    EXPECT_EQ(outcome(kRfcToken, rfc_key(), kRfcExp), "28000 JWT has expired");
    EXPECT_EQ(outcome(kRfcToken, rfc_key(), kRfcExp + 0.5), "28000 JWT has expired");
    EXPECT_EQ(detail_of(kRfcToken, rfc_key(), kRfcExp + 100, 0),
              "It expired at 2011-03-22T18:43:00Z (exp 1300819380); leeway 0 seconds.");
    EXPECT_EQ(outcome(kRfcToken, rfc_key(), kRfcExp + 100, 101), "ok");
    EXPECT_EQ(outcome(kRfcToken, rfc_key(), kRfcExp + 100, 100), "28000 JWT has expired");
    EXPECT_EQ(detail_of(kRfcToken, rfc_key(), kRfcExp + 100, 1.5),
              "It expired at 2011-03-22T18:43:00Z (exp 1300819380); leeway 1.5 seconds.");
}

TEST(Verify, NotBefore)
{
    std::string token = hs256(R"({"sub":"u1","nbf":1700000100,"exp":1700003600})");
    EXPECT_EQ(outcome(token), "28000 JWT is not valid yet");
    EXPECT_EQ(detail_of(token, kSecret, kNow, 30),
              "It becomes valid at 2023-11-14T22:15:00Z (nbf 1700000100); leeway 30 seconds.");
    EXPECT_EQ(outcome(token, kSecret, kNow, 99), "28000 JWT is not valid yet");
    EXPECT_EQ(outcome(token, kSecret, kNow, 100), "ok");
    EXPECT_EQ(outcome(token, kSecret, 1700000100), "ok");
    EXPECT_EQ(outcome(token, kSecret, 1700003600), "28000 JWT has expired");
}

TEST(Verify, TimeClaimsMustBeNumbers)
{
    EXPECT_EQ(outcome(hs256(R"({"exp":"1700003600"})")), "28000 JWT claim \"exp\" is not a number");
    EXPECT_EQ(outcome(hs256(R"({"nbf":null})")), "28000 JWT claim \"nbf\" is not a number");
    EXPECT_EQ(outcome(hs256(R"({"exp":1700000000.5})")), "ok");
    EXPECT_EQ(outcome(hs256(R"({"exp":1e300})")), "ok");
    EXPECT_EQ(outcome(hs256(R"({"exp":-1e300})")), "28000 JWT has expired");
    EXPECT_EQ(detail_of(hs256(R"({"exp":-1e300})"), kSecret, kNow, 0),
              "It expired at (exp -1.0000000000000001e+300); leeway 0 seconds.");
    // iat is informational: a token issued "in the future" is not refused for it.
    EXPECT_EQ(outcome(hs256(R"({"iat":1800000000})")), "ok");
}

TEST(Verify, AllThreeAlgorithms)
{
    const std::string payload = R"({"sub":"alice"})";
    for (Algorithm a : {Algorithm::HS256, Algorithm::HS384, Algorithm::HS512}) {
        std::string header = std::string(R"({"alg":")") + jwt::algorithm_name(a) + "\"}";
        std::string token = jwt::sign(header, payload, kSecret, a);
        jwt::Verified v = jwt::verify(token, kSecret, kNow, 0);
        EXPECT_EQ(v.algorithm, a);
        EXPECT_EQ(v.claims, payload);
        EXPECT_EQ(outcome(token, kSecret + "x"), "28P01 JWT signature is invalid");
    }
}

TEST(Verify, HeaderAlgorithmMustMatchTheSignature)
{
    // Signed with HS512 but the header claims HS256: the signature has the wrong length.
    std::string header = R"({"alg":"HS256"})", payload = R"({"sub":"alice"})";
    std::string input = jwt::base64url_encode(header) + "." + jwt::base64url_encode(payload);
    std::string token = input + "." + jwt::base64url_encode(jwt::hmac(Algorithm::HS512, kSecret, input));
    EXPECT_EQ(outcome(token), "28P01 JWT signature is invalid");
    EXPECT_EQ(detail_of(token, kSecret, kNow, 0), "An HS256 signature is 32 bytes long; this one is 64.");
    // HS384 header over an HS256-sized signature.
    std::string header384 = R"({"alg":"HS384"})";
    std::string input384 = jwt::base64url_encode(header384) + "." + jwt::base64url_encode(payload);
    EXPECT_EQ(outcome(input384 + "." + jwt::base64url_encode(jwt::hmac(Algorithm::HS256, kSecret, input384))),
              "28P01 JWT signature is invalid");
}

TEST(Verify, RefusedAlgorithms)
{
    // RFC 7519 section 6.1: an unsecured JWT.
    const std::string unsecured =
        "eyJhbGciOiJub25lIn0"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
    EXPECT_EQ(outcome(unsecured), "28000 JWT algorithm \"none\" is not allowed");
    std::string payload = jwt::base64url_encode(R"({"sub":"admin"})");
    for (const char *none : {"None", "NONE", "nOnE"}) {
        std::string header = jwt::base64url_encode(std::string(R"({"alg":")") + none + "\"}");
        EXPECT_EQ(outcome(header + "." + payload + "."),
                  std::string("28000 JWT algorithm \"") + none + "\" is not allowed");
        // Even with something in the signature's place.
        EXPECT_EQ(outcome(header + "." + payload + ".c2ln"),
                  std::string("28000 JWT algorithm \"") + none + "\" is not allowed");
    }
    // RFC 7515 appendix A.2's header: RS256.
    EXPECT_EQ(outcome("eyJhbGciOiJSUzI1NiJ9." + payload + ".c2lnbmF0dXJl"),
              "28000 JWT algorithm \"RS256\" is not supported");
    for (const char *alg : {"ES256", "PS256", "EdDSA", "hs256", "HS256 ", "HS1"}) {
        std::string header = jwt::base64url_encode(std::string(R"({"alg":")") + alg + "\"}");
        std::string input = header + "." + payload;
        std::string token = input + "." + jwt::base64url_encode(jwt::hmac(Algorithm::HS256, kSecret, input));
        EXPECT_EQ(outcome(token), std::string("28000 JWT algorithm \"") + alg + "\" is not supported");
    }
    EXPECT_EQ(outcome(hs256(R"({})", R"({"typ":"JWT"})")), "28000 JWT header has no \"alg\"");
    EXPECT_EQ(outcome(hs256(R"({})", R"({"alg":256})")), "28000 JWT header \"alg\" is not a string");
    EXPECT_EQ(outcome(hs256(R"({})", R"({"alg":null})")), "28000 JWT header \"alg\" is not a string");
    EXPECT_EQ(outcome(hs256(R"({})", R"({"alg":"HS256","crit":["exp"]})")),
              "28000 JWT header has critical extensions (\"crit\")");
}

TEST(Verify, TamperedTokens)
{
    std::string token = hs256(R"({"sub":"alice","role":"user"})");
    EXPECT_EQ(outcome(token), "ok");
    size_t first = token.find('.'), second = token.rfind('.');

    // Another payload under the original signature.
    std::string forged = token.substr(0, first + 1) + jwt::base64url_encode(R"({"sub":"alice","role":"admin"})") +
                         token.substr(second);
    EXPECT_EQ(outcome(forged), "28P01 JWT signature is invalid");
    // Another header under the original signature.
    std::string reheaded = jwt::base64url_encode(R"({"alg":"HS256"})") + token.substr(first);
    EXPECT_EQ(outcome(reheaded), "28P01 JWT signature is invalid");
    // Every single-character change of the signature is refused.
    for (size_t i = second + 1; i < token.size(); i++) {
        std::string altered = token;
        altered[i] = altered[i] == 'A' ? 'B' : 'A';
        EXPECT_NE(outcome(altered), "ok") << "position " << i;
    }
    // The signature's last character with its unused bits set: refused, not a second spelling.
    std::string rfc = kRfcToken;
    ASSERT_EQ(rfc.back(), 'k');
    rfc.back() = 'l';
    EXPECT_EQ(outcome(rfc, rfc_key(), kRfcExp - 1), "28000 JWT signature is not valid base64url");
    // Signature swapped in from a token with other claims.
    std::string other = hs256(R"({"sub":"bob"})");
    EXPECT_EQ(outcome(token.substr(0, second) + other.substr(other.rfind('.'))), "28P01 JWT signature is invalid");
}

TEST(Verify, WrongOrEmptySecret)
{
    std::string token = hs256(R"({"sub":"alice"})");
    EXPECT_EQ(outcome(token, "another secret"), "28P01 JWT signature is invalid");
    EXPECT_EQ(outcome(token, ""), "28000 JWT secret is empty");
    EXPECT_EQ(outcome(token, kSecret.substr(0, kSecret.size() - 1)), "28P01 JWT signature is invalid");
}

TEST(Verify, MalformedTokens)
{
    std::string token = hs256(R"({"sub":"alice"})");
    size_t first = token.find('.');
    EXPECT_EQ(outcome(""), "28000 JWT is empty");
    EXPECT_EQ(outcome("Bearer " + token), "28000 JWT begins with \"Bearer \"");
    EXPECT_EQ(outcome("abc"), "28000 JWT is malformed: it has 1 part where three are expected");
    EXPECT_EQ(outcome("abc.def"), "28000 JWT is malformed: it has 2 parts where three are expected");
    EXPECT_EQ(outcome(token + ".x"), "28000 JWT is malformed: it has 4 parts where three are expected");
    EXPECT_EQ(outcome("a.b.c.d.e"), "28000 JWT is malformed: it has 5 parts where three are expected");
    EXPECT_EQ(outcome(".."), "28000 JWT header is not valid JSON");
    EXPECT_EQ(outcome(" " + token), "28000 JWT header is not valid base64url");
    EXPECT_EQ(outcome(token + "\n"), "28000 JWT signature is not valid base64url");
    EXPECT_EQ(outcome(token + "="), "28000 JWT signature is not valid base64url");
    EXPECT_EQ(outcome(token.substr(0, first) + "=" + token.substr(first)), "28000 JWT header is not valid base64url");
    std::string signature_less = token.substr(0, token.rfind('.') + 1);
    EXPECT_EQ(outcome(signature_less), "28000 JWT has no signature");
    EXPECT_EQ(outcome(jwt::base64url_encode("not json") + token.substr(first)), "28000 JWT header is not valid JSON");
    EXPECT_EQ(outcome(jwt::base64url_encode("[\"HS256\"]") + token.substr(first)),
              "28000 JWT header is not a JSON object");
}

TEST(Verify, EveryTruncationIsRefusedCleanly)
{
    for (size_t length = 0; length < kRfcToken.size(); length++) {
        std::string result = outcome(kRfcToken.substr(0, length), rfc_key(), kRfcExp - 1);
        EXPECT_TRUE(result.rfind("28000 ", 0) == 0 || result.rfind("28P01 ", 0) == 0)
            << "length " << length << ": " << result;
    }
}

TEST(Verify, PayloadsThatAreSignedButUnacceptable)
{
    EXPECT_EQ(outcome(hs256("[1,2]")), "28000 JWT payload is not a JSON object");
    EXPECT_EQ(outcome(hs256("\"alice\"")), "28000 JWT payload is not a JSON object");
    EXPECT_EQ(outcome(hs256("{\"sub\":")), "28000 JWT payload is not valid JSON");
    EXPECT_EQ(outcome(hs256("{\"sub\":\"a\"} trailing")), "28000 JWT payload is not valid JSON");
    // Invalid UTF-8 inside a string: nlohmann throws, and the throw is caught here.
    EXPECT_EQ(outcome(hs256("{\"sub\":\"\xff\xfe\"}")), "28000 JWT payload is not valid JSON");
    EXPECT_EQ(outcome(hs256("{\"sub\":\"\xc3\"}")), "28000 JWT payload is not valid JSON");
    EXPECT_EQ(outcome(hs256("{\"sub\":\"\xed\xa0\x80\"}")), "28000 JWT payload is not valid JSON");  // surrogate
    EXPECT_EQ(outcome(hs256("{\"sub\":\"\\ud800\"}")), "28000 JWT payload is not valid JSON");
    EXPECT_EQ(outcome(hs256("{\"sub\":\"Zo\xc3\xab \xf0\x9f\x92\xac\"}")), "ok");
    EXPECT_EQ(outcome(hs256("{\"sub\":\"a\\u0000b\"}")), "28000 JWT payload is not acceptable JSON");
    EXPECT_EQ(outcome(hs256("{\"sub\":\"a\\\\u0000b\"}")), "ok");  // an escaped backslash, then text
    EXPECT_EQ(outcome(hs256(std::string("{\"sub\":\"a\"}\0{\"x\":1}", 20))),
              "28000 JWT payload is not acceptable JSON");
    EXPECT_EQ(outcome(hs256("\xEF\xBB\xBF{\"sub\":\"a\"}")), "28000 JWT payload is not acceptable JSON");
    EXPECT_EQ(outcome(hs256("{\"n\":1e400}")), "28000 JWT payload is not valid JSON");

    std::string nested_ok = "{\"a\":" + std::string(jwt::kMaxNesting - 1, '[') +
                            std::string(jwt::kMaxNesting - 1, ']') + "}";
    EXPECT_EQ(outcome(hs256(nested_ok)), "ok");
    std::string too_deep = "{\"a\":" + std::string(jwt::kMaxNesting, '[') + std::string(jwt::kMaxNesting, ']') + "}";
    EXPECT_EQ(outcome(hs256(too_deep)), "28000 JWT payload is not acceptable JSON");
    // Brackets inside strings do not count.
    EXPECT_EQ(outcome(hs256("{\"a\":\"" + std::string(500, '[') + "\"}")), "ok");
    // Very deep nesting is refused without exhausting the stack.
    std::string abyss = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
    EXPECT_EQ(outcome(hs256(abyss)), "28000 JWT payload is not acceptable JSON");
}

TEST(Verify, MessagesStayPrintable)
{
    std::string header = jwt::base64url_encode("{\"alg\":\"\xc3\xa9\\n\\u0001" + std::string(200, 'x') + "\"}");
    std::string result = outcome(header + ".e30.c2ln");
    EXPECT_EQ(result, "28000 JWT algorithm \"????" + std::string(60, 'x') + "...\" is not supported");
}

TEST(Verify, LeewayMustBeNonNegative)
{
    EXPECT_EQ(outcome(kRfcToken, rfc_key(), kRfcExp - 1, -1), "22023 leeway must be a finite, non-negative interval");
}

TEST(Verify, RandomInputsOnlyEverRaiseUserErrors)
{
    std::mt19937 random(2024);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x80\xff";
    std::string valid = hs256(R"({"sub":"alice","exp":1800000000})");
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        std::string input;
        switch (round % 3) {
        case 0: {  // random text
            size_t length = random() % 120;
            for (size_t i = 0; i < length; i++)
                input += alphabet[random() % alphabet.size()];
            break;
        }
        case 1: {  // a valid token with a few characters changed
            input = valid;
            for (int n = 1 + random() % 3; n > 0; n--)
                input[random() % input.size()] = alphabet[random() % alphabet.size()];
            break;
        }
        default: {  // random bytes as the payload, correctly signed
            std::string payload;
            size_t length = random() % 40;
            for (size_t i = 0; i < length; i++)
                payload += static_cast<char>(random() & 0xff);
            input = hs256(round % 2 ? payload : "{\"sub\":\"" + payload + "\"}");
            break;
        }
        }
        // Which inputs verify is known exactly: random text never carries a valid signature; a
        // damaged token verifies only when its parts still decode to the signed bytes; a correctly
        // signed token verifies exactly when its payload is a JSON object.
        bool expected = false;
        switch (round % 3) {
        case 0:
            break;
        case 1: {
            size_t valid_dot = valid.rfind('.'), input_dot = input.rfind('.');
            auto signature = input_dot == std::string::npos ? std::nullopt
                                                             : jwt::base64url_decode(input.substr(input_dot + 1));
            expected = input.compare(0, input_dot, valid, 0, valid_dot) == 0 && input_dot == valid_dot &&
                       signature == jwt::base64url_decode(valid.substr(valid_dot + 1));
            break;
        }
        default: {
            std::string payload = *jwt::base64url_decode(input.substr(input.find('.') + 1,
                                                                      input.rfind('.') - input.find('.') - 1));
            expected = nlohmann::json::accept(payload) && nlohmann::json::parse(payload).is_object();
            break;
        }
        }
        bool verified = false;
        try {
            jwt::verify(input, kSecret, kNow, 0);
            verified = true;
        } catch (const es::UserError &e) {
            EXPECT_TRUE(e.sqlstate == "28000" || e.sqlstate == "28P01") << e.sqlstate << " " << e.what();
        }
        EXPECT_EQ(verified, expected) << "round " << round << ": " << input;
        accepted += verified ? 1 : 0;
        if (verified != expected)
            break;  // one input is enough to show the fault
    }
    // Rounds 1, 4, 7, ... damage the token: those that changed a character to itself still verify.
    EXPECT_GT(accepted, 0);
}

}  // namespace
