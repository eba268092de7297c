// A user-facing error raised by C++ code: SQLSTATE, message naming the offending input, and a
// hint where a fix exists. The boundary (pg_boundary.hpp) turns it into a PostgreSQL error.
#pragma once

#include <stdexcept>
#include <string>

namespace es {

struct UserError : std::runtime_error {
    std::string sqlstate;  // five characters, e.g. "22023"
    std::string detail;
    std::string hint;

    UserError(std::string sqlstate_, const std::string &message, std::string hint_ = {},
              std::string detail_ = {})
        : std::runtime_error(message), sqlstate(std::move(sqlstate_)), detail(std::move(detail_)),
          hint(std::move(hint_))
    {
    }
};

}  // namespace es
