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
    // Unique to each build of an entry, in every cache of the process: what was compiled or
    // written against one build (shapes, message headers) is redone for a new one, and only then.
    uint64 generation = 0;
    uint64 last_used = 0;  // the cache's use count at its last get(), for eviction
    Buffer relation_json;       // ["schema","table"]
    std::string key_prefix;     // "schema"."table" (raw, JSON-escaped when written)
    Buffer key_prefix_json;     // key_prefix escaped for the inside of a JSON string
    std::vector<AttrNumber> key_columns;
    std::vector<AttrNumber> varlena_columns;  // where unchanged TOAST can be
    std::vector<ColumnInfo> columns;  // index attnum - 1
    TupleDesc desc = nullptr;
    TupleTableSlot *old_slot = nullptr;
    TupleTableSlot *new_slot = nullptr;
    std::vector<AncestorMap> ancestor_maps;  // for partitions: into their shaped ancestors
    MemoryContext context = nullptr;  // holds desc, slots, maps and output function state
};

// The cache of RelationInfo, invalidated through relcache callbacks, one relation at a time.
// Full entries (a few kB each) are made only for relations the caller has shapes for; a partition
// of unshaped tables costs only its small list of ancestors. The cache is bounded: trim() evicts
// the least recently used entries beyond kMaxEntries.
class RelationCache {
public:
    // Full entries kept after trim(): about 5 kB each, so a few MB at most.
    static constexpr size_t kMaxEntries = 1000;
    // Ancestor lists kept after trim() (a few dozen bytes each).
    static constexpr size_t kMaxAncestorLists = 100000;

    explicit RelationCache(MemoryContext parent);
    ~RelationCache();

    // The up-to-date info for rel, rebuilt when it was invalidated.
    RelationInfo *get(Relation rel);

    // The partitioned tables a partition belongs to, nearest first (looked up once, until the
    // partition is invalidated). The reference is valid until the next trim().
    const std::vector<Oid> &ancestors(Oid partition);

    // The map turning rows of partition into rows of ancestor; nullptr when they match.
    TupleConversionMap *conversion(RelationInfo *partition, const RelationInfo *ancestor);

    // Marks one relation (or all, for InvalidOid) as needing a rebuild.
    void invalidate(Oid relid) noexcept;

    // Evicts entries beyond the bounds, least recently used first. Invalidates every pointer
    // and reference the cache handed out: call between changes only.
    void trim();

    // Full entries held now.
    size_t size() const { return entries_.size(); }

    // Invalidates relid (or all, for InvalidOid) in every live cache: the relcache callback.
    static void invalidate_everywhere(Oid relid) noexcept;

private:
    void build(RelationInfo *info, Relation rel);
    void evict(RelationInfo *info);

    struct AncestorList {
        std::vector<Oid> oids;  // nearest first
        bool valid = false;
    };

    MemoryContext parent_;
    std::unordered_map<Oid, std::unique_ptr<RelationInfo>> entries_;
    std::unordered_map<Oid, AncestorList> ancestor_lists_;
    uint64 uses_ = 0;
    // The caches the relcache callback reaches (a decoding context's, and shape_snapshot's while
    // it runs, possibly in the same statement): an intrusive list whose head is a plain pointer,
    // so that the library holds no static object that needs constructing or destroying.
    static RelationCache *first_active_;
    RelationCache *next_active_ = nullptr;
    RelationCache *previous_active_ = nullptr;
};

}  // namespace es
