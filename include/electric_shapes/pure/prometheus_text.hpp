// Prometheus text exposition format 0.0.4, built in memory: metric families with HELP and TYPE
// lines, their samples grouped under them whatever order they were added in, label values and
// help text escaped as the format requires. Names are checked, duplicate samples refused.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace es::prometheus {

enum class Type { Counter, Gauge, Untyped, Histogram };

using Labels = std::vector<std::pair<std::string, std::string>>;

// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool is_valid_metric_name(std::string_view name);

// True for a valid label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved).
bool is_valid_label_name(std::string_view name);

// A label value escaped for the text format: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

// Help text escaped for the text format: backslash and line feed.
std::string escape_help(std::string_view help);

// A sample value as the text format writes it: integers exactly, NaN, +Inf, -Inf.
std::string format_value(double value);

class TextBuilder {
public:
    // Declares a metric family. Counters must be named *_total. Throws std::invalid_argument for
    // a bad name or a second declaration of the same name.
    void declare(std::string_view name, Type type, std::string_view help);

    // Adds a sample to a declared family. Throws std::invalid_argument for an undeclared family,
    // a bad or repeated label name, or a label set the family already has.
    void add(std::string_view family, const Labels &labels, double value);
    void add(std::string_view family, const Labels &labels, int64_t value);

    // Adds one histogram of a declared Histogram family: a <name>_bucket sample per upper bound
    // (cumulative counts, bounds increasing, the +Inf bucket added here with count), then
    // <name>_sum and <name>_count. Throws std::invalid_argument for a family of another type,
    // bounds and counts of different lengths, decreasing bounds or counts, a last count above
    // count, or a label named "le".
    void add_histogram(std::string_view family, const Labels &labels, const std::vector<double> &upper_bounds,
                       const std::vector<uint64_t> &cumulative_counts, double sum, uint64_t count);

    // The exposition: every declared family in declaration order, then a final line feed.
    std::string text() const;

private:
    struct Family {
        std::string name;
        Type type;
        std::string help;
        std::string samples;            // formatted sample lines
        std::set<std::string> label_sets;  // formatted label sets already present
    };
    Family &family_for(std::string_view name);
    void add_formatted(std::string_view family, const Labels &labels, const std::string &value,
                       std::string_view suffix = {});

    std::vector<Family> families_;
    std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace es::prometheus
