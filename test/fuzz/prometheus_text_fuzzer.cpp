// Fuzzes the Prometheus text builder: whatever names, label values, help texts and sample
// values it is given, it either refuses them with std::invalid_argument or produces an
// exposition every line of which is a HELP, a TYPE or a well-formed sample line.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

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
            if (provider.ConsumeBool()) {
                auto type = static_cast<prom::Type>(provider.ConsumeIntegralInRange(0, 2));
                builder.declare(name, type, provider.ConsumeRandomLengthString(40));
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
