// params[n] binding (see where_params.hpp). A small lexer that knows just enough of PostgreSQL's
// lexical rules (scan.l) to tell a parameter from the same characters inside a literal, a
// quoted identifier or a comment.
#include "sync/pure/where_params.hpp"

#include <cctype>

namespace es::sync {

namespace {

bool ident_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// Moves i past the rest of a quoted token whose opening quote is already passed: a doubled quote
// stands for itself, and with backslashes (E'...') a backslash escapes the next byte. False when
// the text ends first.
bool skip_quoted(std::string_view text, size_t &i, char quote, bool backslashes)
{
    size_t n = text.size();
    while (i < n) {
        if (backslashes && text[i] == '\\' && i + 1 < n) {
            i += 2;
        } else if (text[i] == quote) {
            if (i + 1 < n && text[i + 1] == quote) {
                i += 2;
            } else {
                i++;
                return true;
            }
        } else {
            i++;
        }
    }
    return false;
}

}  // namespace

std::string sql_literal(std::string_view value)
{
    std::string out = "'";
    for (char c : value) {
        if (c == '\'')
            out += "''";
        else
            out += c;
    }
    out += '\'';
    return out;
}

BoundWhere bind_where_params(std::string_view where, const std::map<unsigned, std::string> &params)
{
    BoundWhere result;
    std::string &out = result.sql;
    size_t i = 0, n = where.size();
    while (i < n) {
        char c = where[i];
        // '...' and E'...': copied through, with '' inside and, for E'', backslash escapes.
        if (c == '\'' || ((c == 'e' || c == 'E') && i + 1 < n && where[i + 1] == '\'' &&
                          (i == 0 || !ident_char(where[i - 1])))) {
            bool backslashes = c != '\'';
            size_t start = i;
            i += backslashes ? 2 : 1;
            if (!skip_quoted(where, i, '\'', backslashes)) {
                result.error = "unterminated quoted string in where clause";
                return result;
            }
            out.append(where.substr(start, i - start));
            continue;
        }
        if (c == '"') {
            size_t start = i++;
            if (!skip_quoted(where, i, '"', false)) {
                result.error = "unterminated quoted identifier in where clause";
                return result;
            }
            out.append(where.substr(start, i - start));
            continue;
        }
        if (c == '-' && i + 1 < n && where[i + 1] == '-') {
            size_t end = where.find('\n', i);
            end = end == std::string_view::npos ? n : end;
            out.append(where.substr(i, end - i));
            i = end;
            continue;
        }
        if (c == '/' && i + 1 < n && where[i + 1] == '*') {
            // Comments nest in PostgreSQL.
            size_t start = i;
            int depth = 0;
            while (i < n) {
                if (where[i] == '/' && i + 1 < n && where[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (where[i] == '*' && i + 1 < n && where[i + 1] == '/') {
                    depth--;
                    i += 2;
                    if (depth == 0)
                        break;
                } else {
                    i++;
                }
            }
            if (depth != 0) {
                result.error = "unterminated /* comment in where clause";
                return result;
            }
            out.append(where.substr(start, i - start));
            continue;
        }
        if (c == '$') {
            bool after_ident = i > 0 && ident_char(where[i - 1]);
            size_t j = i + 1;
            while (j < n && std::isdigit(static_cast<unsigned char>(where[j])))
                j++;
            if (j > i + 1 && !after_ident) {
                std::string digits(where.substr(i + 1, j - i - 1));
                unsigned number = digits.size() > 6 ? 0 : static_cast<unsigned>(std::stoul(digits));
                auto it = params.find(number);
                if (it == params.end()) {
                    result.error = "parameter $" + digits + " has no value: give params[" + digits + "]";
                    return result;
                }
                if (it->second.find('\0') != std::string::npos) {
                    result.error = "params[" + digits + "] holds a NUL byte";
                    return result;
                }
                out += sql_literal(it->second);
                i = j;
                continue;
            }
            if (!after_ident) {
                // $tag$ ... $tag$ (tag may be empty): a dollar-quoted string.
                size_t k = i + 1;
                while (k < n && where[k] != '$' && ident_char(where[k]) &&
                       !(k == i + 1 && std::isdigit(static_cast<unsigned char>(where[k]))))
                    k++;
                if (k < n && where[k] == '$') {
                    std::string_view tag = where.substr(i, k - i + 1);
                    size_t end = where.find(tag, k + 1);
                    if (end == std::string_view::npos) {
                        result.error = "unterminated dollar-quoted string in where clause";
                        return result;
                    }
                    end += tag.size();
                    out.append(where.substr(i, end - i));
                    i = end;
                    continue;
                }
            }
        }
        out += c;
        i++;
    }
    return result;
}

}  // namespace es::sync
