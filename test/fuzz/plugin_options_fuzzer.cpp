// Fuzzes the option parser: any list of names and values either parses or fails with an
// es::UserError of SQLSTATE 22023 whose message stays short however long the input; nothing
// else escapes it. Then, from the same bytes, a well-formed option list (known names, each once,
// values spelled any way PostgreSQL accepts) must parse to exactly the options it says, and the
// same list with one option spoiled (an unknown name, a repeated option, a bad value or shape
// name) must be refused with 22023: a parser that refuses or accepts everything fails here.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/plugin_options.hpp"

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

// Some blanks (spaces, tabs, line ends), which surround any value harmlessly.
std::string blanks(FuzzedDataProvider &provider)
{
    static const char chars[] = {' ', '\t', '\n', '\r'};
    std::string out;
    for (int n = provider.ConsumeIntegralInRange(0, 2); n > 0; n--)
        out.push_back(chars[provider.ConsumeIntegralInRange(0, 3)]);
    return out;
}

// text with the case of each letter chosen by the input.
std::string any_case(FuzzedDataProvider &provider, std::string text)
{
    for (char &c : text)
        if (provider.ConsumeBool() && c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return text;
}

// A well-formed shape name: 1 to 63 of [A-Za-z0-9_-].
std::string shape_name(FuzzedDataProvider &provider)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    std::string name;
    for (int n = provider.ConsumeIntegralInRange(1, 63); n > 0; n--)
        name.push_back(chars[provider.ConsumeIntegralInRange(0, 63)]);
    return name;
}

struct Expected {
    bool all_shapes = true;
    std::set<std::string> shapes;
    bool include_transaction = false;
    es::ValuesMode values = es::ValuesMode::Text;
};

// Builds a valid option list from the input and what it must parse to.
std::vector<es::RawOption> valid_options(FuzzedDataProvider &provider, Expected &expected)
{
    static const char *const truths[] = {"true", "on", "yes", "1", "t", "y"};
    static const char *const falsehoods[] = {"false", "off", "no", "0", "f", "n"};
    std::vector<es::RawOption> raw;
    int order[3] = {0, 1, 2};
    for (int i = 2; i > 0; i--)
        std::swap(order[i], order[provider.ConsumeIntegralInRange(0, i)]);
    for (int option : order) {
        if (!provider.ConsumeBool())
            continue;
        if (option == 0) {
            std::string list;
            for (int n = provider.ConsumeIntegralInRange(1, 4); n > 0; n--) {
                std::string name = shape_name(provider);
                expected.shapes.insert(name);
                list += (list.empty() ? "" : ",") + blanks(provider) + name + blanks(provider);
            }
            expected.all_shapes = false;
            raw.emplace_back("shapes", list);
        } else if (option == 1) {
            std::optional<std::string> value;  // absent: true
            expected.include_transaction = true;
            if (provider.ConsumeBool()) {
                expected.include_transaction = provider.ConsumeBool();
                const char *const *spellings = expected.include_transaction ? truths : falsehoods;
                value = blanks(provider) + any_case(provider, spellings[provider.ConsumeIntegralInRange(0, 5)]) +
                        blanks(provider);
            }
            raw.emplace_back("include-transaction", value);
        } else {
            expected.values = provider.ConsumeBool() ? es::ValuesMode::Json : es::ValuesMode::Text;
            std::string word = expected.values == es::ValuesMode::Json ? "json" : "text";
            raw.emplace_back("values", blanks(provider) + any_case(provider, word) + blanks(provider));
        }
    }
    return raw;
}

// Spoils one option of a valid list, or adds a bad one.
void spoil(FuzzedDataProvider &provider, std::vector<es::RawOption> &raw)
{
    static const char *const bad_values[] = {"maybe", "", "2", "truth", "yes please", "texts", "jsonb"};
    int how = provider.ConsumeIntegralInRange(0, 3);
    if (raw.empty() || how == 0) {
        static const char *const unknown[] = {"Shapes", "shape", "include_transaction", "value", "", "x"};
        raw.emplace_back(unknown[provider.ConsumeIntegralInRange(0, 5)], std::nullopt);
        return;
    }
    es::RawOption &option = raw[provider.ConsumeIntegralInRange<size_t>(0, raw.size() - 1)];
    if (how == 1) {
        raw.push_back(es::RawOption(option));  // given twice
    } else if (option.first == "shapes") {
        static const char *const bad_names[] = {"", "a b", "a,,b", "x.y", "\"q\"", "\xc3\xa9"};
        option.second = *option.second + "," + bad_names[provider.ConsumeIntegralInRange(0, 5)];
    } else if (option.first == "values") {
        option.second = bad_values[provider.ConsumeIntegralInRange(0, 6)];
    } else {
        option.second = bad_values[provider.ConsumeIntegralInRange(0, 4)];
    }
}

}  // namespace

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
        check(!(options.all_shapes && !options.shapes.empty()));
    } catch (const es::UserError &e) {
        check(e.sqlstate == "22023" && std::string(e.what()).size() <= 200);
    }

    Expected expected;
    std::vector<es::RawOption> valid = valid_options(provider, expected);
    es::PluginOptions options = es::parse_plugin_options(valid);  // throws (and fails) if refused
    check(options.all_shapes == expected.all_shapes);
    check(options.shapes.size() == expected.shapes.size());
    for (const std::string &name : expected.shapes)
        check(options.shapes.contains(name) && options.selects(name));
    check(options.include_transaction == expected.include_transaction);
    check(options.values == expected.values);

    spoil(provider, valid);
    try {
        es::parse_plugin_options(valid);
        check(false);
    } catch (const es::UserError &e) {
        check(e.sqlstate == "22023");
    }
    return 0;
}
