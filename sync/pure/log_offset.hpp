// Offsets in a shape log, in Electric's text forms: "-1" (before everything), "<tx>_<op>" and
// "<tx>_inf". The snapshot part of a log sits at tx 0 ("0_inf" is its end); a stream message
// sits at (commit LSN, op_position) of the plugin, which strictly increases through the slot,
// so the offsets of a log increase and a replayed message is recognised by its offset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace es::sync {

struct LogOffset {
    static constexpr uint64_t kInf = UINT64_MAX;

    bool before_all = false;  // "-1"
    uint64_t tx = 0;
    uint64_t op = 0;  // kInf for "<tx>_inf"

    static LogOffset before_everything() { return LogOffset{true, 0, 0}; }
    static LogOffset snapshot_end() { return LogOffset{false, 0, kInf}; }
    static LogOffset at(uint64_t tx, uint64_t op) { return LogOffset{false, tx, op}; }

    std::string str() const;
    bool operator<(const LogOffset &o) const;
    bool operator==(const LogOffset &o) const
    {
        return before_all == o.before_all && tx == o.tx && op == o.op;
    }
    bool operator<=(const LogOffset &o) const { return *this < o || *this == o; }
};

// Parses an offset a client sent: "-1", "<tx>_<op>" or "<tx>_inf" with decimal numbers that
// fit 64 bits (op below kInf). "now" and anything else: nothing.
std::optional<LogOffset> parse_log_offset(std::string_view text);

// A decimal number of ASCII digits only (no sign, no space) that fits 64 bits, or nothing. Every
// number the service reads from a client, a setting or the stream is read with it.
std::optional<uint64_t> parse_decimal(std::string_view text);

}  // namespace es::sync
