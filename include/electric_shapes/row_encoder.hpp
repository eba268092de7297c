// Writes the key and the value objects of shape messages from decoded rows. Each column's text
// is produced at most once per change, however many shapes and messages use it: one decode of
// a row serves every shape.
#pragma once

#include <array>

#include "electric_shapes/pure/plugin_options.hpp"
#include "electric_shapes/pure/value_format.hpp"
#include "electric_shapes/postgres.hpp"
#include "electric_shapes/text_encoding.hpp"

extern "C" {
#include "executor/tuptable.h"
}

struct pg_tz;

namespace es {

struct ColumnInfo;
struct RelationInfo;

enum class Row { Old, New };

// Which projected columns a value object holds.
enum class Columns {
    All,          // every projected column with a known value
    Key,          // the key columns only
    KeyAndChanged,  // the key plus the columns whose value changed
    Changed,      // the columns whose value changed (old values of an update)
};

class RowEncoder {
public:
    // Reads the database encoding once: the stream's JSON is UTF-8 in every encoding.
    explicit RowEncoder(ValuesMode mode);

    // Starts a change: the relation and its rows (either may be null). Called with the output
    // settings pinned (output_settings.hpp).
    void start(const RelationInfo *info, TupleTableSlot *old_row, TupleTableSlot *new_row);

    // Marks a column of the new row whose value is not in the WAL (unchanged TOAST that no old
    // row could supply): it is never written, and a filter reading it cannot be evaluated.
    void mark_unknown(AttrNumber attnum)
    {
        unknown_[attnum - 1] = true;
        any_unknown_ = true;
    }
    bool unknown(AttrNumber attnum) const { return any_unknown_ && unknown_[attnum - 1]; }
    bool any_unknown() const { return any_unknown_; }

    // True when some column of projection is unknown in the new row.
    bool misses_values(const std::vector<AttrNumber> &projection) const;

    // True when the key differs between the old and the new row.
    bool key_changed();

    // Appends the row's key as a JSON string.
    void append_key(Buffer &out, Row row);

    // Appends a JSON object of the row's columns of projection chosen by which.
    void append_object(Buffer &out, Row row, const std::vector<AttrNumber> &projection,
                       Columns which);

    // True when the update changed the column (always true without an old row).
    bool changed(AttrNumber attnum);

private:
    // A column's text in the stream's encoding; data is nullptr for NULL. plain: written by the
    // encoder itself (numbers, booleans, timestamps), so it needs no JSON escaping.
    struct Text {
        const char *data;
        size_t size;
        bool plain;
    };

    // The column's text output, produced once per change.
    const Text &text(Row row, AttrNumber attnum)
    {
        int r = row == Row::Old ? 0 : 1;
        int i = attnum - 1;
        if (text_stamps_[r][i] != change_) {
            texts_[r][i] = produce_text(r, i);
            text_stamps_[r][i] = change_;
        }
        return texts_[r][i];
    }
    // Produces it: written here for the commonest types (relation_info.hpp, TextFormat), else by
    // the type's output function.
    Text produce_text(int row, int column);
    void append_value(Buffer &out, const ColumnInfo &column, const Text &value);

    ValuesMode mode_;
    utf8::Encoding encoding_;
    pg_tz *utc_ = nullptr;      // the zone the pinned settings set
    bool utc_known_ = false;
    bool utc_iso_ = false;      // this change is printed in UTC, DateStyle ISO
    const RelationInfo *info_ = nullptr;
    TupleTableSlot *rows_[2] = {nullptr, nullptr};
    std::vector<char> unknown_;  // by attnum - 1; all false unless any_unknown_
    bool any_unknown_ = false;
    // Per change caches, indexed by attnum - 1.
    // An entry holds for the current change only when its stamp equals change_: starting a
    // change is then one increment, not a clear of every column.
    uint64 change_ = 0;
    std::vector<Text> texts_[2];
    std::vector<uint64> text_stamps_[2];
    std::vector<std::array<char, format::kMaxText>> digits_[2];  // texts written by the encoder itself
    std::vector<bool> changed_;
    std::vector<uint64> changed_stamps_;
    Buffer key_scratch_;
};

}  // namespace es
