// A transaction's begin and commit without a document (see control_json.hpp). The scan has
// already decided the header values with the full parse's semantics; what is left is the full
// parse's own reading of a control message: the kind by the name, and for a commit only, its
// commit_time when that is a string.
#include "sync/pure/control_json.hpp"

#include "sync/pure/commit_time.hpp"
#include "sync/pure/row_json.hpp"

namespace es::sync {

bool read_transaction_control(std::string_view text, StreamMessage &message)
{
    MessageHeaders headers;
    if (!read_message_headers(text, headers) || !headers.control)
        return false;
    message = StreamMessage{};
    if (*headers.control == "begin")
        message.kind = MessageKind::Begin;
    else if (*headers.control == "commit") {
        message.kind = MessageKind::Commit;
        if (headers.commit_time)
            message.commit_unix_us = commit_time_unix_us(*headers.commit_time);
    }
    else
        return false;  // the rare others: the full parse reads their own members
    message.shapes = std::move(headers.values.shapes);
    message.lsn = headers.values.lsn;
    message.op_position = headers.values.op_position;
    message.xid = headers.values.xid;
    return true;
}

}  // namespace es::sync
