// Bearer tokens of user requests (see bearer_token.hpp). The verification is es::jwt::verify,
// the function verify_jwt and authenticate call in the database: one implementation, linked
// into both.
#include "sync/pure/bearer_token.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/jwt.hpp"

namespace es::sync {

std::optional<std::string> bearer_token(std::string_view header, std::string *error)
{
    constexpr std::string_view kScheme = "bearer";
    if (header.size() <= kScheme.size()) {
        *error = "the Authorization header is not \"Bearer <token>\"";
        return std::nullopt;
    }
    for (size_t i = 0; i < kScheme.size(); i++)
        if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) {
            *error = "the Authorization header is not \"Bearer <token>\"";
            return std::nullopt;
        }
    size_t start = kScheme.size();
    if (header[start] != ' ') {
        *error = "the Authorization header is not \"Bearer <token>\"";
        return std::nullopt;
    }
    while (start < header.size() && header[start] == ' ')
        start++;
    std::string_view token = header.substr(start);
    if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) {
        *error = "the Authorization header is not \"Bearer <token>\"";
        return std::nullopt;
    }
    return std::string(token);
}

BearerOutcome verify_bearer(std::string_view header, std::string_view secret, double now)
{
    BearerOutcome outcome;
    auto token = bearer_token(header, &outcome.error);
    if (!token)
        return outcome;
    jwt::Verified verified;
    try {
        verified = jwt::verify(*token, secret, now, 0);
    } catch (const UserError &e) {
        outcome.error = e.what();
        return outcome;
    } catch (const std::exception &) {  // a secret too long for HMAC: the token cannot be checked
        outcome.error = "the token cannot be verified";
        return outcome;
    }
    // The payload is a JSON object (jwt::verify checked it); read only what the service needs.
    nlohmann::json claims = nlohmann::json::parse(verified.claims, nullptr, false);
    if (!claims.is_object()) {
        outcome.error = "the token's claims are not a JSON object";
        return outcome;
    }
    BearerUser user;
    user.token = *token;
    user.claims = verified.claims;
    auto sub = claims.find("sub");
    if (sub != claims.end() && sub->is_string())
        user.sub = sub->get<std::string>();
    auto role = claims.find("role");
    if (role != claims.end() && role->is_string())
        user.role = role->get<std::string>();
    auto exp = claims.find("exp");
    if (exp != claims.end() && exp->is_number())
        user.exp = exp->get<double>();
    outcome.user = std::move(user);
    return outcome;
}

}  // namespace es::sync
