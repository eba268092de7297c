// The per-relation shape index (see shape_index.hpp). Values are compared through the hash
// functions of the term's equality operator, which hash equal values equally across the types
// of one operator family, so the index never misses a shape; a hit is only a candidate, whose
// whole filter is then evaluated. The constants are hashed as the stored filter holds them, by
// the operator's hash support function: for polymorphic operators (anyenum, anyarray, anyrange,
// anymultirange) that function reads the concrete type from the value itself.
#include "electric_shapes/index_term.hpp"
#include "electric_shapes/shape_index.hpp"
#include "electric_shapes/shape_registry.hpp"
#include "electric_shapes/pg_boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "parser/parse_coerce.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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

int ShapeIndex::column_for(AttrNumber attnum, Oid type, Oid hash_function, Oid collation)
{
    for (size_t i = 0; i < columns_.size(); i++) {
        const Column &column = *columns_[i];
        if (column.attnum == attnum && column.type == type && column.hash_function == hash_function &&
            column.collation == collation)
            return static_cast<int>(i);
    }
    columns_.push_back(std::make_unique<Column>());
    Column &column = *columns_.back();
    column.attnum = attnum;
    column.type = type;
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
        op_input_types(equality_operator, &equality.left_type, &equality.right_type);
        fmgr_info_cxt(value_hash, &equality.value_hash, context_);
        equality.column_hash = column_hash;
        equality.hashable = true;
    }
    return equality;
}

// Hashes the constants of the shapes added since the last lookup into the index. Each filter is
// read in a context of its own, emptied after it: only the hashes are kept. A data error while
// reading or hashing one shape's constants fails that shape alone (Failure::Index): it is then
// kept unindexed, so that its first change announces the failure.
void ShapeIndex::index_pending()
{
    MemoryContext scratch = AllocSetContextCreate(context_, "electric_shapes index terms",
                                                  ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(scratch);
    for (Shape *shape : pending_.items()) {
        bool indexed = false;
        char *message = nullptr;
        if (!pg_try_call([&] { indexed = index_shape(shape); }, &message)) {
            shape->failure = Failure::Index;
            shape->failure_message = message;
        }
        if (!indexed) {
            unindexed_.push_back(shape);
            shape->index_list = IndexList::Unindexed;
        }
        MemoryContextReset(scratch);
    }
    pending_.clear();
    MemoryContextSwitchTo(old);
    MemoryContextDelete(scratch);
}

// Hashes one shape's constants into the index; false when its filter has no term the index can
// serve. The hash functions are the operator's, for its declared input types: a column or a
// constant of another type (other than a binary-compatible one) never reaches them.
bool ShapeIndex::index_shape(Shape *shape)
{
    if (!shape->definition.has_filter)
        return false;
    IndexTerm term;
    if (!find_index_term(static_cast<Node *>(stringToNode(shape->definition.filter_node.c_str())), &term))
        return false;
    Equality &equality = equality_of(term.equality);
    if (!equality.hashable || !IsBinaryCoercible(term.column_type, equality.left_type))
        return false;
    // (List here is the index's own list type: PostgreSQL's lists are walked by position.)
    int count = list_length(term.values);
    for (int i = 0; i < count; i++) {
        if (!IsBinaryCoercible(static_cast<Const *>(list_nth(term.values, i))->consttype, equality.right_type))
            return false;
    }
    shape->index_hashes.clear();
    for (int i = 0; i < count; i++) {
        Datum constant = static_cast<Const *>(list_nth(term.values, i))->constvalue;
        shape->index_hashes.push_back(DatumGetUInt32(FunctionCall1Coll(&equality.value_hash, term.collation, constant)));
    }
    // Only a shape whose every constant is hashed enters the index.
    shape->index_list = IndexList::None;
    shape->index_position = column_for(term.column, term.column_type, equality.column_hash, term.collation);
    Column &column = *columns_[shape->index_position];
    for (uint32 hash : shape->index_hashes)
        column.shapes.insert(hash, shape);
    return true;
}

// Adds the shapes whose constant hashes like the row's value of the column.
void ShapeIndex::add_hits(Column &column, TupleDesc desc, HeapTuple row)
{
    auto hit = [this](Shape *shape) {
        if (shape->seen != epoch_) {
            shape->seen = epoch_;
            hits_.push_back(shape);
        }
    };
    if (!row || column.shapes.size() == 0)
        return;
    Form_pg_attribute attribute = column.attnum <= desc->natts ? TupleDescAttr(desc, column.attnum - 1) : nullptr;
    if (!attribute || attribute->attisdropped || attribute->atttypid != column.type) {
        // The column no longer has the type its shapes were analyzed for: its value must not
        // reach their hash function. Every one of them is a candidate, and is found broken when
        // compiled against the relation as it is now.
        column.shapes.for_all(hit);
        return;
    }
    bool isnull;
    Datum value = heap_getattr(row, column.attnum, desc, &isnull);
    if (isnull)
        return;  // NULL equals nothing
    if (attribute->attlen == -1 &&
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
