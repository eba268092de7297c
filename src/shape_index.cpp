// The per-relation shape index (see shape_index.hpp). Values are compared through the hash
// functions of the term's equality operator, which hash equal values equally across the types
// of one operator family, so the index never misses a shape; a hit is only a candidate, whose
// whole filter is then evaluated.
#include "electric_shapes/shape_index.hpp"
#include "electric_shapes/shape_registry.hpp"
#include "electric_shapes/pg_boundary.hpp"

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

namespace {

// A shape's constants to hash, and where their hashes go.
struct HashCall {
    const ShapeDefinition *definition;
    FmgrInfo *input;
    Oid io_param;
    FmgrInfo *value_hash;
    uint32 *hashes;
};

// Hashes one shape's constants; runs inside pg_try (nothing here has a destructor).
void hash_constants(void *arg)
{
    auto *call = static_cast<HashCall *>(arg);
    const ShapeDefinition &definition = *call->definition;
    for (size_t i = 0; i < definition.index_values.size(); i++) {
        Datum constant = InputFunctionCall(call->input, const_cast<char *>(definition.index_values[i].c_str()),
                                           call->io_param, -1);
        call->hashes[i] = DatumGetUInt32(FunctionCall1Coll(call->value_hash, definition.index_collation, constant));
    }
}

}  // namespace

// Hashes the constants of the shapes added since the last lookup into the index. A data error
// while hashing one shape's constants fails that shape alone (Failure::Index): it is then kept
// unindexed, so that its first change announces the failure.
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
        size_t count = definition.index_values.size();
        auto *hashes = static_cast<uint32 *>(palloc(sizeof(uint32) * (count + 1)));
        HashCall call{&definition, &equality.input, equality.io_param, &equality.value_hash, hashes};
        char *message = nullptr;
        if (!pg_try(hash_constants, &call, &message)) {
            shape->failure = Failure::Index;
            shape->failure_message = message;
            unindexed_.push_back(shape);
            shape->index_list = IndexList::Unindexed;
            continue;
        }
        shape->index_list = IndexList::None;
        shape->index_position = column_for(definition.index_column, equality.column_hash,
                                           definition.index_collation);
        Column &column = *columns_[shape->index_position];
        shape->index_hashes.assign(hashes, hashes + count);
        for (uint32 hash : shape->index_hashes)
            column.shapes.insert(hash, shape);
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
