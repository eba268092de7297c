// The exact form of the snapshot-end control message that ends shape_snapshot's rows.
#include <gtest/gtest.h>

#include "electric_shapes/pure/control_messages.hpp"

namespace {

TEST(SnapshotEnd, CarriesTheSnapshotAsDecimalStrings)
{
    es::Buffer out;
    es::control::append_snapshot_end(out, 4294967297ULL, 4294967301ULL, {4294967298ULL, 4294967300ULL},
                                     23405976);
    EXPECT_EQ(out.str(), "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"4294967297\","
                   "\"xmax\":\"4294967301\",\"xip_list\":[\"4294967298\",\"4294967300\"],"
                   "\"lsn\":\"23405976\"}}");
}

TEST(SnapshotEnd, EmptyXipListIsAnEmptyArray)
{
    es::Buffer out;
    out.push_back('x');
    es::control::append_snapshot_end(out, 740, 740, {}, 0);
    EXPECT_EQ(out.str(), "x{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"740\",\"xmax\":\"740\","
                   "\"xip_list\":[],\"lsn\":\"0\"}}");
}

}  // namespace
