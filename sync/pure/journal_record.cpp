// Journal records (see journal_record.hpp).
#include "sync/pure/journal_record.hpp"

#include <array>

namespace es::sync {

namespace {

constexpr char kMagic[4] = {'E', 'S', 'J', '1'};
constexpr size_t kHeader = 4 + 4 + 4 + 8 + 4;  // magic, crc, name length, position, data length
// A shape's directory name is its handle; anything longer is not a record this service wrote.
constexpr uint32_t kMaxName = 256;

std::array<uint32_t, 256> crc_table()
{
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}

void put32(std::string &out, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put64(std::string &out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get(std::string_view bytes, size_t at, int size)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++)
        v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    return v;
}

}  // namespace

uint32_t crc32(std::string_view bytes, uint32_t crc)
{
    static const std::array<uint32_t, 256> table = crc_table();
    crc = ~crc;
    for (char ch : bytes)
        crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
    return ~crc;
}

void append_journal_record(std::string &out, std::string_view name, uint64_t position, std::string_view data)
{
    size_t start = out.size();
    out.append(kMagic, 4);
    put32(out, 0);  // the checksum, once the rest is written
    put32(out, static_cast<uint32_t>(name.size()));
    put64(out, position);
    put32(out, static_cast<uint32_t>(data.size()));
    out.append(name.data(), name.size());
    out.append(data.data(), data.size());
    uint32_t crc = crc32(std::string_view(out).substr(start + 8));
    for (int i = 0; i < 4; i++)
        out[start + 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

std::vector<JournalRecord> read_journal_records(std::string_view bytes, size_t &whole)
{
    std::vector<JournalRecord> records;
    size_t at = 0;
    while (bytes.size() - at >= kHeader && bytes.substr(at, 4) == std::string_view(kMagic, 4)) {
        uint32_t crc = static_cast<uint32_t>(get(bytes, at + 4, 4));
        uint32_t name_length = static_cast<uint32_t>(get(bytes, at + 8, 4));
        uint64_t position = get(bytes, at + 12, 8);
        uint32_t data_length = static_cast<uint32_t>(get(bytes, at + 20, 4));
        if (name_length == 0 || name_length > kMaxName ||
            bytes.size() - at - kHeader < static_cast<uint64_t>(name_length) + data_length)
            break;
        size_t end = at + kHeader + name_length + data_length;
        if (crc32(bytes.substr(at + 8, end - at - 8)) != crc)
            break;
        JournalRecord record;
        record.name = std::string(bytes.substr(at + kHeader, name_length));
        record.position = position;
        record.data = std::string(bytes.substr(at + kHeader + name_length, data_length));
        records.push_back(std::move(record));
        at = end;
    }
    whole = at;
    return records;
}

}  // namespace es::sync
