// Bearer tokens of the sync service's user requests: the header's form, and the verification
// rules verify_jwt has (the same es::jwt::verify underneath).
#include <gtest/gtest.h>

#include "electric_shapes/pure/jwt.hpp"
#include "sync/pure/bearer_token.hpp"
#include "sync/pure/config.hpp"

#include <map>

namespace {

using es::sync::bearer_token;
using es::sync::verify_bearer;

const std::string kSecret = "a-secret-of-at-least-thirty-two-bytes!";
constexpr double kNow = 1700000000;

std::string token(const std::string &payload, const std::string &secret = kSecret)
{
    return es::jwt::sign(R"({"alg":"HS256","typ":"JWT"})", payload, secret, es::jwt::Algorithm::HS256);
}

TEST(SyncBearerToken, HeaderForm)
{
    std::string error;
    EXPECT_EQ(bearer_token("Bearer abc.def.ghi", &error).value_or("-"), "abc.def.ghi");
    EXPECT_EQ(bearer_token("bearer   abc", &error).value_or("-"), "abc");
    EXPECT_EQ(bearer_token("BEARER x", &error).value_or("-"), "x");
    for (const char *bad : {"", "Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b", "Token abc"}) {
        error.clear();
        EXPECT_FALSE(bearer_token(bad, &error)) << bad;
        EXPECT_EQ(error, "the Authorization header is not \"Bearer <token>\"") << bad;
    }
}

TEST(SyncBearerToken, VerifiedClaims)
{
    std::string payload = R"({"sub":"alice","role":"chat_app","exp":1700003600})";
    auto outcome = verify_bearer("Bearer " + token(payload), kSecret, kNow);
    ASSERT_TRUE(outcome.user) << outcome.error;
    EXPECT_EQ(outcome.user->sub, "alice");
    EXPECT_EQ(outcome.user->role, "chat_app");
    EXPECT_EQ(outcome.user->claims, payload);
    ASSERT_TRUE(outcome.user->exp);
    EXPECT_EQ(*outcome.user->exp, 1700003600);
    auto bare = verify_bearer("Bearer " + token(R"({"sub":7})"), kSecret, kNow);
    ASSERT_TRUE(bare.user);
    EXPECT_EQ(bare.user->sub, "");
    EXPECT_EQ(bare.user->role, "");
    EXPECT_FALSE(bare.user->exp);
}

TEST(SyncBearerToken, Refusals)
{
    std::string good = token(R"({"sub":"alice","role":"chat_app"})");
    std::string tampered = good;
    tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
    std::string none = es::jwt::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                       es::jwt::base64url_encode(R"({"sub":"alice"})") + ".";
    struct Case {
        std::string header;
        std::string error;
    } cases[] = {
        {"Bearer " + token(R"({"sub":"alice"})", "another-secret-of-thirty-two-bytes!!"), "JWT signature is invalid"},
        {"Bearer " + tampered, "JWT signature is invalid"},
        {"Bearer " + token(R"({"sub":"alice","exp":1699999999})"), "JWT has expired"},
        {"Bearer " + token(R"({"sub":"alice","nbf":1700000100})"), "JWT is not valid yet"},
        {"Bearer " + none, "JWT algorithm \"none\" is not allowed"},
        {"Bearer not-a-token", "JWT is malformed: it has 1 part where three are expected"},
    };
    for (const Case &c : cases) {
        auto outcome = verify_bearer(c.header, kSecret, kNow);
        EXPECT_FALSE(outcome.user) << c.header;
        EXPECT_EQ(outcome.error, c.error) << c.header;
    }
}

// JWT_SECRET: Electric's name, also --jwt-secret; it secures the service on its own (requests
// then need a token or the API secret); a short key is refused before anything starts.
TEST(SyncBearerToken, JwtSecretSetting)
{
    auto parse = [](std::vector<std::string> args, std::map<std::string, std::string> env) {
        return es::sync::parse_config(args, [&env](const char *name) -> const char * {
            auto it = env.find(name);
            return it == env.end() ? nullptr : it->second.c_str();
        });
    };
    auto outcome = parse({}, {{"DATABASE_URL", "x"}, {"JWT_SECRET", kSecret}});
    ASSERT_TRUE(outcome.config) << outcome.error;
    EXPECT_EQ(outcome.config->jwt_secret, kSecret);
    EXPECT_FALSE(outcome.config->insecure);
    outcome = parse({"--jwt-secret", "b-secret-of-at-least-thirty-two-bytes!"}, {{"DATABASE_URL", "x"}, {"JWT_SECRET", kSecret}});
    ASSERT_TRUE(outcome.config) << outcome.error;
    EXPECT_EQ(outcome.config->jwt_secret, "b-secret-of-at-least-thirty-two-bytes!");
    outcome = parse({"--jwt-secret=short"}, {{"DATABASE_URL", "x"}});
    EXPECT_FALSE(outcome.config);
    EXPECT_EQ(outcome.error, "invalid JWT_SECRET (--jwt-secret): expected at least 32 bytes, got 5");
    outcome = parse({}, {{"DATABASE_URL", "x"}, {"JWT_SECRET", ""}});
    EXPECT_EQ(outcome.error, "invalid JWT_SECRET (--jwt-secret): expected at least 32 bytes, got 0");
    std::string help = es::sync::config_help();
    EXPECT_NE(help.find("--jwt-secret=VALUE"), std::string::npos);
    EXPECT_NE(help.find("JWT_SECRET"), std::string::npos);
}

}  // namespace
