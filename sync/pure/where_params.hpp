// Binding a shape's params[n] into its where clause. electric_shapes refuses parameters in a
// where clause ($1) because the plugin evaluates it with no values to hand, so the service
// replaces each $n by the value as a SQL string literal. An unadorned literal has type unknown,
// and PostgreSQL types it from its context as it would a parameter ("id > '5'" compares ids),
// so the value is bound as a typed literal without the service guessing types; and since it is
// a literal, PostgreSQL still parses and checks the whole clause.
//
// $n is replaced only where the SQL lexer would see a parameter: not inside string literals
// ('...', E'...', $tag$...$tag$), quoted identifiers or comments.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace es::sync {

struct BoundWhere {
    std::string sql;    // the clause with every $n replaced
    std::string error;  // not empty when a $n has no value or the clause cannot be lexed
};

// params: n => value. Values are quoted with doubled quotes (standard_conforming_strings is on
// in every supported server); a value holding a NUL byte is refused.
BoundWhere bind_where_params(std::string_view where, const std::map<unsigned, std::string> &params);

// The SQL string literal of value: 'value' with quotes doubled.
std::string sql_literal(std::string_view value);

}  // namespace es::sync
