// Key and value encoding of shape messages (see row_encoder.hpp). Text mode writes every value
// as PostgreSQL prints it, as a JSON string; json mode writes booleans, finite numbers and JSON
// documents natively.
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/pure/shape_key.hpp"
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/row_encoder.hpp"

extern "C" {
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/timestamp.h"
}

namespace es {

RowEncoder::RowEncoder(ValuesMode mode) : mode_(mode), encoding_(utf8::database_encoding()) {}

void RowEncoder::start(const RelationInfo *info, TupleTableSlot *old_row, TupleTableSlot *new_row)
{
    info_ = info;
    rows_[0] = old_row;
    rows_[1] = new_row;
    if (any_unknown_) {
        std::fill(unknown_.begin(), unknown_.end(), 0);
        any_unknown_ = false;
    }
    // timestamptz values are written here only as timestamptz_out would print them now. (The
    // zone is looked up here, not when the encoder is made: that may be in a C++ expression.)
    if (!utc_known_) {
        utc_ = pg_tzset("UTC");
        utc_known_ = true;
    }
    utc_iso_ = utc_ != nullptr && session_timezone == utc_ && DateStyle == USE_ISO_DATES;
    size_t natts = info->columns.size();
    if (texts_[0].size() < natts) {
        for (int i = 0; i < 2; i++) {
            texts_[i].resize(natts);
            text_stamps_[i].resize(natts, 0);
            digits_[i].resize(natts);
        }
        changed_.resize(natts);
        changed_stamps_.resize(natts, 0);
        unknown_.resize(natts, 0);
    }
    change_++;
}

bool RowEncoder::misses_values(const std::vector<AttrNumber> &projection) const
{
    for (AttrNumber attnum : projection) {
        if (unknown(attnum))
            return true;
    }
    return false;
}

RowEncoder::Text RowEncoder::produce_text(int r, int i)
{
    TupleTableSlot *slot = rows_[r];
    if (slot->tts_isnull[i])
        return {nullptr, 0, true};
    Datum value = slot->tts_values[i];
    char *digits = digits_[r][i].data();
    const ColumnInfo &column = info_->columns[i];
    switch (column.format) {
    case TextFormat::Text: {
        // Detoasted (when compressed) in the change's memory context.
        varlena *t = PG_DETOAST_DATUM_PACKED(value);
        return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false};
    }
    case TextFormat::Bool:
        return {DatumGetBool(value) ? "t" : "f", 1, true};
    case TextFormat::Int2:
        return {digits, format::signed_integer(DatumGetInt16(value), digits), true};
    case TextFormat::Int4:
        return {digits, format::signed_integer(DatumGetInt32(value), digits), true};
    case TextFormat::Int8:
        return {digits, format::signed_integer(DatumGetInt64(value), digits), true};
    case TextFormat::Oid:
        return {digits, format::unsigned_integer(DatumGetObjectId(value), digits), true};
    case TextFormat::Timestamp:
    case TextFormat::TimestampTz: {
        bool with_zone = column.format == TextFormat::TimestampTz;
        if (DateStyle != USE_ISO_DATES || (with_zone && !utc_iso_))
            break;
        size_t size = format::iso_timestamp(DatumGetTimestamp(value), with_zone, digits);
        if (size > 0)
            return {digits, size, true};
        break;  // infinities and BC dates: as the output function prints them
    }
    case TextFormat::OutputFunction:
        break;
    }
    const char *printed = OutputFunctionCall(const_cast<FmgrInfo *>(&column.output), value);
    if (encoding_ == utf8::Encoding::Other)  // never taken in UTF8 databases
        printed = utf8::to_utf8(printed, encoding_);
    return {printed, strlen(printed), false};
}

bool RowEncoder::changed(AttrNumber attnum)
{
    int i = attnum - 1;
    if (changed_stamps_[i] != change_) {
        TupleTableSlot *old_row = rows_[0], *new_row = rows_[1];
        bool result;
        if (!old_row || !new_row) {
            result = true;
        } else if (old_row->tts_isnull[i] || new_row->tts_isnull[i]) {
            result = old_row->tts_isnull[i] != new_row->tts_isnull[i];
        } else {
            Form_pg_attribute attr = TupleDescAttr(info_->desc, i);
            if (datumIsEqual(old_row->tts_values[i], new_row->tts_values[i], attr->attbyval, attr->attlen)) {
                result = false;
            } else {
                const Text &before = text(Row::Old, attnum);
                const Text &after = text(Row::New, attnum);
                result = before.size != after.size || memcmp(before.data, after.data, before.size) != 0;
            }
        }
        changed_[i] = result;
        changed_stamps_[i] = change_;
    }
    return changed_[i];
}

bool RowEncoder::key_changed()
{
    if (!rows_[0] || !rows_[1])
        return false;
    for (AttrNumber key : info_->key_columns) {
        if (changed(key))
            return true;
    }
    return false;
}

void RowEncoder::append_key(Buffer &out, Row row)
{
    if (encoding_ == utf8::Encoding::SqlAscii) {
        // Bytes that are not UTF-8 are repaired over the whole key (text_encoding.hpp).
        key_scratch_.clear();
        key_scratch_.append(info_->key_prefix);
        for (AttrNumber key : info_->key_columns) {
            const Text &value = text(row, key);
            key::append_part(key_scratch_, std::string_view(value.data ? value.data : "", value.size),
                             value.data == nullptr);
        }
        utf8::append_json_string(out, key_scratch_.view(), encoding_);
        return;
    }
    out.push_back('"');
    out.append(info_->key_prefix_json.view());
    for (AttrNumber key : info_->key_columns) {
        const Text &value = text(row, key);
        key::append_escaped_part(out, std::string_view(value.data ? value.data : "", value.size),
                                 value.data == nullptr);
    }
    out.push_back('"');
}

void RowEncoder::append_value(Buffer &out, const ColumnInfo &column, const Text &value)
{
    if (value.data == nullptr) {
        out.append("null");
        return;
    }
    std::string_view view(value.data, value.size);
    if (mode_ == ValuesMode::Json) {
        switch (column.kind) {
        case JsonKind::Bool:
            out.append(view[0] == 't' ? "true" : "false");
            return;
        case JsonKind::Number:
            // The encoder's own integers are JSON numbers; other numbers may be NaN or infinite.
            if (value.plain || json::is_json_number(view)) {
                out.append(view);
                return;
            }
            break;  // NaN and infinities stay strings
        case JsonKind::Json:
            if (encoding_ == utf8::Encoding::SqlAscii)
                json::append_embedded_repairing(out, view);
            else
                json::append_embedded(out, view);
            return;
        case JsonKind::String:
            break;
        }
    }
    if (value.plain)
        json::append_quoted(out, view);
    else
        utf8::append_json_string(out, view, encoding_);
}

void RowEncoder::append_object(Buffer &out, Row row, const std::vector<AttrNumber> &projection,
                               Columns which)
{
    out.push_back('{');
    bool first = true;
    for (AttrNumber attnum : projection) {
        if (row == Row::New && unknown(attnum))
            continue;  // unchanged TOAST not in the WAL: omitted, never invented
        const ColumnInfo &column = info_->columns[attnum - 1];
        bool wanted = true;
        switch (which) {
        case Columns::All: wanted = true; break;
        case Columns::Key: wanted = column.is_key; break;
        case Columns::KeyAndChanged: wanted = column.is_key || changed(attnum); break;
        case Columns::Changed: wanted = changed(attnum); break;
        }
        if (!wanted)
            continue;
        if (!first)
            out.push_back(',');
        first = false;
        out.append(column.json_name.view());
        append_value(out, column, text(row, attnum));
    }
    out.push_back('}');
}

}  // namespace es
