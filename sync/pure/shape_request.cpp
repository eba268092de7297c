// GET /v1/shape parameters (see shape_request.hpp).
#include "sync/pure/shape_request.hpp"

#include <cctype>

namespace es::sync {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ShapeRequestOutcome bad(const std::string &field, const std::string &message)
{
    ShapeRequestOutcome outcome;
    outcome.field = field;
    outcome.error = message;
    return outcome;
}

bool parse_bool_param(const std::string &value, bool &out)
{
    if (value == "true") {
        out = true;
        return true;
    }
    if (value == "false") {
        out = false;
        return true;
    }
    return false;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= text.size())
                return std::nullopt;
            int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query)
{
    std::vector<std::pair<std::string, std::string>> pairs;
    size_t start = 0;
    while (start <= query.size()) {
        size_t amp = query.find('&', start);
        if (amp == std::string_view::npos)
            amp = query.size();
        std::string_view part = query.substr(start, amp - start);
        if (!part.empty()) {
            size_t eq = part.find('=');
            auto key = url_decode(part.substr(0, eq));
            auto value = url_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
            if (!key || !value)
                return std::nullopt;
            pairs.emplace_back(std::move(*key), std::move(*value));
        }
        start = amp + 1;
    }
    return pairs;
}

std::optional<std::vector<std::string>> parse_columns(std::string_view text)
{
    std::vector<std::string> columns;
    size_t i = 0;
    while (true) {
        while (i < text.size() && text[i] == ' ')
            i++;
        std::string name;
        if (i < text.size() && text[i] == '"') {
            i++;
            bool closed = false;
            while (i < text.size()) {
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        name += '"';
                        i += 2;
                    } else {
                        i++;
                        closed = true;
                        break;
                    }
                } else {
                    name += text[i++];
                }
            }
            if (!closed)
                return std::nullopt;
        } else {
            while (i < text.size() && text[i] != ',' && text[i] != ' ') {
                char c = text[i++];
                if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'))
                    return std::nullopt;
                name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        }
        while (i < text.size() && text[i] == ' ')
            i++;
        if (name.empty())
            return std::nullopt;
        columns.push_back(std::move(name));
        if (i == text.size())
            return columns;
        if (text[i] != ',')
            return std::nullopt;
        i++;
    }
}

ShapeRequestOutcome parse_shape_request(std::string_view query)
{
    auto pairs = parse_query(query);
    if (!pairs)
        return bad("query", "is not a well-formed query string");
    ShapeRequest request;
    bool has_offset = false, has_table = false;
    std::string offset_text;
    for (auto &[key, value] : *pairs) {
        if (key == "table") {
            request.table = value;
            has_table = true;
        } else if (key == "where") {
            request.where = value;
        } else if (key.size() > 8 && key.compare(0, 7, "params[") == 0 && key.back() == ']') {
            std::string digits = key.substr(7, key.size() - 8);
            bool ok = !digits.empty() && digits.size() <= 5 && digits[0] != '0';
            for (char c : digits)
                ok = ok && c >= '0' && c <= '9';
            if (!ok)
                return bad("params", "keys must be positive integers, as params[1]");
            request.params[static_cast<unsigned>(std::stoul(digits))] = value;
        } else if (key == "columns") {
            auto columns = parse_columns(value);
            if (!columns)
                return bad("columns", "must be a comma-separated list of column names");
            request.columns = std::move(*columns);
        } else if (key == "replica") {
            if (value != "default" && value != "full")
                return bad("replica", "must be one of default, full");
            request.replica = value;
        } else if (key == "offset") {
            has_offset = true;
            offset_text = value;
        } else if (key == "handle") {
            request.handle = value;
        } else if (key == "live") {
            if (!parse_bool_param(value, request.live))
                return bad("live", "must be true or false");
        } else if (key == "live_sse" || key == "experimental_live_sse") {
            if (!parse_bool_param(value, request.live_sse))
                return bad(key, "must be true or false");
        } else if (key == "cursor") {
            request.cursor = value;
        } else if (key == "log") {
            if (value != "full" && value != "changes_only")
                return bad("log", "must be one of full, changes_only");
            request.log = value;
        } else if (key == "secret" || key == "api_secret") {
            request.secret = value;
            request.has_secret = true;
        }
        // Anything else (cache-buster, expired_handle, custom params of a proxy) is not part of
        // the shape, as in Electric.
    }
    if (!has_table || request.table.empty())
        return bad("table", "can't be blank");
    if (!has_offset)
        return bad("offset", "can't be blank");
    if (request.live_sse && !request.live)
        return bad("live_sse", "can't be true unless live is also true");
    if (auto subset = parse_subset_query(*pairs)) {
        if (!subset->subset)
            return bad("subset", subset->field + " " + subset->error);
        request.subset = std::move(subset->subset);
    }
    if (offset_text == "now") {
        // Electric: a handle is not needed (and is dropped), and now is never live.
        request.offset_now = true;
        request.offset = LogOffset::snapshot_end();
        request.handle.clear();
        if (request.live)
            return bad("live", "can't be true when offset is 'now'");
        return ShapeRequestOutcome{std::move(request), {}, {}};
    }
    auto offset = parse_log_offset(offset_text);
    if (!offset)
        return bad("offset", "has invalid format");
    request.offset = *offset;
    if (request.offset.before_all) {
        request.handle.clear();  // Electric drops the handle of an initial request
        if (request.live)
            return bad("live", "can't be true when offset == -1");
    } else if (request.handle.empty()) {
        return bad("handle", "can't be blank when offset != -1");
    }
    return ShapeRequestOutcome{std::move(request), {}, {}};
}

}  // namespace es::sync
