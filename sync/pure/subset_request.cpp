// Subset snapshot requests (see subset_request.hpp).
#include "sync/pure/subset_request.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "sync/pure/log_offset.hpp"

namespace es::sync {

namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string lower(std::string_view text)
{
    std::string out(text);
    for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The next word of letters (a keyword), or empty.
std::string_view word_at(std::string_view text, size_t &i)
{
    size_t start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
        i++;
    return text.substr(start, i - start);
}

std::optional<uint64_t> parse_count(std::string_view text)
{
    if (text.size() > 18)  // a bigint in the subset's SQL
        return std::nullopt;
    return parse_decimal(text);
}

// {"1":"a","2":"b"}: keys positive integers, values strings.
bool parse_params(const nlohmann::json &object, std::map<unsigned, std::string> &params)
{
    if (!object.is_object())
        return false;
    for (const auto &[key, value] : object.items()) {
        auto n = parse_count(key);
        if (!n || *n == 0 || *n > 65535 || key[0] == '0' || !value.is_string())
            return false;
        params[static_cast<unsigned>(*n)] = value.get<std::string>();
    }
    return true;
}

SubsetOutcome bad(const char *field, const char *error)
{
    return SubsetOutcome{std::nullopt, field, error};
}

}  // namespace

std::optional<std::vector<OrderItem>> parse_order_by(std::string_view text)
{
    std::vector<OrderItem> items;
    size_t i = 0;
    for (;;) {
        while (i < text.size() && is_space(text[i]))
            i++;
        OrderItem item;
        if (i < text.size() && text[i] == '"') {
            for (i++;; i++) {
                if (i >= text.size())
                    return std::nullopt;
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        item.column += '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                item.column += text[i];
            }
        } else {
            size_t start = i;
            while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
                i++;
            if (i == start || std::isdigit(static_cast<unsigned char>(text[start])))
                return std::nullopt;
            item.column = lower(text.substr(start, i - start));
        }
        if (item.column.empty() || item.column.find('\0') != std::string::npos)
            return std::nullopt;
        bool directed = false;
        for (;;) {
            while (i < text.size() && is_space(text[i]))
                i++;
            size_t at = i;
            std::string keyword = lower(word_at(text, i));
            if (keyword.empty())
                break;
            if ((keyword == "asc" || keyword == "desc") && !directed && item.nulls == OrderItem::Nulls::Default) {
                item.descending = keyword == "desc";
                directed = true;
            } else if (keyword == "nulls" && item.nulls == OrderItem::Nulls::Default) {
                while (i < text.size() && is_space(text[i]))
                    i++;
                std::string which = lower(word_at(text, i));
                if (which == "first")
                    item.nulls = OrderItem::Nulls::First;
                else if (which == "last")
                    item.nulls = OrderItem::Nulls::Last;
                else
                    return std::nullopt;
            } else {
                i = at;
                return std::nullopt;
            }
        }
        items.push_back(std::move(item));
        if (i >= text.size())
            return items;
        if (text[i] != ',')
            return std::nullopt;
        i++;
    }
}

std::optional<SubsetOutcome> parse_subset_query(const std::vector<std::pair<std::string, std::string>> &pairs)
{
    SubsetRequest subset;
    bool any = false;
    for (const auto &[key, value] : pairs) {
        if (key.rfind("subset__", 0) != 0)
            continue;
        any = true;
        if (key == "subset__where") {
            subset.where = value;
        } else if (key == "subset__params") {
            nlohmann::json object = nlohmann::json::parse(value, nullptr, false);
            if (object.is_discarded() || !parse_params(object, subset.params))
                return bad("params", "must be a JSON object of positive integer keys and string values");
        } else if (key == "subset__limit" || key == "subset__offset") {
            auto n = parse_count(value);
            if (!n)
                return bad(key == "subset__limit" ? "limit" : "offset", "must be a non-negative integer");
            (key == "subset__limit" ? subset.limit : subset.offset) = *n;
        } else if (key == "subset__order_by") {
            auto order = parse_order_by(value);
            if (!order)
                return bad("order_by", "must be column names, each with ASC or DESC and NULLS FIRST or LAST");
            subset.order_by = std::move(*order);
        }
    }
    if (!any)
        return std::nullopt;
    return SubsetOutcome{std::move(subset), {}, {}};
}

SubsetOutcome parse_subset_body(std::string_view body)
{
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return bad("body", "must be a JSON object");
    SubsetRequest subset;
    if (doc.contains("where") && !doc["where"].is_null()) {
        if (!doc["where"].is_string())
            return bad("where", "must be a string");
        subset.where = doc["where"].get<std::string>();
    }
    if (doc.contains("params") && !doc["params"].is_null() && !parse_params(doc["params"], subset.params))
        return bad("params", "must be a JSON object of positive integer keys and string values");
    for (const char *name : {"limit", "offset"}) {
        if (!doc.contains(name) || doc[name].is_null())
            continue;
        if (!doc[name].is_number_unsigned())
            return bad(name, "must be a non-negative integer");
        (std::string(name) == "limit" ? subset.limit : subset.offset) = doc[name].get<uint64_t>();
    }
    if (doc.contains("order_by") && !doc["order_by"].is_null()) {
        auto order = doc["order_by"].is_string() ? parse_order_by(doc["order_by"].get<std::string>()) : std::nullopt;
        if (!order)
            return bad("order_by", "must be column names, each with ASC or DESC and NULLS FIRST or LAST");
        subset.order_by = std::move(*order);
    }
    return SubsetOutcome{std::move(subset), {}, {}};
}

std::string order_by_sql(const std::vector<OrderItem> &order_by)
{
    std::string sql;
    for (const OrderItem &item : order_by) {
        if (!sql.empty())
            sql += ", ";
        sql += "(r).\"";
        for (char c : item.column)
            sql += c == '"' ? std::string("\"\"") : std::string(1, c);
        sql += "\"";
        if (item.descending)
            sql += " DESC";
        if (item.nulls == OrderItem::Nulls::First)
            sql += " NULLS FIRST";
        else if (item.nulls == OrderItem::Nulls::Last)
            sql += " NULLS LAST";
    }
    return sql;
}

}  // namespace es::sync
