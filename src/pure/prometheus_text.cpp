// Prometheus text exposition format 0.0.4 (see prometheus_text.hpp).
#include "electric_shapes/pure/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace es::prometheus {

namespace {

bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool ends_with(std::string_view text, std::string_view suffix)
{
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

const char *type_name(Type type)
{
    switch (type) {
    case Type::Counter: return "counter";
    case Type::Gauge: return "gauge";
    case Type::Histogram: return "histogram";
    case Type::Untyped: break;
    }
    return "untyped";
}

}  // namespace

bool is_valid_metric_name(std::string_view name)
{
    if (name.empty() || !(is_name_start(name[0]) || name[0] == ':'))
        return false;
    for (char c : name)
        if (!is_name_char(c) && c != ':')
            return false;
    return true;
}

bool is_valid_label_name(std::string_view name)
{
    if (name.empty() || !is_name_start(name[0]) || name.substr(0, 2) == "__")
        return false;
    for (char c : name)
        if (!is_name_char(c))
            return false;
    return true;
}

std::string escape_label_value(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view help)
{
    std::string out;
    out.reserve(help.size());
    for (char c : help) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

std::string format_value(double value)
{
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    // Shortest text that reads back as the same double.
    auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    if (error != std::errc())
        throw std::runtime_error("cannot format a metric value");
    return std::string(buffer, end);
}

void TextBuilder::declare(std::string_view name, Type type, std::string_view help)
{
    if (!is_valid_metric_name(name))
        throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
    if (type == Type::Counter && !ends_with(name, "_total"))
        throw std::invalid_argument("counter \"" + std::string(name) + "\" must end in _total");
    if (index_.find(name) != index_.end())
        throw std::invalid_argument("metric \"" + std::string(name) + "\" is declared twice");
    index_.emplace(std::string(name), families_.size());
    families_.push_back(Family{std::string(name), type, std::string(help), {}, {}});
}

TextBuilder::Family &TextBuilder::family_for(std::string_view name)
{
    auto found = index_.find(name);
    if (found == index_.end())
        throw std::invalid_argument("metric \"" + std::string(name) + "\" is not declared");
    return families_[found->second];
}

void TextBuilder::add_formatted(std::string_view name, const Labels &labels, const std::string &value,
                                std::string_view suffix)
{
    Family &family = family_for(name);
    std::string label_text;
    std::set<std::string_view> label_names;
    for (const auto &[label, label_value] : labels) {
        if (!is_valid_label_name(label))
            throw std::invalid_argument("invalid label name \"" + label + "\"");
        if (!label_names.insert(label).second)
            throw std::invalid_argument("label \"" + label + "\" is given twice");
        label_text += label_text.empty() ? "{" : ",";
        label_text += label;
        label_text += "=\"";
        label_text += escape_label_value(label_value);
        label_text += '"';
    }
    if (!label_text.empty())
        label_text += '}';
    if (!family.label_sets.insert(std::string(suffix) + label_text).second)
        throw std::invalid_argument("metric \"" + family.name + std::string(suffix) + "\" already has a sample " +
                                    label_text);
    family.samples += family.name;
    family.samples += suffix;
    family.samples += label_text;
    family.samples += ' ';
    family.samples += value;
    family.samples += '\n';
}

void TextBuilder::add(std::string_view family, const Labels &labels, double value)
{
    add_formatted(family, labels, format_value(value));
}

void TextBuilder::add(std::string_view family, const Labels &labels, int64_t value)
{
    add_formatted(family, labels, std::to_string(value));
}

void TextBuilder::add_histogram(std::string_view name, const Labels &labels, const std::vector<double> &upper_bounds,
                                const std::vector<uint64_t> &cumulative_counts, double sum, uint64_t count)
{
    if (family_for(name).type != Type::Histogram)
        throw std::invalid_argument("metric \"" + std::string(name) + "\" is not a histogram");
    if (upper_bounds.size() != cumulative_counts.size())
        throw std::invalid_argument("histogram \"" + std::string(name) + "\" has bounds and counts of different lengths");
    for (const auto &[label, label_value] : labels)
        if (label == "le")
            throw std::invalid_argument("histogram \"" + std::string(name) + "\" may not have a label named le");
    for (size_t i = 1; i < upper_bounds.size(); i++)
        if (!(upper_bounds[i - 1] < upper_bounds[i]) || cumulative_counts[i - 1] > cumulative_counts[i])
            throw std::invalid_argument("histogram \"" + std::string(name) + "\" buckets do not increase");
    if (!cumulative_counts.empty() && cumulative_counts.back() > count)
        throw std::invalid_argument("histogram \"" + std::string(name) + "\" has a bucket above its count");
    for (size_t i = 0; i <= upper_bounds.size(); i++) {
        Labels with_le = labels;
        bool last = i == upper_bounds.size();
        with_le.emplace_back("le", last ? "+Inf" : format_value(upper_bounds[i]));
        add_formatted(name, with_le, std::to_string(last ? count : cumulative_counts[i]), "_bucket");
    }
    add_formatted(name, labels, format_value(sum), "_sum");
    add_formatted(name, labels, std::to_string(count), "_count");
}

std::string TextBuilder::text() const
{
    std::string out;
    for (const Family &family : families_) {
        out += "# HELP ";
        out += family.name;
        out += ' ';
        out += escape_help(family.help);
        out += "\n# TYPE ";
        out += family.name;
        out += ' ';
        out += type_name(family.type);
        out += '\n';
        out += family.samples;
    }
    return out;
}

}  // namespace es::prometheus
