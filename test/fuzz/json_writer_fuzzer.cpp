// Fuzzes the JSON writer of the plugin's hot path: whatever the bytes, append_string_repairing
// gives a valid JSON string; append_string gives one whenever the input is UTF-8, and it decodes
// back to exactly the input; a JSON document embedded with append_embedded stays the same
// document on one line; is_json_number accepts only JSON numbers.
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "electric_shapes/pure/json_writer.hpp"

namespace {

bool is_utf8(std::string_view text)
{
    while (!text.empty()) {
        size_t n = es::json::utf8_sequence_length(text);
        if (n == 0)
            return false;
        text.remove_prefix(n);
    }
    return true;
}

void check(bool condition)
{
    if (!condition)
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view input(reinterpret_cast<const char *>(data), size);
    bool utf8 = is_utf8(input);

    es::Buffer repaired_buffer;
    es::json::append_string_repairing(repaired_buffer, input);
    std::string repaired = repaired_buffer.str();
    check(is_utf8(repaired));
    nlohmann::json parsed = nlohmann::json::parse(repaired, nullptr, false);
    check(parsed.is_string());
    if (utf8)
        check(parsed.get<std::string>() == input);
    // Repairing is per byte: every byte becomes exactly one character.
    check(!utf8 || repaired.size() >= size + 2);

    es::Buffer plain_buffer;
    es::json::append_string(plain_buffer, input);
    std::string plain = plain_buffer.str();
    if (utf8) {
        check(plain == repaired);
        check(nlohmann::json::parse(plain, nullptr, false).get<std::string>() == input);
    }

    if (utf8 && nlohmann::json::accept(input)) {
        es::Buffer embedded_buffer;
        es::json::append_embedded(embedded_buffer, input);
        std::string embedded = embedded_buffer.str();
        check(embedded.find('\n') == std::string::npos && embedded.find('\r') == std::string::npos);
        check(nlohmann::json::parse(embedded) == nlohmann::json::parse(input));
        es::Buffer embedded_repaired;
        es::json::append_embedded_repairing(embedded_repaired, input);
        check(embedded_repaired.view() == embedded);
    }

    // RFC 8259's number grammar, checked independently (nlohmann refuses numbers that overflow
    // a double, such as 1e999, which are still JSON numbers).
    if (size <= 256) {
        static const std::regex number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
        check(es::json::is_json_number(input) == std::regex_match(std::string(input), number));
    }
    return 0;
}
