// What the plugin needs to know about a decoded relation, looked up once and kept until the
// relation changes: names, the primary key, each column's output function and JSON rendering,
// and slots to hold decoded rows. The hot path then does no catalog lookup per row or column.
#pragma once

#include "electric_shapes/pure/buffer.hpp"
#include "electric_shapes/postgres.hpp"

extern "C" {
#include "access/tupconvert.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"
}

namespace es {

// How a column's value is written in `values=json` mode (text mode writes every value as a string).
enum class JsonKind { String, Bool, Number, Json };

// How a column's text is produced: by the type's output function, or, for the commonest output
// functions, by the plugin itself with the same result (pure/value_format.hpp).
enum class TextFormat { OutputFunction, Text, Bool, Int2, Int4, Int8, Oid, Timestamp, TimestampTz };

struct ColumnInfo {
    bool dropped = false;
    Buffer json_name;       // "name": already escaped, ready to append
    FmgrInfo output;        // the type's output function
    TextFormat format = TextFormat::OutputFunction;
    JsonKind kind = JsonKind::String;
    int16 typlen = 0;
    bool is_key = false;  // part of the primary key
};

// How rows of a partition become rows of one of its ancestors (NULL map: same columns).
struct AncestorMap {
    Oid ancestor;
    TupleDesc ancestor_desc;  // the descriptor the map was made for
    TupleConversionMap *map;
};

struct RelationInfo {
    Oid relid = InvalidOid;
    bool valid = false;
    Buffer relation_json;       // ["schema","table"]
    std::string key_prefix;     // "schema"."table" (raw, JSON-escaped when written)
    Buffer key_prefix_json;     // key_prefix escaped for the inside of a JSON string
    std::vector<AttrNumber> key_columns;
    std::vector<AttrNumber> varlena_columns;  // where unchanged TOAST can be
    std::vector<ColumnInfo> columns;  // index attnum - 1
    TupleDesc desc = nullptr;
    TupleTableSlot *old_slot = nullptr;
    TupleTableSlot *new_slot = nullptr;
    bool ancestors_known = false;       // for partitions: ancestors looked up
    std::vector<Oid> ancestors;         // nearest first
    std::vector<AncestorMap> ancestor_maps;
    MemoryContext context = nullptr;  // holds desc, slots, maps and output function state
};

// The cache of RelationInfo, invalidated through relcache callbacks.
class RelationCache {
public:
    explicit RelationCache(MemoryContext parent);
    ~RelationCache();

    // The up-to-date info for rel, rebuilt when it was invalidated.
    RelationInfo *get(Relation rel);

    // The partitioned tables a partition belongs to, nearest first (looked up once).
    const std::vector<Oid> &ancestors(RelationInfo *partition);

    // The map turning rows of partition into rows of ancestor; nullptr when they match.
    TupleConversionMap *conversion(RelationInfo *partition, const RelationInfo *ancestor);

    // Marks one relation (or all, for InvalidOid) as needing a rebuild.
    void invalidate(Oid relid) noexcept;

    // Bumped on every invalidation, so dependants (compiled filters) can notice.
    uint64 generation() const { return generation_; }

private:
    void build(RelationInfo *info, Relation rel);

    MemoryContext parent_;
    std::unordered_map<Oid, std::unique_ptr<RelationInfo>> entries_;
    uint64 generation_ = 0;
};

}  // namespace es
