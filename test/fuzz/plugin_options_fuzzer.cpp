// Fuzzes the option parser: any list of names and values either parses or fails with an
// es::UserError of SQLSTATE 22023 whose message stays short however long the input; nothing
// else escapes it.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/plugin_options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    static const char *const known[] = {"shapes", "include-transaction", "values"};
    std::vector<es::RawOption> raw;
    size_t count = provider.ConsumeIntegralInRange<size_t>(0, 5);
    for (size_t i = 0; i < count; i++) {
        std::string name = provider.ConsumeBool() ? std::string(known[provider.ConsumeIntegralInRange(0, 2)])
                                                  : provider.ConsumeRandomLengthString(300);
        std::optional<std::string> value;
        if (provider.ConsumeBool())
            value = provider.ConsumeRandomLengthString(400);
        raw.emplace_back(std::move(name), std::move(value));
    }
    try {
        es::PluginOptions options = es::parse_plugin_options(raw);
        if (options.all_shapes && !options.shapes.empty())
            abort();
    } catch (const es::UserError &e) {
        if (e.sqlstate != "22023" || std::string(e.what()).size() > 200)
            abort();
    }
    return 0;
}
