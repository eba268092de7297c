// What the unit tests of the stream messages' fast paths (sync_row_json_test.cpp,
// sync_control_json_test.cpp) share: a StreamMessage written out field by field, so that a
// difference from the full parse names the field it is in, and random JSON texts of every kind
// to vary the messages with.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sync/pure/stream_message.hpp"

namespace es::sync::testing {

// Every field of a parse's result, named, so that a difference shows which field it is in.
inline std::string describe(const std::optional<StreamMessage> &m)
{
    if (!m)
        return "(nothing)";
    std::string s = "kind=" + std::to_string(static_cast<int>(m->kind)) + " shapes=[";
    for (const std::string &name : m->shapes)
        s += "<" + name + ">";
    s += "] lsn=" + std::to_string(m->lsn) + " op_position=" + std::to_string(m->op_position) +
         " xid=" + std::to_string(m->xid) + " commit_unix_us=" + std::to_string(m->commit_unix_us) +
         " xmin=" + std::to_string(m->xmin) + " xmax=" + std::to_string(m->xmax) + " xip=[";
    for (uint64_t x : m->xip)
        s += std::to_string(x) + ",";
    return s + "] client_json=" + m->client_json;
}

// JSON texts built from pieces of every kind, spaced and ordered at random.
struct RandomJson {
    std::mt19937 rng{12345};
    const std::vector<std::string> keys = {"id", "a", "b", "Z", "_x", "\xc3\xa9t\xc3\xa9", "aa", "a b", "k\\\"q", "k\\u0042"};
    const std::vector<std::string> scalars = {
        "null", "true", "false", "0", "-7", "42", "1.5", "-0", "1e3", "99999999999999999999", "\"\"", "\"plain\"",
        "\"with \\\"quotes\\\" and \\\\\"", "\"\\n\\t\\r\\b\\f\"", "\"\\u0000\"", "\"\\u00ff\"", "\"\\/\"",
        "\"\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\x7f\"", "\"bad \xff\"", "\"bad \x1f\""};

    std::string space()
    {
        static const char *spaces[] = {"", "", "", " ", "\n", "\t ", "\r"};
        return spaces[rng() % 7];
    }

    std::string pick(const std::vector<std::string> &choices) { return choices[rng() % choices.size()]; }

    std::string value(int depth)
    {
        unsigned kind = rng() % (depth > 3 ? 1 : 4);
        if (kind == 0 || kind == 3)
            return scalars[rng() % scalars.size()];
        if (kind == 1) {
            std::string s = "[" + space();
            unsigned n = rng() % 4;
            for (unsigned i = 0; i < n; i++)
                s += (i ? "," + space() : "") + value(depth + 1) + space();
            return s + "]";
        }
        std::string s = "{" + space();
        unsigned n = rng() % 5;
        for (unsigned i = 0; i < n; i++)
            s += (i ? "," + space() : "") + "\"" + keys[rng() % keys.size()] + "\"" + space() + ":" + space() +
                 value(depth + 1) + space();
        return s + "}";
    }
};

}  // namespace es::sync::testing
