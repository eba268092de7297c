// SSE framing and resume offsets (see sse.hpp).
#include "sync/pure/sse.hpp"

namespace es::sync {

std::optional<std::vector<std::string_view>> json_array_elements(std::string_view array)
{
    auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
    auto only_space_after = [&](size_t i) {
        for (; i < array.size(); i++)
            if (!is_space(array[i]))
                return false;
        return true;
    };
    size_t i = 0, n = array.size();
    while (i < n && is_space(array[i]))
        i++;
    if (i >= n || array[i] != '[')
        return std::nullopt;
    i++;
    while (i < n && is_space(array[i]))
        i++;
    std::vector<std::string_view> out;
    if (i < n && array[i] == ']')
        return only_space_after(i + 1) ? std::optional(out) : std::nullopt;
    size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < n; i++) {
        char c = array[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (depth > 0 && (c == '}' || c == ']')) {
            depth--;
        } else if (depth == 0 && (c == ',' || c == ']')) {
            size_t end = i;
            while (end > start && is_space(array[end - 1]))
                end--;
            if (end == start)
                return std::nullopt;  // an empty element: "[,", ",,", ",]"
            out.push_back(array.substr(start, end - start));
            if (c == ']')
                return only_space_after(i + 1) ? std::optional(out) : std::nullopt;
            start = i + 1;
            while (start < n && is_space(array[start]))
                start++;
        } else if (depth == 0 && (c == '}' )) {
            return std::nullopt;
        }
    }
    return std::nullopt;  // unterminated
}

std::optional<std::string> sse_data_frames(std::string_view array)
{
    auto elements = json_array_elements(array);
    if (!elements)
        return std::nullopt;
    std::string out;
    for (std::string_view e : *elements) {
        out += "data: ";
        out += e;
        out += "\n\n";
    }
    return out;
}

uint64_t sse_resume_lsn(const LogOffset &last)
{
    return last.tx + 1;
}

bool is_sse_resume_offset(const LogOffset &offset, const LogOffset &last)
{
    return offset == LogOffset::at(sse_resume_lsn(last), 0);
}

}  // namespace es::sync
