// Fuzzes the sync service's readers of the plugin's messages: for any text, parse_stream_message
// (the fast paths for rows, begins and commits, then the full parse where they decline) gives
// exactly what the full nlohmann parse alone gives, every field; and whenever the row fast path
// copies a text, its bytes are the full parse's client message of that row. The fast paths must
// decline what they cannot read exactly, never read it differently.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "sync/pure/row_json.hpp"
#include "sync/pure/stream_message.hpp"

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace es::sync;
    std::string_view text(reinterpret_cast<const char *>(data), size);
    std::optional<StreamMessage> fast = parse_stream_message(text);
    std::optional<StreamMessage> full = parse_stream_message_full(text);
    check(fast.has_value() == full.has_value());
    if (fast) {
        check(fast->kind == full->kind);
        check(fast->shapes == full->shapes);
        check(fast->lsn == full->lsn);
        check(fast->op_position == full->op_position);
        check(fast->xid == full->xid);
        check(fast->client_json == full->client_json);
        check(fast->commit_unix_us == full->commit_unix_us);
        check(fast->xmin == full->xmin);
        check(fast->xmax == full->xmax);
        check(fast->xip == full->xip);
    }
    std::string copied = "prefix";
    if (append_row_client_json(copied, text)) {
        check(full && full->kind == MessageKind::Row);
        check(copied == "prefix" + full->client_json);
    } else {
        check(copied == "prefix");  // declined: nothing written
    }
    return 0;
}
