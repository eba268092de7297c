// Unit tests of the sync service's journal records (sync/pure/journal_record.hpp): what a crash
// leaves of them is read back whole or not at all.
#include "sync/pure/journal_record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using es::sync::append_journal_record;
using es::sync::crc32;
using es::sync::read_journal_records;

TEST(SyncJournalRecord, Crc32IsTheIeeeOne)
{
    EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the standard check value
    EXPECT_EQ(crc32(""), 0u);
    EXPECT_EQ(crc32("56789", crc32("1234")), 0xCBF43926u);  // continued
}

TEST(SyncJournalRecord, RecordsReadBackAsWritten)
{
    std::string bytes;
    append_journal_record(bytes, "123-456", 0, "{\"a\":1}\n");
    append_journal_record(bytes, "789-1", 1234567890123ULL, std::string("x\0y\n", 4));
    append_journal_record(bytes, "123-456", 8, "");
    size_t whole = 0;
    auto records = read_journal_records(bytes, whole);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(whole, bytes.size());
    EXPECT_EQ(records[0].name, "123-456");
    EXPECT_EQ(records[0].position, 0u);
    EXPECT_EQ(records[0].data, "{\"a\":1}\n");
    EXPECT_EQ(records[1].name, "789-1");
    EXPECT_EQ(records[1].position, 1234567890123ULL);
    EXPECT_EQ(records[1].data, std::string("x\0y\n", 4));
    EXPECT_EQ(records[2].data, "");
}

// A crash cuts the journal anywhere: every cut gives exactly the records wholly before it.
TEST(SyncJournalRecord, ATornTailIsNotARecord)
{
    std::string bytes;
    std::vector<size_t> ends;
    for (int i = 0; i < 4; i++) {
        append_journal_record(bytes, "h-" + std::to_string(i), static_cast<uint64_t>(i) * 10,
                              std::string(static_cast<size_t>(i) * 7 + 1, 'a' + i));
        ends.push_back(bytes.size());
    }
    for (size_t cut = 0; cut <= bytes.size(); cut++) {
        size_t expected = 0;
        while (expected < ends.size() && ends[expected] <= cut)
            expected++;
        size_t whole = 0;
        auto records = read_journal_records(std::string_view(bytes).substr(0, cut), whole);
        ASSERT_EQ(records.size(), expected) << "cut at " << cut;
        EXPECT_EQ(whole, expected ? ends[expected - 1] : 0) << "cut at " << cut;
    }
}

// Blocks a crash left unwritten (zeros) or damaged: reading stops at the damaged record.
TEST(SyncJournalRecord, DamageEndsTheRecords)
{
    std::string bytes;
    append_journal_record(bytes, "a-1", 0, "first\n");
    size_t first = bytes.size();
    append_journal_record(bytes, "a-1", 6, "second\n");
    size_t second = bytes.size();
    append_journal_record(bytes, "a-1", 13, "third\n");
    for (size_t at = first; at < bytes.size(); at++) {
        std::string damaged = bytes;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
        size_t whole = 0;
        auto records = read_journal_records(damaged, whole);
        ASSERT_GE(records.size(), 1u) << "damage at " << at;
        EXPECT_EQ(records[0].data, "first\n");
        // The damaged record and everything after it are not read.
        EXPECT_EQ(records.size(), at < second ? 1u : 2u) << "damage at " << at;
        EXPECT_EQ(whole, at < second ? first : second) << "damage at " << at;
    }
    std::string zeros = bytes.substr(0, first) + std::string(bytes.size() - first, '\0');
    size_t whole = 0;
    EXPECT_EQ(read_journal_records(zeros, whole).size(), 1u);
    EXPECT_EQ(whole, first);
}

}  // namespace
