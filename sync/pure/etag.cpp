// If-None-Match matching (see etag.hpp).
#include "sync/pure/etag.hpp"

namespace es::sync {

namespace {

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '"'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '"'))
        text.remove_suffix(1);
    return text;
}

}  // namespace

bool etag_matches(std::string_view etag, std::string_view if_none_match)
{
    std::string_view wanted = trim(etag);
    if (wanted.empty())
        return false;
    while (true) {
        size_t comma = if_none_match.find(',');
        if (trim(if_none_match.substr(0, comma)) == wanted)
            return true;
        if (comma == std::string_view::npos)
            return false;
        if_none_match.remove_prefix(comma + 1);
    }
}

}  // namespace es::sync
