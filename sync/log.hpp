// One JSON object per line on stderr, filtered by LOG_LEVEL: what a log collector reads
// without a parser of its own.
#pragma once

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

// A JSON string literal of text, for fields.
std::string quote(const std::string &text);

}  // namespace es::sync::log
