// One JSON object per line on stderr, filtered by LOG_LEVEL: what a log collector reads
// without a parser of its own.
#pragma once

#include <functional>
#include <string>

#include "sync/pure/config.hpp"

namespace es::sync::log {

void set_level(LogLevel level);
bool enabled(LogLevel level);
// message is plain text; fields is a JSON object body without braces ("\"a\":1") or empty.
void write(LogLevel level, const std::string &message, const std::string &fields = {});

inline void debug(const std::string &m, const std::string &f = {}) { write(LogLevel::Debug, m, f); }
inline void info(const std::string &m, const std::string &f = {}) { write(LogLevel::Info, m, f); }
inline void warning(const std::string &m, const std::string &f = {}) { write(LogLevel::Warning, m, f); }
inline void error(const std::string &m, const std::string &f = {}) { write(LogLevel::Error, m, f); }

// While batching is set, info and debug lines are gathered and written together when the
// scheduled flush runs (the service posts it to its event loop: the request lines of a thousand
// responses sent in one turn become one write instead of a thousand). Warnings and errors are
// written at once, after what was gathered, and so is anything past 64 kB. Setting it to
// nothing writes what is pending. A service killed outright loses the lines of its last turn.
void set_batching(std::function<void()> schedule_flush);
void flush();

// Batching for a scope (the event loop's lifetime).
class Batching {
public:
    explicit Batching(std::function<void()> schedule_flush) { set_batching(std::move(schedule_flush)); }
    ~Batching() { set_batching(nullptr); }
    Batching(const Batching &) = delete;
    Batching &operator=(const Batching &) = delete;
};

// A JSON string literal of text, for fields.
std::string quote(const std::string &text);

}  // namespace es::sync::log
