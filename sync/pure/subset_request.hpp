// A subset snapshot request (Electric's subset__* parameters, or the JSON body of a POST), as the
// client's requestSnapshot/fetchSnapshot sends it and TanStack DB's on-demand sync uses it: a
// where clause with its own $n parameters, an order, a limit and an offset over the shape's rows.
// The where clause is checked by PostgreSQL and electric_shapes like a shape's (the service never
// trusts it); the order is parsed here, to column names with directions, so no client text
// reaches SQL but as a quoted identifier.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace es::sync {

struct OrderItem {
    std::string column;  // as PostgreSQL folds it
    bool descending = false;
    enum class Nulls { Default, First, Last } nulls = Nulls::Default;
};

struct SubsetRequest {
    std::optional<std::string> where;
    std::map<unsigned, std::string> params;
    std::optional<uint64_t> limit, offset;
    std::vector<OrderItem> order_by;
};

struct SubsetOutcome {
    std::optional<SubsetRequest> subset;
    std::string field;  // where, params, limit, offset or order_by
    std::string error;
};

// "col [ASC|DESC] [NULLS FIRST|LAST], ..." with bare (folded to lower case) or double-quoted
// column names, as TanStack DB compiles an orderBy; nothing for anything else.
std::optional<std::vector<OrderItem>> parse_order_by(std::string_view text);

// From the query string's subset__where, subset__params (a JSON object {"1":"value"}),
// subset__limit, subset__offset and subset__order_by (other subset__ keys, the *_expr forms of
// the same clauses, are ignored). Nothing when there is no subset__ parameter.
std::optional<SubsetOutcome> parse_subset_query(const std::vector<std::pair<std::string, std::string>> &pairs);

// From a POST body {"where", "params", "limit", "offset", "order_by"}.
SubsetOutcome parse_subset_body(std::string_view body);

// The ORDER BY list over the row alias r: (r)."col" DESC NULLS LAST, ...; empty when no order.
std::string order_by_sql(const std::vector<OrderItem> &order_by);

}  // namespace es::sync
