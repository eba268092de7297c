// The per-relation shape index (see shape_index.hpp). Values are compared through the hash
// functions of the term's equality operator, which hash equal values equally across the types
// of one operator family, so the index never misses a shape; a hit is only a candidate, whose
// whole filter is then evaluated.
#include "electric_shapes/shape_index.hpp"
#include "electric_shapes/shape_registry.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/lsyscache.h"
}

namespace es {

void ShapeIndex::add(Shape *shape)
{
    if (shape->definition.index_column != InvalidAttrNumber && !shape->definition.broken) {
        pending_.push_back(shape);
        shape->index_list = IndexList::Pending;
    } else {
        unindexed_.push_back(shape);
        shape->index_list = IndexList::Unindexed;
    }
}

void ShapeIndex::remove(Shape *shape)
{
    if (shape->index_list == IndexList::Pending)
        pending_.remove(shape);
    else if (shape->index_list == IndexList::Unindexed)
        unindexed_.remove(shape);
    shape->index_list = IndexList::None;
    if (shape->index_position < 0)
        return;
    auto &entries = columns_[shape->index_position]->shapes;
    for (uint32 hash : shape->index_hashes)
        entries.erase(hash, shape);
}

int ShapeIndex::column_for(AttrNumber attnum, Oid hash_function, Oid collation)
{
    for (size_t i = 0; i < columns_.size(); i++) {
        const Column &column = *columns_[i];
        if (column.attnum == attnum && column.hash_function == hash_function && column.collation == collation)
            return static_cast<int>(i);
    }
    columns_.push_back(std::make_unique<Column>());
    Column &column = *columns_.back();
    column.attnum = attnum;
    column.hash_function = hash_function;
    column.collation = collation;
    fmgr_info_cxt(hash_function, &column.hash, context_);
    return static_cast<int>(columns_.size() - 1);
}

ShapeIndex::Equality &ShapeIndex::equality_of(Oid equality_operator)
{
    auto found = equalities_.find(equality_operator);
    if (found != equalities_.end())
        return found->second;
    Equality &equality = equalities_[equality_operator];  // hashable stays false until complete
    RegProcedure column_hash = InvalidOid, value_hash = InvalidOid;
    if (get_op_hash_functions(equality_operator, &column_hash, &value_hash)) {
        Oid column_type, value_type, input_function;
        op_input_types(equality_operator, &column_type, &value_type);
        getTypeInputInfo(value_type, &input_function, &equality.io_param);
        fmgr_info_cxt(value_hash, &equality.value_hash, context_);
        fmgr_info_cxt(input_function, &equality.input, context_);
        equality.column_hash = column_hash;
        equality.hashable = true;
    }
    return equality;
}

// Hashes the constants of the shapes added since the last lookup into the index.
void ShapeIndex::index_pending()
{
    for (Shape *shape : pending_.items()) {
        const ShapeDefinition &definition = shape->definition;
        Equality &equality = equality_of(definition.index_operator);
        if (!equality.hashable) {
            unindexed_.push_back(shape);
            shape->index_list = IndexList::Unindexed;
            continue;
        }
        shape->index_list = IndexList::None;
        shape->index_position = column_for(definition.index_column, equality.column_hash,
                                           definition.index_collation);
        Column &column = *columns_[shape->index_position];
        shape->index_hashes.clear();
        for (const std::string &value : definition.index_values) {
            Datum constant = InputFunctionCall(&equality.input, const_cast<char *>(value.c_str()),
                                               equality.io_param, -1);
            uint32 hash = DatumGetUInt32(FunctionCall1Coll(&equality.value_hash, definition.index_collation, constant));
            shape->index_hashes.push_back(hash);
            column.shapes.insert(hash, shape);
        }
    }
    pending_.clear();
}

// Adds the shapes whose constant hashes like the row's value of the column.
void ShapeIndex::add_hits(Column &column, TupleDesc desc, HeapTuple row)
{
    if (!row)
        return;
    bool isnull;
    Datum value = heap_getattr(row, column.attnum, desc, &isnull);
    if (isnull)
        return;  // NULL equals nothing
    auto hit = [this](Shape *shape) {
        if (shape->seen != epoch_) {
            shape->seen = epoch_;
            hits_.push_back(shape);
        }
    };
    if (TupleDescAttr(desc, column.attnum - 1)->attlen == -1 &&
        VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(value))) {
        // An unchanged TOAST value, not in the WAL: every shape of the column is a candidate.
        column.shapes.for_all(hit);
        return;
    }
    uint32 hash = DatumGetUInt32(FunctionCall1Coll(&column.hash, column.collation, value));
    column.shapes.for_each(hash, hit);
}

const std::vector<Shape *> &ShapeIndex::candidates(TupleDesc desc, HeapTuple old_row, HeapTuple new_row)
{
    if (!pending_.empty())
        index_pending();
    const std::vector<Shape *> &unindexed = unindexed_.sorted();
    if (columns_.empty())
        return unindexed;
    epoch_++;
    hits_.clear();
    for (auto &column : columns_) {
        add_hits(*column, desc, old_row);
        add_hits(*column, desc, new_row);
    }
    if (hits_.empty())
        return unindexed;
    std::sort(hits_.begin(), hits_.end(), by_name);
    candidates_.clear();
    std::merge(unindexed.begin(), unindexed.end(), hits_.begin(), hits_.end(),
               std::back_inserter(candidates_), by_name);
    return candidates_;
}

}  // namespace es
