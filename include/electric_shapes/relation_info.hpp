// What the plugin needs to know about a decoded relation, looked up once and kept until the
// relation changes: names, the primary key, each column's output function and JSON rendering,
// and slots to hold decoded rows. The hot path then does no catalog lookup per row or column.
#pragma once

#include "electric_shapes/postgres.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "utils/relcache.h"
}

namespace es {

// How a column's value is written in `values=json` mode (text mode writes every value as a string).
enum class JsonKind { String, Bool, Number, Json };

struct ColumnInfo {
    bool dropped = false;
    std::string json_name;  // "name": already escaped, ready to append
    FmgrInfo output;        // the type's output function
    JsonKind kind = JsonKind::String;
    int16 typlen = 0;
};

struct RelationInfo {
    Oid relid = InvalidOid;
    bool valid = false;
    std::string relation_json;  // ["schema","table"]
    std::string key_prefix;     // "schema"."table" (raw, JSON-escaped when written)
    std::vector<AttrNumber> key_columns;
    std::vector<ColumnInfo> columns;  // index attnum - 1
    TupleDesc desc = nullptr;
    TupleTableSlot *old_slot = nullptr;
    TupleTableSlot *new_slot = nullptr;
    MemoryContext context = nullptr;  // holds desc, slots and output function state
};

// The cache of RelationInfo, invalidated through relcache callbacks.
class RelationCache {
public:
    explicit RelationCache(MemoryContext parent);
    ~RelationCache();

    // The up-to-date info for rel, rebuilt when it was invalidated.
    RelationInfo *get(Relation rel);

    // Marks one relation (or all, for InvalidOid) as needing a rebuild.
    void invalidate(Oid relid);

    // Bumped on every invalidation, so dependants (compiled filters) can notice.
    uint64 generation() const { return generation_; }

private:
    void build(RelationInfo *info, Relation rel);

    MemoryContext parent_;
    std::unordered_map<Oid, std::unique_ptr<RelationInfo>> entries_;
    uint64 generation_ = 0;
};

}  // namespace es
