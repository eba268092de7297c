// Control messages of the stream (see control_messages.hpp).
#include "electric_shapes/pure/control_messages.hpp"

#include <cstdio>
#include <ctime>

#include "electric_shapes/pure/json_writer.hpp"

namespace es::control {

void append_lsn(Buffer &out, uint64_t lsn)
{
    out.append("\"lsn\":\"");
    json::append_uint(out, lsn);
    out.push_back('"');
}

void append_txids(Buffer &out, uint64_t txid)
{
    out.append("\"txids\":[");
    json::append_uint(out, txid);
    out.push_back(']');
}

void append_shapes(Buffer &out, const std::vector<const std::string *> &shapes)
{
    out.append("\"shapes\":[");
    for (size_t i = 0; i < shapes.size(); i++) {
        if (i)
            out.push_back(',');
        json::append_string(out, *shapes[i]);
    }
    out.push_back(']');
}

void append_begin(Buffer &out, uint64_t lsn, uint64_t txid)
{
    out.append("{\"headers\":{\"control\":\"begin\",");
    append_lsn(out, lsn);
    out.push_back(',');
    append_txids(out, txid);
    out.append("}}");
}

void append_commit(Buffer &out, uint64_t lsn, uint64_t txid, const std::string &commit_time)
{
    out.append("{\"headers\":{\"control\":\"commit\",");
    append_lsn(out, lsn);
    out.push_back(',');
    append_txids(out, txid);
    out.append(",\"commit_time\":");
    json::append_string(out, commit_time);
    out.append("}}");
}

void append_must_refetch(Buffer &out, const std::vector<const std::string *> &shapes,
                         std::string_view relation_json, const char *reason, uint64_t lsn,
                         uint64_t op_position)
{
    out.append("{\"headers\":{\"control\":\"must-refetch\",");
    append_shapes(out, shapes);
    out.append(",\"relation\":");
    out.append(relation_json);
    out.append(",\"reason\":");
    json::append_string(out, reason);
    out.push_back(',');
    append_lsn(out, lsn);
    out.append(",\"op_position\":");
    json::append_uint(out, op_position);
    out.append("}}");
}

void append_lifecycle(Buffer &out, bool added, const std::string &shape, uint64_t lsn,
                      uint64_t op_position)
{
    out.append(added ? "{\"headers\":{\"control\":\"shape-added\","
                     : "{\"headers\":{\"control\":\"shape-dropped\",");
    append_shapes(out, {&shape});
    out.push_back(',');
    append_lsn(out, lsn);
    out.append(",\"op_position\":");
    json::append_uint(out, op_position);
    out.append("}}");
}

void append_snapshot_end(Buffer &out, uint64_t xmin, uint64_t xmax,
                         const std::vector<uint64_t> &xip, uint64_t lsn)
{
    out.append("{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"");
    json::append_uint(out, xmin);
    out.append("\",\"xmax\":\"");
    json::append_uint(out, xmax);
    out.append("\",\"xip_list\":[");
    for (size_t i = 0; i < xip.size(); i++) {
        if (i)
            out.push_back(',');
        out.push_back('"');
        json::append_uint(out, xip[i]);
        out.push_back('"');
    }
    out.append("],");
    append_lsn(out, lsn);
    out.append("}}");
}

std::string iso8601_utc(int64_t postgres_microseconds)
{
    // PostgreSQL counts from 2000-01-01; Unix from 1970-01-01: 10957 days apart.
    constexpr int64_t kEpochShiftSeconds = 10957LL * 86400;
    int64_t seconds = postgres_microseconds / 1000000;
    int64_t micros = postgres_microseconds % 1000000;
    if (micros < 0) {
        micros += 1000000;
        seconds -= 1;
    }
    time_t unix_seconds = static_cast<time_t>(seconds + kEpochShiftSeconds);
    struct tm tm;
    gmtime_r(&unix_seconds, &tm);
    char buffer[64];
    snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             static_cast<long long>(micros));
    return buffer;
}

}  // namespace es::control
