// A row's client message without a document (see row_json.hpp). What nlohmann's parse and dump
// do to a document, and so what this copy must reproduce:
//  - object members come out sorted by key (its objects are std::map, byte order), no spaces;
//  - a string comes out with \" \\ \b \f \n \r \t as those escapes, other control characters as
//    \u00xx, everything else (non-ASCII UTF-8, DEL, '/') as itself;
//  - an integer comes out as its decimal value ("-0" as "0"), a number with a fraction or an
//    exponent as the shortest text that reads back the same double.
// The fast path copies a string only when it holds no \u or \/ escape (then its escapes are
// already nlohmann's), an integer only when it is plain and small enough to be one, a key only
// when it holds no escape at all (so that its bytes order as the decoded key does); everything
// else returns false, before anything is appended, and the full parse decides.
//
// The header values of a row are read after the copy (those of any other message after the
// same scan, with nothing copied), from where the headers' scan saw them: the whole text is
// valid JSON in the fast path's forms by then, so reading them only has to decide what nlohmann
// would hold. A number is there an integer without fraction or exponent of
// at most 18 digits: unsigned when it has no sign (nlohmann's number_unsigned), a signed integer
// otherwise (which the full parse takes as absent). A string without escapes is its bytes.
#include "sync/pure/row_json.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "electric_shapes/pure/json_writer.hpp"
#include "sync/pure/log_offset.hpp"

namespace es::sync {

namespace {

constexpr int kMaxDepth = 64;  // deeper documents take the full parse (no deep recursion here)

struct Member {
    std::string_view key;  // without quotes, no escapes
    const char *value;     // where its value's text starts
};

class Copier {
public:
    Copier(const char *begin, const char *end, std::string &out, RowHeaders *headers)
        : p_(begin), end_(end), out_(out), headers_out_(headers)
    {
    }

    // The whole text, a row message: {"headers":{...},"key":...,...}, the headers' "shapes"
    // member dropped.
    bool row()
    {
        std::vector<Member> members;
        if (!whole_object(members))
            return false;
        bool has_key = false, has_headers = false;
        for (const Member &m : members) {
            has_key |= m.key == "key";
            has_headers |= m.key == "headers";
        }
        if (!has_key || !has_headers)
            return false;
        if (!write_object(members, [this](const Member &m) { return m.key == "headers" ? headers() : value(1); }))
            return false;
        return headers_out_ == nullptr || read_header_values(*headers_out_);
    }

    // The whole text, any message: {"headers":{...},...}, only scanned (nothing is copied), and
    // its header values read.
    bool message_headers(MessageHeaders &headers)
    {
        std::vector<Member> members;
        if (!whole_object(members))
            return false;
        auto it = std::find_if(members.begin(), members.end(), [](const Member &m) { return m.key == "headers"; });
        if (it == members.end() || *it->value != '{')
            return false;  // the full parse's "not a message"
        p_ = it->value;
        std::vector<Member> header_members;
        if (!scan_object(header_members, 1))
            return false;
        note_header_members(header_members);
        if (!read_header_values(headers.values))
            return false;
        headers.control = std::nullopt;
        headers.commit_time = std::nullopt;
        if (control_ != nullptr) {
            std::string_view name;
            if (*control_ != '"' || !plain_string(control_, name))
                return false;  // a name that is not a string, or an escape to decode
            headers.control = name;
        }
        if (commit_time_ != nullptr && *commit_time_ == '"') {
            std::string_view time;
            if (!plain_string(commit_time_, time))
                return false;
            headers.commit_time = time;
        }
        return true;
    }

private:
    const char *p_;
    const char *end_;
    std::string &out_;
    RowHeaders *headers_out_;
    // Where the values of the headers' members the full parse reads start; null when absent.
    const char *shapes_ = nullptr, *lsn_ = nullptr, *op_position_ = nullptr, *txids_ = nullptr;
    const char *control_ = nullptr, *commit_time_ = nullptr;

    void skip_space()
    {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
            p_++;
    }

    // The whole text is one object (white space around it): its members, scanned.
    bool whole_object(std::vector<Member> &members)
    {
        skip_space();
        if (!scan_object(members, 0))
            return false;
        skip_space();
        return p_ == end_;
    }

    bool literal(std::string_view word)
    {
        if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
            return false;
        out_.append(p_, word.size());
        p_ += word.size();
        return true;
    }

    void append_key(std::string_view key)
    {
        out_ += '"';
        out_.append(key.data(), key.size());
        out_ += "\":";
    }

    // Writes {"key":value,...} of members in their (sorted) order, each value copied from its
    // text by copy_value with p_ at it.
    template <typename CopyValue>
    bool write_object(const std::vector<Member> &members, CopyValue copy_value)
    {
        out_ += '{';
        bool first = true;
        for (const Member &m : members) {
            if (!first)
                out_ += ',';
            first = false;
            append_key(m.key);
            p_ = m.value;
            if (!copy_value(m))
                return false;
        }
        out_ += '}';
        return true;
    }

    // A string at p_ (its opening quote), copied when its escapes are nlohmann's own; with
    // copy false only checked and skipped. keep_escapes false: no escape at all (a key).
    bool string(bool copy, bool allow_escapes)
    {
        const char *start = p_;
        p_++;
        while (p_ != end_) {
            unsigned char c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                p_++;
                if (copy)
                    out_.append(start, static_cast<size_t>(p_ - start));
                return true;
            }
            if (c < 0x20)
                return false;  // a raw control character: not JSON
            if (c == '\\') {
                if (!allow_escapes || p_ + 1 == end_)
                    return false;
                switch (p_[1]) {
                case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
                    p_ += 2;
                    continue;
                default:
                    return false;  // \u and \/ are decoded and written otherwise by nlohmann
                }
            }
            if (c < 0x80) {
                p_++;
                continue;
            }
            size_t n = json::utf8_sequence_length(std::string_view(p_, static_cast<size_t>(end_ - p_)));
            if (n == 0)
                return false;
            p_ += n;
        }
        return false;
    }

    // An integer as nlohmann writes it back: -?(0|[1-9][0-9]*), not "-0", at most 18 digits
    // (always an int64), and no fraction or exponent after it.
    bool number(bool copy)
    {
        const char *start = p_;
        bool negative = *p_ == '-';
        if (negative)
            p_++;
        const char *digits = p_;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9')
            p_++;
        size_t n = static_cast<size_t>(p_ - digits);
        if (n == 0 || n > 18 || (n > 1 && *digits == '0') || (negative && n == 1 && *digits == '0'))
            return false;
        if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E'))
            return false;
        if (copy)
            out_.append(start, static_cast<size_t>(p_ - start));
        return true;
    }

    // An object at p_: its members in text order, each value skipped (checked as far as the
    // fast path's forms go); p_ ends after its closing brace.
    bool scan_object(std::vector<Member> &members, int depth)
    {
        if (p_ == end_ || *p_ != '{' || depth > kMaxDepth)
            return false;
        p_++;
        skip_space();
        if (p_ != end_ && *p_ == '}') {
            p_++;
            return true;
        }
        members.reserve(16);  // a row's columns, in one allocation rather than five
        for (;;) {
            skip_space();
            if (p_ == end_ || *p_ != '"')
                return false;
            const char *key = p_ + 1;
            if (!string(false, false))
                return false;
            members.push_back({std::string_view(key, static_cast<size_t>(p_ - 1 - key)), nullptr});
            skip_space();
            if (p_ == end_ || *p_ != ':')
                return false;
            p_++;
            skip_space();
            members.back().value = p_;
            if (!skip(depth + 1))
                return false;
            skip_space();
            if (p_ == end_)
                return false;
            if (*p_ == '}') {
                p_++;
                break;
            }
            if (*p_ != ',')
                return false;
            p_++;
        }
        // nlohmann's order; a duplicate key (the last one wins there) takes the full parse, so
        // the keys that are copied are distinct and their order is the same from any sort
        // (std::sort: no buffer to allocate, unlike std::stable_sort).
        std::sort(members.begin(), members.end(), [](const Member &a, const Member &b) { return a.key < b.key; });
        for (size_t i = 1; i < members.size(); i++)
            if (members[i].key == members[i - 1].key)
                return false;
        return true;
    }

    // Skips the value at p_, checking it as value() would copy it.
    bool skip(int depth)
    {
        if (p_ == end_ || depth > kMaxDepth)
            return false;
        switch (*p_) {
        case '"':
            return string(false, true);
        case '{': {
            std::vector<Member> members;
            return scan_object(members, depth);
        }
        case '[':
            return array(false, depth);
        default:
            return scalar(false);
        }
    }

    bool scalar(bool copy)
    {
        switch (*p_) {
        case 't':
            return copy ? literal("true") : skip_literal("true");
        case 'f':
            return copy ? literal("false") : skip_literal("false");
        case 'n':
            return copy ? literal("null") : skip_literal("null");
        default:
            if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9'))
                return number(copy);
            return false;
        }
    }

    bool skip_literal(std::string_view word)
    {
        if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
            return false;
        p_ += word.size();
        return true;
    }

    bool array(bool copy, int depth)
    {
        if (depth > kMaxDepth)
            return false;
        p_++;  // '['
        if (copy)
            out_ += '[';
        skip_space();
        if (p_ != end_ && *p_ == ']') {
            p_++;
            if (copy)
                out_ += ']';
            return true;
        }
        for (;;) {
            skip_space();
            if (!(copy ? value(depth + 1) : skip(depth + 1)))
                return false;
            skip_space();
            if (p_ == end_)
                return false;
            if (*p_ == ']') {
                p_++;
                if (copy)
                    out_ += ']';
                return true;
            }
            if (*p_ != ',')
                return false;
            p_++;
            if (copy)
                out_ += ',';
        }
    }

    // Copies the value at p_ in nlohmann's form.
    bool value(int depth)
    {
        if (p_ == end_ || depth > kMaxDepth)
            return false;
        switch (*p_) {
        case '"':
            return string(true, true);
        case '[':
            return array(true, depth);
        case '{': {
            std::vector<Member> members;
            if (!scan_object(members, depth))
                return false;
            const char *after = p_;
            if (!write_object(members, [this, depth](const Member &) { return value(depth + 1); }))
                return false;
            p_ = after;
            return true;
        }
        default:
            return scalar(true);
        }
    }

    // Notes where the values of the headers' members the full parse reads start.
    void note_header_members(const std::vector<Member> &members)
    {
        for (const Member &m : members) {
            if (m.key == "control")
                control_ = m.value;
            else if (m.key == "shapes")
                shapes_ = m.value;
            else if (m.key == "lsn")
                lsn_ = m.value;
            else if (m.key == "op_position")
                op_position_ = m.value;
            else if (m.key == "txids")
                txids_ = m.value;
            else if (m.key == "commit_time")
                commit_time_ = m.value;
        }
    }

    // The top-level headers: an object, not a control message's, copied without "shapes".
    bool headers()
    {
        std::vector<Member> members;
        if (!scan_object(members, 1))
            return false;
        note_header_members(members);
        if (control_ != nullptr)
            return false;  // not a row
        members.erase(std::remove_if(members.begin(), members.end(), [](const Member &m) { return m.key == "shapes"; }),
                      members.end());
        return write_object(members, [this](const Member &) { return value(2); });
    }

    // The value at `at` when it is an unsigned integer (nlohmann's number_unsigned), else nothing.
    std::optional<uint64_t> unsigned_integer(const char *at)
    {
        if (at == end_ || *at < '0' || *at > '9')
            return std::nullopt;
        p_ = at;
        if (!number(false))
            return std::nullopt;
        return parse_decimal(std::string_view(at, static_cast<size_t>(p_ - at)));
    }

    // The string at `at` without its quotes when it has no escape; false when it has one.
    bool plain_string(const char *at, std::string_view &text)
    {
        p_ = at;
        if (!string(false, false))
            return false;
        text = std::string_view(at + 1, static_cast<size_t>(p_ - 1 - (at + 1)));
        return true;
    }

    // The header values the full parse reads from any message, from the members noted.
    bool read_header_values(RowHeaders &headers)
    {
        headers = RowHeaders{};
        if (shapes_ != nullptr && *shapes_ == '[') {
            p_ = shapes_ + 1;
            skip_space();
            if (p_ != end_ && *p_ == ']')
                p_++;
            else
                for (;;) {
                    skip_space();
                    std::string_view name;
                    if (p_ == end_ || *p_ != '"' || !plain_string(p_, name))
                        return false;  // a name that is not a string, or an escape to decode
                    headers.shapes.emplace_back(name);
                    skip_space();
                    if (p_ == end_ || *p_ == ']')
                        break;
                    p_++;  // ','
                }
        }
        if (lsn_ != nullptr) {
            if (*lsn_ == '"') {
                std::string_view text;
                if (!plain_string(lsn_, text))
                    return false;
                headers.lsn = parse_decimal(text).value_or(0);
            }
            else
                headers.lsn = unsigned_integer(lsn_).value_or(0);
        }
        if (op_position_ != nullptr)
            headers.op_position = unsigned_integer(op_position_).value_or(0);
        if (txids_ != nullptr && *txids_ == '[') {
            p_ = txids_ + 1;
            skip_space();
            headers.xid = unsigned_integer(p_).value_or(0);
        }
        return true;
    }
};

}  // namespace

bool read_message_headers(std::string_view text, MessageHeaders &headers)
{
    std::string unused;  // the scan copies nothing
    Copier copier(text.data(), text.data() + text.size(), unused, nullptr);
    return copier.message_headers(headers);
}

bool append_row_client_json(std::string &out, std::string_view text, RowHeaders *headers)
{
    size_t before = out.size();
    Copier copier(text.data(), text.data() + text.size(), out, headers);
    if (copier.row())
        return true;
    out.resize(before);
    return false;
}

}  // namespace es::sync
