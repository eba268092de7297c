// Fuzzes the key builder: keys of one relation are injective, so two different lists of key
// parts (values or NULLs) never give the same key, whatever bytes the values hold; and a key
// written escaped part by part is exactly the built key escaped as a JSON string.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/pure/shape_key.hpp"

namespace {

using Parts = std::vector<std::optional<std::string>>;

Parts consume_parts(FuzzedDataProvider &provider)
{
    Parts parts;
    size_t count = provider.ConsumeIntegralInRange<size_t>(0, 4);
    for (size_t i = 0; i < count; i++) {
        if (provider.ConsumeBool())
            parts.emplace_back(std::nullopt);
        else
            parts.emplace_back(provider.ConsumeRandomLengthString(64));
    }
    return parts;
}

std::string key_of(const Parts &parts)
{
    es::Buffer key;
    es::key::append_relation(key, "public", "t");
    for (const auto &part : parts)
        es::key::append_part(key, part ? *part : std::string(), !part);
    return key.str();
}

std::string escaped_key_of(const Parts &parts)
{
    es::Buffer key;
    es::json::append_escaped(key, "\"public\".\"t\"");
    for (const auto &part : parts)
        es::key::append_escaped_part(key, part ? *part : std::string(), !part);
    return key.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    Parts a = consume_parts(provider);
    Parts b = consume_parts(provider);
    if ((key_of(a) == key_of(b)) != (a == b))
        abort();
    es::Buffer escaped;
    es::json::append_escaped(escaped, key_of(a));
    if (escaped.str() != escaped_key_of(a))
        abort();
    return 0;
}
