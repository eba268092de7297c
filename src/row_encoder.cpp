// Key and value encoding of shape messages (see row_encoder.hpp). Text mode writes every value
// as PostgreSQL prints it, as a JSON string; json mode writes booleans, finite numbers and JSON
// documents natively.
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/pure/shape_key.hpp"
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/row_encoder.hpp"

extern "C" {
#include "utils/datum.h"
}

namespace es {

void RowEncoder::start(const RelationInfo *info, TupleTableSlot *old_row, TupleTableSlot *new_row,
                       const std::vector<bool> *unknown)
{
    info_ = info;
    rows_[0] = old_row;
    rows_[1] = new_row;
    unknown_ = unknown;
    size_t natts = info->columns.size();
    if (texts_[0].size() < natts) {
        for (int i = 0; i < 2; i++) {
            texts_[i].resize(natts);
            text_stamps_[i].resize(natts, 0);
        }
        changed_.resize(natts);
        changed_stamps_.resize(natts, 0);
    }
    change_++;
}

bool RowEncoder::misses_values(const std::vector<AttrNumber> &projection) const
{
    for (AttrNumber attnum : projection) {
        if ((*unknown_)[attnum - 1])
            return true;
    }
    return false;
}

bool RowEncoder::is_key(AttrNumber attnum) const
{
    for (AttrNumber key : info_->key_columns) {
        if (key == attnum)
            return true;
    }
    return false;
}

const char *RowEncoder::text(Row row, AttrNumber attnum)
{
    int r = row == Row::Old ? 0 : 1;
    int i = attnum - 1;
    if (text_stamps_[r][i] != change_) {
        TupleTableSlot *slot = rows_[r];
        texts_[r][i] = nullptr;
        if (!slot->tts_isnull[i]) {
            texts_[r][i] = OutputFunctionCall(
                const_cast<FmgrInfo *>(&info_->columns[i].output), slot->tts_values[i]);
            if (encoding_ == utf8::Encoding::Other)  // never taken in UTF8 databases
                texts_[r][i] = utf8::to_utf8(texts_[r][i], encoding_);
        }
        text_stamps_[r][i] = change_;
    }
    return texts_[r][i];
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
            result = !datumIsEqual(old_row->tts_values[i], new_row->tts_values[i], attr->attbyval,
                                   attr->attlen) &&
                     strcmp(text(Row::Old, attnum), text(Row::New, attnum)) != 0;
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

void RowEncoder::append_key(std::string &out, Row row)
{
    key_scratch_.assign(info_->key_prefix);
    for (AttrNumber key : info_->key_columns) {
        const char *value = text(row, key);
        key::append_part(key_scratch_, value ? value : "", value == nullptr);
    }
    utf8::append_json_string(out, key_scratch_, encoding_);
}

void RowEncoder::append_value(std::string &out, AttrNumber attnum, const char *value)
{
    if (value == nullptr) {
        out.append("null");
        return;
    }
    if (mode_ == ValuesMode::Json) {
        switch (info_->columns[attnum - 1].kind) {
        case JsonKind::Bool:
            out.append(value[0] == 't' ? "true" : "false");
            return;
        case JsonKind::Number:
            if (json::is_json_number(value)) {
                out.append(value);
                return;
            }
            break;  // NaN and infinities stay strings
        case JsonKind::Json:
            if (encoding_ == utf8::Encoding::SqlAscii)
                json::append_embedded_repairing(out, value);
            else
                json::append_embedded(out, value);
            return;
        case JsonKind::String:
            break;
        }
    }
    utf8::append_json_string(out, value, encoding_);
}

void RowEncoder::append_object(std::string &out, Row row, const std::vector<AttrNumber> &projection,
                               Columns which)
{
    out.push_back('{');
    bool first = true;
    for (AttrNumber attnum : projection) {
        if (row == Row::New && (*unknown_)[attnum - 1])
            continue;  // unchanged TOAST not in the WAL: omitted, never invented
        bool wanted = true;
        switch (which) {
        case Columns::All: wanted = true; break;
        case Columns::Key: wanted = is_key(attnum); break;
        case Columns::KeyAndChanged: wanted = is_key(attnum) || changed(attnum); break;
        case Columns::Changed: wanted = changed(attnum); break;
        }
        if (!wanted)
            continue;
        if (!first)
            out.push_back(',');
        first = false;
        out.append(info_->columns[attnum - 1].json_name);
        append_value(out, attnum, text(row, attnum));
    }
    out.push_back('}');
}

}  // namespace es
