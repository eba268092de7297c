// The relation cache of the output plugin (see relation_info.hpp). Entries are rebuilt lazily
// after a relcache invalidation, as pgoutput does: the callback only clears a flag, since it may
// run at times when catalog access is not allowed.
#include "electric_shapes/pure/json_writer.hpp"
#include "electric_shapes/relation_info.hpp"
#include "electric_shapes/text_encoding.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace es {

namespace {

bool callback_registered = false;

// The last RelationInfo::generation handed out, in any cache of the process.
uint64 last_generation = 0;

// Relcache invalidation callback: marks entries stale; no catalog access here.
void relcache_callback(Datum, Oid relid)
{
    RelationCache::invalidate_everywhere(relid);
}

// How values of a type are written in json mode, looking through domains.
JsonKind json_kind_of(Oid type)
{
    switch (getBaseType(type)) {
    case BOOLOID:
        return JsonKind::Bool;
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case FLOAT4OID:
    case FLOAT8OID:
    case NUMERICOID:
        return JsonKind::Number;
    case JSONOID:
    case JSONBOID:
        return JsonKind::Json;
    default:
        return JsonKind::String;
    }
}

// How the plugin writes a column's text: itself for output functions whose result it knows how
// to produce exactly, else through the output function. Text is used as stored only where the
// database encoding is already valid in the stream (UTF8, or SQL_ASCII, repaired when written).
TextFormat text_format_of(Oid output_function, utf8::Encoding encoding)
{
    switch (output_function) {
    case F_TEXTOUT:
    case F_VARCHAROUT:
    case F_BPCHAROUT:
        return encoding == utf8::Encoding::Other ? TextFormat::OutputFunction : TextFormat::Text;
    case F_BOOLOUT: return TextFormat::Bool;
    case F_INT2OUT: return TextFormat::Int2;
    case F_INT4OUT: return TextFormat::Int4;
    case F_INT8OUT: return TextFormat::Int8;
    case F_OIDOUT: return TextFormat::Oid;
    case F_TIMESTAMP_OUT: return TextFormat::Timestamp;
    case F_TIMESTAMPTZ_OUT: return TextFormat::TimestampTz;
    default: return TextFormat::OutputFunction;
    }
}

}  // namespace

RelationCache *RelationCache::first_active_ = nullptr;

RelationCache::RelationCache(MemoryContext parent) : parent_(parent)
{
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
        callback_registered = true;
    }
    next_active_ = first_active_;
    if (next_active_)
        next_active_->previous_active_ = this;
    first_active_ = this;
}

RelationCache::~RelationCache()
{
    if (previous_active_)
        previous_active_->next_active_ = next_active_;
    else
        first_active_ = next_active_;
    if (next_active_)
        next_active_->previous_active_ = previous_active_;
}

void RelationCache::invalidate_everywhere(Oid relid) noexcept
{
    for (RelationCache *cache = first_active_; cache; cache = cache->next_active_)
        cache->invalidate(relid);
}

// Only the named relation is marked: its shapes are recompiled, those of other relations are not
// (an ALTER TABLE anywhere used to recompile every shape of the stream).
void RelationCache::invalidate(Oid relid) noexcept
{
    if (!OidIsValid(relid)) {
        for (auto &entry : entries_)
            entry.second->valid = false;
        for (auto &list : ancestor_lists_)
            list.second.valid = false;
        return;
    }
    auto found = entries_.find(relid);
    if (found != entries_.end())
        found->second->valid = false;
    auto list = ancestor_lists_.find(relid);
    if (list != ancestor_lists_.end())
        list->second.valid = false;
}

RelationInfo *RelationCache::get(Relation rel)
{
    Oid relid = RelationGetRelid(rel);
    auto found = entries_.find(relid);
    RelationInfo *info;
    if (found == entries_.end()) {
        info = new RelationInfo();
        entries_.emplace(relid, std::unique_ptr<RelationInfo>(info));
    } else {
        info = found->second.get();
    }
    info->last_used = ++uses_;
    if (!info->valid)
        build(info, rel);
    return info;
}

const std::vector<Oid> &RelationCache::ancestors(Oid partition)
{
    AncestorList &list = ancestor_lists_[partition];
    if (!list.valid) {
        List *ancestors = get_partition_ancestors(partition);
        list.oids.clear();
        ListCell *cell;
        foreach (cell, ancestors)
            list.oids.push_back(lfirst_oid(cell));
        list_free(ancestors);
        list.valid = true;
    }
    return list.oids;
}

TupleConversionMap *RelationCache::conversion(RelationInfo *partition, const RelationInfo *ancestor)
{
    for (const AncestorMap &known : partition->ancestor_maps) {
        if (known.ancestor == ancestor->relid && known.ancestor_desc == ancestor->desc)
            return known.map;
    }
    MemoryContext old = MemoryContextSwitchTo(partition->context);
    TupleConversionMap *map = convert_tuples_by_name(partition->desc, ancestor->desc);
    MemoryContextSwitchTo(old);
    partition->ancestor_maps.push_back({ancestor->relid, ancestor->desc, map});
    return map;
}

void RelationCache::evict(RelationInfo *info)
{
    if (info->context)
        MemoryContextDelete(info->context);
    entries_.erase(info->relid);
}

void RelationCache::trim()
{
    if (ancestor_lists_.size() > kMaxAncestorLists)
        ancestor_lists_.clear();  // rebuilt as partitions are seen again
    if (entries_.size() <= kMaxEntries)
        return;
    // Stale entries first (a dropped table's stays stale for ever), then the least recently used.
    std::vector<RelationInfo *> order;
    order.reserve(entries_.size());
    for (auto &entry : entries_)
        order.push_back(entry.second.get());
    std::sort(order.begin(), order.end(), [](const RelationInfo *a, const RelationInfo *b) {
        return a->valid != b->valid ? !a->valid : a->last_used < b->last_used;
    });
    size_t excess = entries_.size() - kMaxEntries;
    for (size_t i = 0; i < excess; i++)
        evict(order[i]);
}

// Fills info from rel; PostgreSQL calls here keep no C++ temporaries alive.
void RelationCache::build(RelationInfo *info, Relation rel)
{
    if (info->context)
        MemoryContextDelete(info->context);
    info->context = AllocSetContextCreate(parent_, "electric_shapes relation", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(info->context);

    info->relid = RelationGetRelid(rel);
    info->generation = ++last_generation;
    info->ancestor_maps.clear();
    // Names go into the stream's JSON as UTF-8 (text_encoding.hpp); key_prefix is repaired when
    // written in a SQL_ASCII database, like the key values appended to it.
    utf8::Encoding encoding = utf8::database_encoding();
    const char *schema = utf8::to_utf8(get_namespace_name(RelationGetNamespace(rel)), encoding);
    const char *table = utf8::to_utf8(RelationGetRelationName(rel), encoding);
    info->desc = CreateTupleDescCopy(RelationGetDescr(rel));
    info->old_slot = MakeSingleTupleTableSlot(info->desc, &TTSOpsVirtual);
    info->new_slot = MakeSingleTupleTableSlot(info->desc, &TTSOpsVirtual);

    info->relation_json.clear();
    info->relation_json.push_back('[');
    utf8::append_json_string(info->relation_json, schema, encoding);
    info->relation_json.push_back(',');
    utf8::append_json_string(info->relation_json, table, encoding);
    info->relation_json.push_back(']');
    info->key_prefix.clear();
    info->key_prefix.append("\"").append(schema).append("\".\"").append(table).append("\"");
    info->key_prefix_json.clear();
    json::append_escaped(info->key_prefix_json, info->key_prefix);

    info->key_columns.clear();
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    if (OidIsValid(pk)) {
        Relation index = RelationIdGetRelation(pk);
        for (int i = 0; i < index->rd_index->indnkeyatts; i++)
            info->key_columns.push_back(index->rd_index->indkey.values[i]);
        RelationClose(index);
    }

    info->columns.clear();
    info->columns.resize(info->desc->natts);
    for (int i = 0; i < info->desc->natts; i++) {
        Form_pg_attribute attr = TupleDescAttr(info->desc, i);
        ColumnInfo &column = info->columns[i];
        column.dropped = attr->attisdropped;
        if (column.dropped)
            continue;
        Oid output_function;
        bool is_varlena;
        getTypeOutputInfo(attr->atttypid, &output_function, &is_varlena);
        fmgr_info_cxt(output_function, &column.output, info->context);
        column.format = text_format_of(output_function, encoding);
        column.kind = json_kind_of(attr->atttypid);
        column.typlen = attr->attlen;
        column.json_name.clear();
        utf8::append_json_string(column.json_name, utf8::to_utf8(NameStr(attr->attname), encoding),
                                 encoding);
        column.json_name.push_back(':');
    }
    for (AttrNumber key : info->key_columns)
        info->columns[key - 1].is_key = true;
    info->varlena_columns.clear();
    for (int i = 0; i < info->desc->natts; i++) {
        if (!info->columns[i].dropped && info->columns[i].typlen == -1)
            info->varlena_columns.push_back(static_cast<AttrNumber>(i + 1));
    }
    MemoryContextSwitchTo(old);
    info->valid = true;
}

}  // namespace es
