// Unit tests of subset snapshot requests (sync/pure/subset_request.hpp): the subset__ parameters
// and the POST body as the client sends them, and the order parsed to quoted identifiers only.
#include "sync/pure/shape_request.hpp"
#include "sync/pure/subset_request.hpp"

#include <gtest/gtest.h>

namespace {

using namespace es::sync;

TEST(SyncSubset, QueryParametersAsTheClientSendsThem)
{
    auto outcome = parse_shape_request(
        "handle=h&log=changes_only&offset=0_inf&subset__limit=10&subset__offset=5&subset__order_by=%22created_at%22+DESC+NULLS+LAST%2C%22id%22"
        "&subset__params=%7B%221%22%3A%22x%22%7D&subset__where=%22grp%22+%3D+%241&table=items");
    ASSERT_TRUE(outcome.request) << outcome.field << " " << outcome.error;
    ASSERT_TRUE(outcome.request->subset);
    const SubsetRequest &s = *outcome.request->subset;
    EXPECT_EQ(*s.where, "\"grp\" = $1");
    EXPECT_EQ(s.params.at(1), "x");
    EXPECT_EQ(*s.limit, 10u);
    EXPECT_EQ(*s.offset, 5u);
    EXPECT_EQ(order_by_sql(s.order_by), "(r).\"created_at\" DESC NULLS LAST, (r).\"id\"");
    EXPECT_FALSE(parse_shape_request("offset=-1&table=items").request->subset);
}

TEST(SyncSubset, BadParametersNameTheField)
{
    auto field = [](const char *query) {
        auto o = parse_shape_request(std::string("offset=-1&table=items&") + query);
        return o.request ? std::string("ok") : o.field + ": " + o.error;
    };
    EXPECT_EQ(field("subset__limit=-1"), "subset: limit must be a non-negative integer");
    EXPECT_EQ(field("subset__params=%5B1%5D"),
              "subset: params must be a JSON object of positive integer keys and string values");
    EXPECT_EQ(field("subset__params=%7B%220%22%3A%22x%22%7D"),
              "subset: params must be a JSON object of positive integer keys and string values");
    EXPECT_EQ(field("subset__order_by=id%3B+DROP+TABLE+items"),
              "subset: order_by must be column names, each with ASC or DESC and NULLS FIRST or LAST");
}

TEST(SyncSubset, OrderByIsColumnsOnly)
{
    auto sql = [](const char *text) {
        auto order = parse_order_by(text);
        return order ? order_by_sql(*order) : std::string("refused");
    };
    EXPECT_EQ(sql("Id asc, \"Odd \"\"Name\"\"\" desc nulls first"), "(r).\"id\", (r).\"Odd \"\"Name\"\"\" DESC NULLS FIRST");
    for (const char *bad : {"", "id,", ",id", "id desc asc", "id nulls", "id nulls middle", "id + 1", "lower(id)",
                            "(select 1)", "\"unterminated", "1", "id -- x", "id collate \"C\"", "\"\""})
        EXPECT_EQ(sql(bad), "refused") << bad;
}

TEST(SyncSubset, PostBody)
{
    auto o = parse_subset_body(R"({"where":"\"id\" > $1","params":{"1":"5"},"limit":3,"order_by":"\"id\" DESC"})");
    ASSERT_TRUE(o.subset) << o.error;
    EXPECT_EQ(*o.subset->where, "\"id\" > $1");
    EXPECT_EQ(o.subset->params.at(1), "5");
    EXPECT_EQ(*o.subset->limit, 3u);
    EXPECT_FALSE(o.subset->offset);
    EXPECT_EQ(parse_subset_body("[]").field, "body");
    EXPECT_EQ(parse_subset_body(R"({"limit":-2})").field, "limit");
    EXPECT_EQ(parse_subset_body(R"({"where":5})").field, "where");
    EXPECT_EQ(parse_subset_body(R"({"params":{"1":2}})").field, "params");
}

}  // namespace
