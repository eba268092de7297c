// Log offsets (see log_offset.hpp).
#include "sync/pure/log_offset.hpp"

namespace es::sync {

std::optional<uint64_t> parse_decimal(std::string_view text)
{
    if (text.empty() || text.size() > 20)
        return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        uint64_t digit = static_cast<uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::string LogOffset::str() const
{
    if (before_all)
        return "-1";
    return std::to_string(tx) + "_" + (op == kInf ? std::string("inf") : std::to_string(op));
}

bool LogOffset::operator<(const LogOffset &o) const
{
    if (before_all != o.before_all)
        return before_all;
    if (tx != o.tx)
        return tx < o.tx;
    return op < o.op;
}

std::optional<LogOffset> parse_log_offset(std::string_view text)
{
    if (text == "-1")
        return LogOffset::before_everything();
    size_t underscore = text.find('_');
    if (underscore == std::string_view::npos)
        return std::nullopt;
    auto tx = parse_decimal(text.substr(0, underscore));
    if (!tx)
        return std::nullopt;
    std::string_view op_text = text.substr(underscore + 1);
    if (op_text == "inf")
        return LogOffset::at(*tx, LogOffset::kInf);
    auto op = parse_decimal(op_text);
    if (!op || *op == LogOffset::kInf)
        return std::nullopt;
    return LogOffset::at(*tx, *op);
}

}  // namespace es::sync
