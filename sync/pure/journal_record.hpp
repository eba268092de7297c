// The records of the service's journal (sync/journal.hpp): what a shape log gained in one fsync
// round, written to one file that is fdatasynced once per round instead of once per shape log.
// A record is
//   "ESJ1" | crc32 (of everything after it) | u32 name length | u64 position | u32 data length
//   | name | data                                            (integers little-endian)
// where name is the shape's directory name and data the bytes of its log.jsonl at position.
// A crash can leave the journal's last record torn or its blocks unwritten: reading stops at the
// first record that is incomplete or whose checksum does not match, and everything before it is
// whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace es::sync {

// CRC-32 (IEEE 802.3, the one zlib and PNG use) of bytes, continuing from crc (0 to start).
uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

struct JournalRecord {
    std::string name;      // the shape's directory under shapes/
    uint64_t position = 0; // where data goes in that directory's log.jsonl
    std::string data;
};

// Appends the record of data at position in name's log to out.
void append_journal_record(std::string &out, std::string_view name, uint64_t position, std::string_view data);

// The whole records at the start of bytes, up to the first incomplete or damaged one; whole
// is set to how many bytes they take.
std::vector<JournalRecord> read_journal_records(std::string_view bytes, size_t &whole);

}  // namespace es::sync
