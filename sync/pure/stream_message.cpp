// Parsing the plugin's messages (see stream_message.hpp).
#include "sync/pure/stream_message.hpp"

#include <nlohmann/json.hpp>

#include "sync/pure/commit_time.hpp"
#include "sync/pure/control_json.hpp"
#include "sync/pure/log_offset.hpp"
#include "sync/pure/row_json.hpp"

namespace es::sync {

namespace {

std::optional<uint64_t> decimal_string(const nlohmann::json &value)
{
    if (value.is_number_unsigned())
        return value.get<uint64_t>();
    if (!value.is_string())
        return std::nullopt;
    return parse_decimal(value.get_ref<const std::string &>());
}

}  // namespace

std::optional<StreamMessage> parse_stream_message(std::string_view text)
{
    // The plugin writes every control message beginning so (control_messages.hpp): they are
    // tried as a begin or commit (one of each per transaction), the rare others declined there.
    // Any other text is tried as a row. Each fast path declines whatever it cannot read exactly
    // as the full parse does (control messages in another order are declined as rows).
    constexpr std::string_view kControl = "{\"headers\":{\"control\":";
    if (text.substr(0, kControl.size()) == kControl) {
        StreamMessage message;
        if (read_transaction_control(text, message))
            return message;
    }
    else {
        StreamMessage message;
        RowHeaders headers;
        message.client_json.reserve(text.size());  // the copy is never longer than the text
        if (append_row_client_json(message.client_json, text, &headers)) {
            message.kind = MessageKind::Row;
            message.shapes = std::move(headers.shapes);
            message.lsn = headers.lsn;
            message.op_position = headers.op_position;
            message.xid = headers.xid;
            return message;
        }
    }
    return parse_stream_message_full(text);
}

std::optional<StreamMessage> parse_stream_message_full(std::string_view text)
{
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return std::nullopt;
    auto headers_it = doc.find("headers");
    if (headers_it == doc.end() || !headers_it->is_object())
        return std::nullopt;
    nlohmann::json &headers = *headers_it;
    StreamMessage message;
    if (auto it = headers.find("shapes"); it != headers.end() && it->is_array())
        for (const auto &name : *it)
            if (name.is_string())
                message.shapes.push_back(name.get<std::string>());
    if (auto it = headers.find("lsn"); it != headers.end())
        message.lsn = decimal_string(*it).value_or(0);
    if (auto it = headers.find("op_position"); it != headers.end() && it->is_number_unsigned())
        message.op_position = it->get<uint64_t>();
    if (auto it = headers.find("txids"); it != headers.end() && it->is_array() && !it->empty() &&
                                         (*it)[0].is_number_unsigned())
        message.xid = (*it)[0].get<uint64_t>();
    auto control = headers.find("control");
    if (control != headers.end()) {
        std::string name = control->is_string() ? control->get<std::string>() : "";
        if (name == "begin")
            message.kind = MessageKind::Begin;
        else if (name == "commit") {
            message.kind = MessageKind::Commit;
            if (auto it = headers.find("commit_time"); it != headers.end() && it->is_string())
                message.commit_unix_us = commit_time_unix_us(it->get_ref<const std::string &>());
        }
        else if (name == "must-refetch")
            message.kind = MessageKind::MustRefetch;
        else if (name == "shape-dropped")
            message.kind = MessageKind::ShapeDropped;
        else if (name == "snapshot-end") {
            message.kind = MessageKind::SnapshotEnd;
            auto xmin = headers.contains("xmin") ? decimal_string(headers["xmin"]) : std::nullopt;
            auto xmax = headers.contains("xmax") ? decimal_string(headers["xmax"]) : std::nullopt;
            if (!xmin || !xmax)
                return std::nullopt;
            message.xmin = *xmin;
            message.xmax = *xmax;
            if (auto it = headers.find("xip_list"); it != headers.end() && it->is_array())
                for (const auto &x : *it)
                    if (auto v = decimal_string(x))
                        message.xip.push_back(*v);
        }
        return message;
    }
    if (!doc.contains("key"))
        return std::nullopt;
    message.kind = MessageKind::Row;
    headers.erase("shapes");
    message.client_json = doc.dump();
    return message;
}

bool visible_in_snapshot(const SnapshotBounds &snapshot, uint64_t xid32)
{
    // A transaction the stream sends is within 2^31 of the snapshot's xmax (wraparound
    // protection guarantees it), so the signed 32-bit distance places it.
    int32_t distance = static_cast<int32_t>(static_cast<uint32_t>(xid32) - static_cast<uint32_t>(snapshot.xmax));
    uint64_t full = snapshot.xmax + static_cast<uint64_t>(static_cast<int64_t>(distance));
    if (full < snapshot.xmin)
        return true;
    if (full >= snapshot.xmax)
        return false;
    return snapshot.xip.count(full) == 0;
}

std::string up_to_date_message(uint64_t global_last_seen_lsn)
{
    return "{\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\"" +
           std::to_string(global_last_seen_lsn) + "\"}}";
}

std::string must_refetch_message() { return "{\"headers\":{\"control\":\"must-refetch\"}}"; }

std::string snapshot_end_message(const SnapshotBounds &snapshot)
{
    std::string out = "{\"headers\":{\"control\":\"snapshot-end\",\"xmin\":\"" + std::to_string(snapshot.xmin) +
                      "\",\"xmax\":\"" + std::to_string(snapshot.xmax) + "\",\"xip_list\":[";
    bool first = true;
    for (uint64_t x : snapshot.xip) {
        if (!first)
            out += ',';
        first = false;
        out += "\"" + std::to_string(x) + "\"";
    }
    out += "]}}";
    return out;
}

}  // namespace es::sync
