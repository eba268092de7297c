// Fuzzes the Prometheus text builder: whatever names, label values, help texts and sample
// values it is given, it either refuses them with std::invalid_argument or produces an
// exposition every line of which is a HELP, a TYPE or a well-formed sample line. Then, from the
// same bytes, valid families and samples (any help text and label values) must all be accepted
// and read back, by a parser written here, as exactly what was given; and each kind of invalid
// call (bad metric or label name, counter not named *_total, a second declaration, a repeated
// label set, an undeclared family) must be refused: a builder that refuses everything fails.
// Histograms with any bounds and counts are refused or written as well-formed sample lines.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "electric_shapes/pure/prometheus_text.hpp"

namespace {

namespace prom = es::prometheus;

void check(bool condition)
{
    if (!condition)
        abort();
}

// name{label="value",...} value, label values escaped as the format requires.
bool is_sample_line(const std::string &line)
{
    size_t i = 0, n = line.size();
    auto name_char = [&](size_t at, bool first) {
        char c = line[at];
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
               (!first && c >= '0' && c <= '9');
    };
    size_t start = i;
    while (i < n && name_char(i, i == start))
        i++;
    if (i == start)
        return false;
    if (i < n && line[i] == '{') {
        i++;
        while (i < n && line[i] != '}') {
            size_t label = i;
            while (i < n && name_char(i, i == label) && line[i] != ':')
                i++;
            if (i == label || i + 1 >= n || line[i] != '=' || line[i + 1] != '"')
                return false;
            i += 2;
            while (i < n && line[i] != '"') {
                if (line[i] == '\\') {
                    if (i + 1 >= n || (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n'))
                        return false;
                    i++;
                }
                i++;
            }
            if (i >= n)
                return false;
            i++;
            if (i < n && line[i] == ',')
                i++;
        }
        if (i >= n)
            return false;
        i++;
    }
    if (i >= n || line[i] != ' ')
        return false;
    std::string value = line.substr(i + 1);
    if (value == "NaN" || value == "+Inf" || value == "-Inf")
        return true;
    char *end = nullptr;
    std::strtod(value.c_str(), &end);
    return !value.empty() && end == value.c_str() + value.size();
}

struct Sample {
    prom::Labels labels;
    bool integer;
    int64_t integer_value;
    double double_value;
};

struct Family {
    std::string name, help;
    prom::Type type;
    std::vector<Sample> samples;
};

// A name of [a-zA-Z_:][a-zA-Z0-9_:]* (label names: no ':' and no leading "__").
std::string valid_name(FuzzedDataProvider &provider, bool label)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789";
    size_t first_chars = label ? 53 : 54;  // letters and '_', and ':' for metric names
    std::string name(1, chars[provider.ConsumeIntegralInRange<size_t>(0, first_chars - 1)]);
    for (int n = provider.ConsumeIntegralInRange(0, 12); n > 0; n--) {
        char c = chars[provider.ConsumeIntegralInRange<size_t>(0, 63)];
        name.push_back(label && c == ':' ? '_' : c);
    }
    if (label && name.rfind("__", 0) == 0)
        name[0] = 'l';
    return name;
}

// Undoes the text format's escapes; false on an escape the format does not have.
bool unescape(const std::string &text, bool label_value, std::string &out)
{
    out.clear();
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != '\\') {
            out.push_back(text[i]);
            continue;
        }
        if (++i == text.size())
            return false;
        char c = text[i];
        if (c == 'n')
            out.push_back('\n');
        else if (c == '\\' || (label_value && c == '"'))
            out.push_back(c);
        else
            return false;
    }
    return true;
}

// Reads an exposition back into families; fails the run on anything unexpected.
std::vector<Family> parse_exposition(const std::string &text)
{
    std::vector<Family> families;
    check(!text.empty() && text.back() == '\n');
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end - start);
        start = end + 1;
        if (line.rfind("# HELP ", 0) == 0) {
            size_t space = line.find(' ', 7);
            check(space != std::string::npos);
            Family family;
            family.name = line.substr(7, space - 7);
            check(unescape(line.substr(space + 1), false, family.help));
            families.push_back(std::move(family));
            continue;
        }
        check(!families.empty());
        Family &family = families.back();
        if (line.rfind("# TYPE ", 0) == 0) {
            std::string rest = line.substr(7);
            check(rest == family.name + " counter" || rest == family.name + " gauge" || rest == family.name + " untyped");
            family.type = rest == family.name + " counter" ? prom::Type::Counter
                          : rest == family.name + " gauge" ? prom::Type::Gauge
                                                           : prom::Type::Untyped;
            continue;
        }
        check(line.rfind(family.name, 0) == 0);
        size_t i = family.name.size();
        Sample sample;
        if (line[i] == '{') {
            i++;
            while (line[i] != '}') {
                size_t equals = line.find("=\"", i);
                check(equals != std::string::npos);
                std::string label = line.substr(i, equals - i), raw;
                i = equals + 2;
                while (i < line.size() && line[i] != '"') {
                    if (line[i] == '\\' && i + 1 < line.size())
                        raw.push_back(line[i++]);  // the escaped character is not the end
                    raw.push_back(line[i++]);
                }
                check(i < line.size());
                std::string value;
                check(unescape(raw, true, value));
                sample.labels.emplace_back(label, value);
                i++;
                if (line[i] == ',')
                    i++;
            }
            i++;
        }
        check(line[i] == ' ');
        std::string value = line.substr(i + 1);
        char *end_of_value = nullptr;
        sample.integer = value.find_first_not_of("-0123456789") == std::string::npos;
        if (sample.integer) {
            sample.integer_value = std::strtoll(value.c_str(), &end_of_value, 10);
        } else {
            sample.double_value = value == "NaN"    ? NAN
                                  : value == "+Inf" ? INFINITY
                                  : value == "-Inf" ? -INFINITY
                                                    : std::strtod(value.c_str(), &end_of_value);
            check(value == "NaN" || value == "+Inf" || value == "-Inf" ||
                  end_of_value == value.c_str() + value.size());
        }
        family.samples.push_back(std::move(sample));
    }
    return families;
}

// Expects the call to be refused with std::invalid_argument.
template <typename Call>
void check_refused(Call call)
{
    try {
        call();
    } catch (const std::invalid_argument &) {
        return;
    }
    abort();
}

// Builds valid families and samples from the input, then checks the builder took them all and
// wrote back exactly them, and refuses the invalid calls.
void check_valid(FuzzedDataProvider &provider)
{
    prom::TextBuilder builder;
    std::vector<Family> families;
    for (int f = provider.ConsumeIntegralInRange(1, 3); f > 0; f--) {
        Family family;
        family.type = static_cast<prom::Type>(provider.ConsumeIntegralInRange(0, 2));
        family.name = valid_name(provider, false) + "_" + std::to_string(families.size()) + "_total";
        family.help = provider.ConsumeRandomLengthString(40);
        builder.declare(family.name, family.type, family.help);
        families.push_back(std::move(family));
    }
    for (int n = provider.ConsumeIntegralInRange(0, 8), s = 0; s < n; s++) {
        Family &family = families[provider.ConsumeIntegralInRange<size_t>(0, families.size() - 1)];
        Sample sample;
        sample.labels.emplace_back("n", std::to_string(s));  // label sets stay distinct
        for (int l = provider.ConsumeIntegralInRange(0, 2); l > 0; l--) {
            // "x", not "_": a name "_" would make the reserved "__1".
            std::string label = valid_name(provider, true) + "x" + std::to_string(l);
            sample.labels.emplace_back(label, provider.ConsumeRandomLengthString(30));
        }
        sample.integer = provider.ConsumeBool();
        if (sample.integer) {
            sample.integer_value = provider.ConsumeIntegral<int64_t>();
            builder.add(family.name, sample.labels, sample.integer_value);
        } else {
            sample.double_value = provider.ConsumeFloatingPoint<double>();
            builder.add(family.name, sample.labels, sample.double_value);
        }
        family.samples.push_back(std::move(sample));
    }

    std::vector<Family> read = parse_exposition(builder.text());
    check(read.size() == families.size());
    for (size_t f = 0; f < families.size(); f++) {
        check(read[f].name == families[f].name && read[f].help == families[f].help &&
              read[f].type == families[f].type && read[f].samples.size() == families[f].samples.size());
        for (size_t s = 0; s < families[f].samples.size(); s++) {
            const Sample &want = families[f].samples[s], &got = read[f].samples[s];
            check(got.labels == want.labels);
            if (want.integer)
                check(got.integer && got.integer_value == want.integer_value);
            else if (std::isnan(want.double_value))
                check(!got.integer && std::isnan(got.double_value));
            else
                check(got.integer ? static_cast<double>(got.integer_value) == want.double_value
                                  : got.double_value == want.double_value);
        }
    }

    const std::string &name = families[0].name;
    check_refused([&] { builder.declare(name, prom::Type::Gauge, ""); });
    check_refused([&] { builder.declare(name.substr(0, name.size() - 6), prom::Type::Counter, ""); });
    check_refused([&] { builder.declare(std::to_string(provider.ConsumeIntegral<uint8_t>() % 10) + name, prom::Type::Gauge, ""); });
    check_refused([&] { builder.declare(name + "-x", prom::Type::Gauge, ""); });
    check_refused([&] { builder.add(name + "_undeclared", {}, int64_t{1}); });
    check_refused([&] { builder.add(name, {{"__reserved", "x"}}, int64_t{1}); });
    check_refused([&] { builder.add(name, {{"a:b", "x"}}, int64_t{1}); });
    check_refused([&] { builder.add(name, {{"n", "x"}, {"n", "y"}}, int64_t{1}); });
    builder.add(name, {{"n", "once"}}, int64_t{1});
    check_refused([&] { builder.add(name, {{"n", "once"}}, 2.5); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    prom::TextBuilder builder;
    std::string names[3];
    for (auto &name : names)
        name = provider.ConsumeBool() ? provider.ConsumeRandomLengthString(20)
                                      : "m_" + std::to_string(provider.ConsumeIntegral<uint8_t>()) + "_total";
    int steps = provider.ConsumeIntegralInRange(0, 12);
    for (int s = 0; s < steps; s++) {
        const std::string &name = names[provider.ConsumeIntegralInRange(0, 2)];
        try {
            int action = provider.ConsumeIntegralInRange(0, 2);
            if (action == 0) {
                auto type = static_cast<prom::Type>(provider.ConsumeIntegralInRange(0, 3));
                builder.declare(name, type, provider.ConsumeRandomLengthString(40));
            } else if (action == 1) {
                // A histogram with any bounds and counts: refused, or well-formed sample lines.
                std::vector<double> bounds;
                std::vector<uint64_t> counts;
                for (int b = provider.ConsumeIntegralInRange(0, 4); b > 0; b--) {
                    bounds.push_back(provider.ConsumeFloatingPoint<double>());
                    counts.push_back(provider.ConsumeIntegralInRange<uint64_t>(0, 100));
                }
                if (provider.ConsumeBool() && !counts.empty())
                    counts.pop_back();
                prom::Labels labels;
                if (provider.ConsumeBool())
                    labels.emplace_back(provider.ConsumeBool() ? "le" : "route", provider.ConsumeRandomLengthString(20));
                builder.add_histogram(name, labels, bounds, counts, provider.ConsumeFloatingPoint<double>(),
                                      provider.ConsumeIntegralInRange<uint64_t>(0, 200));
            } else {
                prom::Labels labels;
                int count = provider.ConsumeIntegralInRange(0, 3);
                for (int l = 0; l < count; l++) {
                    std::string label = provider.ConsumeBool() ? provider.ConsumeRandomLengthString(10)
                                                               : "l" + std::to_string(l);
                    labels.emplace_back(label, provider.ConsumeRandomLengthString(40));
                }
                if (provider.ConsumeBool())
                    builder.add(name, labels, provider.ConsumeFloatingPoint<double>());
                else
                    builder.add(name, labels, provider.ConsumeIntegral<int64_t>());
            }
        } catch (const std::invalid_argument &) {
        }
    }
    check_valid(provider);
    std::string text = builder.text();
    if (text.empty())
        return 0;  // nothing declared
    check(text.back() == '\n');
    std::istringstream lines(text.substr(0, text.size() - 1));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0)
            continue;
        check(is_sample_line(line));
    }
    return 0;
}
