// Fuzzes the JSON writer of the plugin's hot path: whatever the bytes, append_string_repairing
// gives valid UTF-8 (checked by a decoder written here, not the writer's own) that parses as a
// JSON string equal to the input with each byte outside a well-formed UTF-8 sequence read as the
// character of that code (U+0000..U+00FF); append_string gives the same whenever the input is
// UTF-8; a JSON document embedded with append_embedded stays the same document on one line;
// is_json_number accepts only JSON numbers.
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "electric_shapes/pure/json_writer.hpp"

namespace {

// The length of the well-formed UTF-8 sequence (RFC 3629) at the start of text, or 0: decodes
// the code point and refuses overlong forms, surrogates and anything above U+10FFFF.
size_t sequence_length(std::string_view text)
{
    auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(text[i])); };
    uint32_t lead = byte(0);
    size_t n = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || n > text.size())
        return 0;
    if (n == 1)
        return 1;
    uint32_t code = lead & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((byte(i) & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (byte(i) & 0x3f);
    }
    static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[n] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return n;
}

bool is_utf8(std::string_view text)
{
    while (!text.empty()) {
        size_t n = sequence_length(text);
        if (n == 0)
            return false;
        text.remove_prefix(n);
    }
    return true;
}

// What a repaired string must decode to: well-formed sequences as they are, any other byte as
// the code point of its value, encoded in UTF-8.
std::string intended_value(std::string_view text)
{
    std::string out;
    while (!text.empty()) {
        size_t n = sequence_length(text);
        if (n > 0) {
            out.append(text.substr(0, n));
            text.remove_prefix(n);
            continue;
        }
        auto c = static_cast<unsigned char>(text[0]);
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back(static_cast<char>(0xc0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
        }
        text.remove_prefix(1);
    }
    return out;
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
    check(parsed.get<std::string>() == intended_value(input));
    if (utf8)
        check(parsed.get<std::string>() == input);
    // The writer's own UTF-8 check agrees with the one written here.
    check(es::json::utf8_sequence_length(input) == (size == 0 ? 0 : sequence_length(input)));

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
