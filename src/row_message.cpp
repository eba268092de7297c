// Row messages, shared by the stream and shape_snapshot (see row_message.hpp).
#include "electric_shapes/pure/control_messages.hpp"
#include "electric_shapes/row_message.hpp"

namespace es {

void open_row_message(Buffer &out, RowOperation operation, std::string_view relation_json,
                      const std::vector<const std::string *> &shapes)
{
    static const char *const names[] = {"delete", "insert", "update"};
    out.append("{\"headers\":{\"operation\":\"");
    out.append(names[static_cast<int>(operation)]);
    out.append("\",\"relation\":");
    out.append(relation_json);
    out.push_back(',');
    control::append_shapes(out, shapes);
}

void close_row_message(Buffer &out, RowEncoder &encoder, RowOperation operation,
                       const std::vector<AttrNumber> &projection, bool replica_full)
{
    out.append("},\"key\":");
    switch (operation) {
    case RowOperation::Delete:
        encoder.append_key(out, Row::Old);
        out.append(",\"value\":");
        encoder.append_object(out, Row::Old, projection, replica_full ? Columns::All : Columns::Key);
        break;
    case RowOperation::Insert:
        encoder.append_key(out, Row::New);
        out.append(",\"value\":");
        encoder.append_object(out, Row::New, projection, Columns::All);
        break;
    case RowOperation::Update:
        encoder.append_key(out, Row::New);
        out.append(",\"value\":");
        encoder.append_object(out, Row::New, projection,
                              replica_full ? Columns::All : Columns::KeyAndChanged);
        if (replica_full) {
            out.append(",\"old_value\":");
            encoder.append_object(out, Row::Old, projection, Columns::Changed);
        }
        break;
    }
    out.push_back('}');
}

}  // namespace es
