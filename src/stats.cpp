// Statistics in shared memory (SPEC section 5; the plugin's side is stats.hpp).
//
// Layout: one fixed array of slot entries, found by slot name, and one shared hash of (slot, shape)
// entries; both bounded by settings and allocated once at server start. Entries are created under
// an LWLock, then each counter is a 64-bit atomic: the walsender (or backend) that owns a slot
// increments its counters without any lock, readers copy them without ever blocking decoding, and
// a reset from another backend just stores zeros.
//
// The decoding process keeps a local cache from shape name to shared entry, validated by the
// entry's generation number: a reset or a recycled entry changes the generation, and the next
// report looks the shape up again. Entries of slots that no longer exist are recycled lazily, when
// room is needed and whenever the counters are read. Counters are keyed by slot name, so they
// survive a consumer's reconnect; they start again at zero after a server restart.
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/stats.hpp"
#include "electric_shapes/stats_module.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "replication/slot.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "catalog/pg_authid.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace es::stats {

// Settings (see init_module for their descriptions).
int max_tracked_slots = 100;
int max_tracked_shapes = 10000;
int health_inactive_slot_error_mb = 1024;
int health_lag_warning_mb = 256;
int health_lag_error_mb = 2048;

namespace {

constexpr const char *kTrancheName = "electric_shapes";
constexpr const char *kStateName = "electric_shapes statistics";
constexpr const char *kHashName = "electric_shapes shape statistics";

// One slot's counters. in_use, name and generation change only under the lock.
struct SlotEntry {
    bool in_use;
    NameData name;
    pg_atomic_uint64 generation;
    pg_atomic_uint64 changes_decoded;
    pg_atomic_uint64 changes_emitted;
    pg_atomic_uint64 changes_filtered;
    pg_atomic_uint64 txns_decoded;
    pg_atomic_uint64 txns_emitted;
    pg_atomic_uint64 bytes_emitted;
    pg_atomic_uint64 spill_baseline;  // pg_stat_replication_slots.spill_bytes at the last reset
    pg_atomic_uint64 last_commit_lsn;
    pg_atomic_uint64 last_commit_at;  // TimestampTz; 0 = never
    pg_atomic_uint64 stats_reset;     // TimestampTz
};

// Key of a (slot, shape) entry; zero-padded, hashed as bytes.
struct ShapeKey {
    int32 slot;
    char name[NAMEDATALEN];
};

struct ShapeEntry {
    ShapeKey key;  // first, as dynahash requires
    pg_atomic_uint64 generation;
    pg_atomic_uint64 inserts;
    pg_atomic_uint64 updates;
    pg_atomic_uint64 deletes;
    pg_atomic_uint64 move_ins;
    pg_atomic_uint64 move_outs;
    pg_atomic_uint64 must_refetches;
    pg_atomic_uint64 filter_errors;
    pg_atomic_uint64 bytes;
    pg_atomic_uint64 last_lsn;
    pg_atomic_uint64 last_emit_at;  // TimestampTz; 0 = never
};

struct SharedState {
    LWLock *lock;
    uint64 next_generation;  // under lock
    int64 tracked_shapes;    // under lock
    pg_atomic_uint64 untracked_slots;   // open_slot calls refused for want of room
    pg_atomic_uint64 untracked_shapes;  // shapes refused for want of room, once per stream
    pg_atomic_uint64 overflow_reset;    // TimestampTz of the last full reset
};

SharedState *state = nullptr;
SlotEntry *slot_entries = nullptr;
HTAB *shape_hash = nullptr;

shmem_request_hook_type previous_shmem_request = nullptr;
shmem_startup_hook_type previous_shmem_startup = nullptr;

Size state_size() { return MAXALIGN(sizeof(SharedState)); }

Size slots_size() { return mul_size(sizeof(SlotEntry), max_tracked_slots); }

Size memory_size()
{
    return add_size(add_size(state_size(), slots_size()),
                    hash_estimate_size(max_tracked_shapes, sizeof(ShapeEntry)));
}

void shmem_request()
{
    if (previous_shmem_request)
        previous_shmem_request();
    RequestAddinShmemSpace(memory_size());
    RequestNamedLWLockTranche(kTrancheName, 1);
}

void reset_slot_counters(SlotEntry *entry, TimestampTz now)
{
    pg_atomic_write_u64(&entry->changes_decoded, 0);
    pg_atomic_write_u64(&entry->changes_emitted, 0);
    pg_atomic_write_u64(&entry->changes_filtered, 0);
    pg_atomic_write_u64(&entry->txns_decoded, 0);
    pg_atomic_write_u64(&entry->txns_emitted, 0);
    pg_atomic_write_u64(&entry->bytes_emitted, 0);
    pg_atomic_write_u64(&entry->last_commit_lsn, 0);
    pg_atomic_write_u64(&entry->last_commit_at, 0);
    pg_atomic_write_u64(&entry->stats_reset, static_cast<uint64>(now));
}

void shmem_startup()
{
    if (previous_shmem_startup)
        previous_shmem_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    auto *base = static_cast<char *>(ShmemInitStruct(kStateName, add_size(state_size(), slots_size()), &found));
    state = reinterpret_cast<SharedState *>(base);
    slot_entries = reinterpret_cast<SlotEntry *>(base + state_size());
    if (!found) {
        state->lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
        state->next_generation = 1;
        state->tracked_shapes = 0;
        pg_atomic_init_u64(&state->untracked_slots, 0);
        pg_atomic_init_u64(&state->untracked_shapes, 0);
        pg_atomic_init_u64(&state->overflow_reset, static_cast<uint64>(GetCurrentTimestamp()));
        for (int i = 0; i < max_tracked_slots; i++) {
            SlotEntry *entry = &slot_entries[i];
            entry->in_use = false;
            pg_atomic_init_u64(&entry->generation, 0);
            pg_atomic_init_u64(&entry->changes_decoded, 0);
            pg_atomic_init_u64(&entry->changes_emitted, 0);
            pg_atomic_init_u64(&entry->changes_filtered, 0);
            pg_atomic_init_u64(&entry->txns_decoded, 0);
            pg_atomic_init_u64(&entry->txns_emitted, 0);
            pg_atomic_init_u64(&entry->bytes_emitted, 0);
            pg_atomic_init_u64(&entry->spill_baseline, 0);
            pg_atomic_init_u64(&entry->last_commit_lsn, 0);
            pg_atomic_init_u64(&entry->last_commit_at, 0);
            pg_atomic_init_u64(&entry->stats_reset, 0);
        }
    }
    HASHCTL info;
    memset(&info, 0, sizeof(info));
    info.keysize = sizeof(ShapeKey);
    info.entrysize = sizeof(ShapeEntry);
    shape_hash = ShmemInitHash(kHashName, max_tracked_shapes, max_tracked_shapes, &info,
                               HASH_ELEM | HASH_BLOBS);
    LWLockRelease(AddinShmemInitLock);
}

void init_shape_entry(ShapeEntry *entry, uint64 generation)
{
    pg_atomic_init_u64(&entry->generation, generation);
    pg_atomic_init_u64(&entry->inserts, 0);
    pg_atomic_init_u64(&entry->updates, 0);
    pg_atomic_init_u64(&entry->deletes, 0);
    pg_atomic_init_u64(&entry->move_ins, 0);
    pg_atomic_init_u64(&entry->move_outs, 0);
    pg_atomic_init_u64(&entry->must_refetches, 0);
    pg_atomic_init_u64(&entry->filter_errors, 0);
    pg_atomic_init_u64(&entry->bytes, 0);
    pg_atomic_init_u64(&entry->last_lsn, 0);
    pg_atomic_init_u64(&entry->last_emit_at, 0);
}

// Removes the shape entries of one slot (every slot when slot < 0). Lock held exclusively.
void remove_shapes(int slot)
{
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, shape_hash);
    ShapeEntry *entry;
    while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&scan))) != nullptr) {
        if (slot >= 0 && entry->key.slot != slot)
            continue;
        // A decoding process holding this entry sees the generation change and looks again.
        pg_atomic_write_u64(&entry->generation, 0);
        hash_search(shape_hash, &entry->key, HASH_REMOVE, nullptr);
        state->tracked_shapes--;
    }
}

// Frees the entries of slots that no longer exist. Lock held exclusively.
void recycle_dropped_slots()
{
    for (int i = 0; i < max_tracked_slots; i++) {
        SlotEntry *entry = &slot_entries[i];
        if (!entry->in_use || SearchNamedReplicationSlot(NameStr(entry->name), true) != nullptr)
            continue;
        entry->in_use = false;
        pg_atomic_write_u64(&entry->generation, 0);
        remove_shapes(i);
    }
}

// The entry of a slot, created when needed; -1 when the table is full.
int claim_slot(const char *name)
{
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    int free_index = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        for (int i = 0; i < max_tracked_slots; i++) {
            SlotEntry *entry = &slot_entries[i];
            if (entry->in_use && strcmp(NameStr(entry->name), name) == 0) {
                LWLockRelease(state->lock);
                return i;
            }
            if (!entry->in_use && free_index < 0)
                free_index = i;
        }
        if (free_index >= 0)
            break;
        recycle_dropped_slots();
    }
    if (free_index >= 0) {
        SlotEntry *entry = &slot_entries[free_index];
        entry->in_use = true;
        namestrcpy(&entry->name, name);
        pg_atomic_write_u64(&entry->generation, state->next_generation++);
        reset_slot_counters(entry, GetCurrentTimestamp());
    } else {
        pg_atomic_fetch_add_u64(&state->untracked_slots, 1);
    }
    LWLockRelease(state->lock);
    return free_index;
}

struct ShapeRef {
    ShapeEntry *entry;  // nullptr: not claimed yet, or not tracked (generation kUntracked)
    uint64 generation;
};

// The generation of a ShapeRef whose shape found no room: not looked up again in this stream.
constexpr uint64 kUntracked = UINT64_MAX;

// The generation of a ShapeRef whose shape was dropped: not counted again unless re-created.
constexpr uint64 kDropped = UINT64_MAX - 1;

// How many kinds of Emit there are.
constexpr int kEmitKinds = static_cast<int>(Emit::MustRefetch) + 1;

// The hash key of (slot, shape); false for a name too long to be tracked.
bool make_shape_key(int slot, const char *shape, ShapeKey *key)
{
    if (strlen(shape) >= NAMEDATALEN)
        return false;
    memset(key, 0, sizeof(*key));
    key->slot = slot;
    strlcpy(key->name, shape, sizeof(key->name));
    return true;
}

// The entry of (slot, shape), created when needed; entry nullptr when there is no room.
ShapeRef claim_shape(int slot, const char *shape)
{
    ShapeRef ref{nullptr, 0};
    ShapeKey key;
    if (!make_shape_key(slot, shape, &key))
        return ref;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    auto *entry = static_cast<ShapeEntry *>(hash_search(shape_hash, &key, HASH_FIND, nullptr));
    if (entry == nullptr) {
        if (state->tracked_shapes >= max_tracked_shapes)
            recycle_dropped_slots();
        bool found = false;
        if (state->tracked_shapes < max_tracked_shapes)
            entry = static_cast<ShapeEntry *>(hash_search(shape_hash, &key, HASH_ENTER_NULL, &found));
        if (entry != nullptr && !found) {
            init_shape_entry(entry, state->next_generation++);
            state->tracked_shapes++;
        }
    }
    if (entry != nullptr) {
        ref.entry = entry;
        ref.generation = pg_atomic_read_u64(&entry->generation);
    } else {
        pg_atomic_fetch_add_u64(&state->untracked_shapes, 1);
    }
    LWLockRelease(state->lock);
    return ref;
}

// Removes the entry of (slot, shape), if any, making room for another.
void release_shape(int slot, const char *shape)
{
    ShapeKey key;
    if (!make_shape_key(slot, shape, &key))
        return;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    auto *entry = static_cast<ShapeEntry *>(hash_search(shape_hash, &key, HASH_FIND, nullptr));
    if (entry != nullptr) {
        pg_atomic_write_u64(&entry->generation, 0);
        hash_search(shape_hash, &key, HASH_REMOVE, nullptr);
        state->tracked_shapes--;
    }
    LWLockRelease(state->lock);
}

void add(pg_atomic_uint64 *counter, uint64 amount)
{
    pg_atomic_fetch_add_u64(counter, static_cast<int64>(amount));
}

}  // namespace

// One shape's counts in the current stream: its shared entry, and what the transaction being
// decoded has sent it so far, added to the shared entry when the transaction ends.
struct ShapeCounters {
    std::string name;
    ShapeRef ref{nullptr, 0};
    bool pending = false;  // listed in SlotStats::pending
    uint64 counts[kEmitKinds] = {};
    uint64 bytes = 0;
};

// The decoding process's view of its slot: the shared entry and a cache of its shape entries.
struct SlotStats {
    int index = -1;
    SlotEntry *entry = nullptr;
    // Counts of the transaction being decoded, added to shared memory at its end: a few atomic
    // adds per transaction rather than several per change and message.
    uint64 changes_emitted = 0;
    uint64 changes_filtered = 0;
    uint64 bytes_emitted = 0;
    TimestampTz emit_time = 0;  // when the transaction's first message went out; 0 before
    uint64 reset_seen = 0;      // the slot entry's stats_reset when these counts began
    // Node-based, so the ShapeCounters handed out stay where they are for the stream.
    std::unordered_map<std::string, ShapeCounters> shapes;
    std::vector<ShapeCounters *> pending;
};

namespace {

// One per process: a process decodes one slot at a time, and each stream starts with open_slot.
SlotStats *current = nullptr;

// The shared entry of a shape, looked up again when a reset or a recycled entry changed its
// generation; nullptr when it is not tracked.
ShapeEntry *shared_entry(SlotStats *slot, ShapeCounters *shape)
{
    ShapeRef &ref = shape->ref;
    if (ref.entry != nullptr && pg_atomic_read_u64(&ref.entry->generation) == ref.generation)
        return ref.entry;
    if (ref.entry == nullptr && (ref.generation == kUntracked || ref.generation == kDropped))
        return nullptr;
    ref = claim_shape(slot->index, shape->name.c_str());
    if (ref.entry == nullptr)
        ref.generation = kUntracked;  // not tracked for the rest of this stream
    return ref.entry;
}

// Adds a shape's pending counts of the transaction to its shared entry.
void flush_shape(SlotStats *slot, ShapeCounters *shape, XLogRecPtr lsn)
{
    shape->pending = false;
    ShapeEntry *entry = shared_entry(slot, shape);
    uint64 *counts = shape->counts;
    if (entry != nullptr) {
        auto count = [&](Emit kind) { return counts[static_cast<int>(kind)]; };
        add(&entry->inserts, count(Emit::Insert) + count(Emit::MoveIn));
        add(&entry->move_ins, count(Emit::MoveIn));
        add(&entry->updates, count(Emit::Update));
        add(&entry->deletes, count(Emit::Delete) + count(Emit::MoveOut));
        add(&entry->move_outs, count(Emit::MoveOut));
        add(&entry->must_refetches, count(Emit::MustRefetch));
        add(&entry->bytes, shape->bytes);
        if (lsn != InvalidXLogRecPtr)
            pg_atomic_write_u64(&entry->last_lsn, lsn);
        pg_atomic_write_u64(&entry->last_emit_at, static_cast<uint64>(slot->emit_time));
    }
    std::fill(counts, counts + kEmitKinds, 0);
    shape->bytes = 0;
}

// Forgets what the transaction being decoded has counted so far.
void discard_pending(SlotStats *slot) noexcept
{
    for (ShapeCounters *shape : slot->pending) {
        shape->pending = false;
        std::fill(shape->counts, shape->counts + kEmitKinds, 0);
        shape->bytes = 0;
    }
    slot->pending.clear();
    slot->changes_emitted = slot->changes_filtered = slot->bytes_emitted = 0;
}

// Notices a reset_stats of the slot since the counting began: what the transaction counted
// before it belongs before the reset, which cleared such counts, so it is dropped.
void follow_reset(SlotStats *slot) noexcept
{
    uint64 reset = pg_atomic_read_u64(&slot->entry->stats_reset);
    if (reset != slot->reset_seen) {
        discard_pending(slot);
        slot->reset_seen = reset;
    }
}

}  // namespace

SlotStats *open_slot(const char *slot_name)
{
    if (state == nullptr || slot_name == nullptr)
        return nullptr;
    try {
        if (current == nullptr)
            current = new SlotStats();
        current->shapes.clear();
        current->pending.clear();
        current->changes_emitted = current->changes_filtered = current->bytes_emitted = 0;
        current->emit_time = 0;
        current->index = claim_slot(slot_name);
        if (current->index < 0)
            return nullptr;
        current->entry = &slot_entries[current->index];
        current->reset_seen = pg_atomic_read_u64(&current->entry->stats_reset);
        return current;
    } catch (...) {
        return nullptr;
    }
}

ShapeCounters *shape_counters(SlotStats *slot, const std::string &shape)
{
    if (slot == nullptr)
        return nullptr;
    try {
        auto found = slot->shapes.find(shape);
        if (found == slot->shapes.end()) {
            found = slot->shapes.emplace(shape, ShapeCounters()).first;
            found->second.name = shape;
        } else if (found->second.ref.generation == kDropped) {
            found->second.ref = ShapeRef{nullptr, 0};  // created again: counted again
        }
        return &found->second;
    } catch (...) {
        return nullptr;  // statistics never stop a stream
    }
}

void change_decoded(SlotStats *slot, bool emitted)
{
    if (slot == nullptr)
        return;
    follow_reset(slot);
    (emitted ? slot->changes_emitted : slot->changes_filtered)++;
}

void transaction_decoded(SlotStats *slot, bool emitted, XLogRecPtr commit_lsn, TimestampTz commit_time)
{
    if (slot == nullptr)
        return;
    follow_reset(slot);
    add(&slot->entry->changes_decoded, slot->changes_emitted + slot->changes_filtered);
    add(&slot->entry->changes_emitted, slot->changes_emitted);
    add(&slot->entry->changes_filtered, slot->changes_filtered);
    add(&slot->entry->bytes_emitted, slot->bytes_emitted);
    slot->changes_emitted = slot->changes_filtered = slot->bytes_emitted = 0;
    try {
        for (ShapeCounters *shape : slot->pending)
            flush_shape(slot, shape, commit_lsn);
    } catch (...) {
        // Statistics never stop a stream; what was not added is dropped.
    }
    discard_pending(slot);
    slot->emit_time = 0;
    add(&slot->entry->txns_decoded, 1);
    if (emitted)
        add(&slot->entry->txns_emitted, 1);
    pg_atomic_write_u64(&slot->entry->last_commit_lsn, commit_lsn);
    pg_atomic_write_u64(&slot->entry->last_commit_at, static_cast<uint64>(commit_time));
}

void shape_emitted(SlotStats *slot, ShapeCounters *shape, Emit kind, uint64 bytes)
{
    if (slot == nullptr || shape == nullptr)
        return;
    follow_reset(slot);
    if (!shape->pending) {
        try {
            slot->pending.push_back(shape);  // capacity stays from one transaction to the next
        } catch (...) {
            return;  // statistics never stop a stream
        }
        shape->pending = true;
        // The clock is read once per transaction: at its first message.
        if (slot->emit_time == 0)
            slot->emit_time = GetCurrentTimestamp();
    }
    shape->counts[static_cast<int>(kind)]++;
    shape->bytes += bytes;
}

void bytes_emitted(SlotStats *slot, uint64 bytes)
{
    if (slot == nullptr)
        return;
    follow_reset(slot);
    slot->bytes_emitted += bytes;
}

void shape_dropped(SlotStats *slot, const std::string &shape)
{
    if (slot == nullptr)
        return;
    auto found = slot->shapes.find(shape);
    if (found != slot->shapes.end()) {
        ShapeCounters &counters = found->second;
        std::fill(counters.counts, counters.counts + kEmitKinds, 0);
        counters.bytes = 0;
        counters.ref = ShapeRef{nullptr, kDropped};
    }
    release_shape(slot->index, shape.c_str());
}

void filter_error(SlotStats *slot, ShapeCounters *shape)
{
    if (slot == nullptr || shape == nullptr)
        return;
    try {
        if (ShapeEntry *entry = shared_entry(slot, shape))
            add(&entry->filter_errors, 1);
    } catch (...) {
    }
}

// PostgreSQL zeroes the reorder buffer's spill figures each time it reports them to
// pg_stat_replication_slots (at every spill and commit), so the plugin never sees a running total.
// slot_stats.spill_bytes is therefore PostgreSQL's own figure, counted from our last reset
// (spill_baseline); this call stays for the plugin's interface and does nothing.
void spill_bytes(SlotStats *, int64) {}

void init_module()
{
    DefineCustomIntVariable(
        "electric_shapes.health_inactive_slot_error_size",
        "WAL an inactive logical slot may retain before electric_shapes.health reports an error.",
        "Every inactive logical slot is a warning; above this size it is an error. -1 disables the error.",
        &health_inactive_slot_error_mb, 1024, -1, INT_MAX, PGC_SUSET, GUC_UNIT_MB, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable(
        "electric_shapes.health_lag_warning_size",
        "Consumer lag (WAL not yet confirmed by an electric_shapes consumer) that is a warning.",
        "-1 disables the warning.", &health_lag_warning_mb, 256, -1, INT_MAX, PGC_SUSET, GUC_UNIT_MB, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable(
        "electric_shapes.health_lag_error_size",
        "Consumer lag (WAL not yet confirmed by an electric_shapes consumer) that is an error.",
        "-1 disables the error.", &health_lag_error_mb, 2048, -1, INT_MAX, PGC_SUSET, GUC_UNIT_MB, nullptr, nullptr,
        nullptr);
    // The sizes of the shared tables can only be set at server start (PostgreSQL refuses
    // postmaster-level settings defined later), so only a preloaded library has them.
    if (!process_shared_preload_libraries_in_progress)
        return;
    DefineCustomIntVariable(
        "electric_shapes.max_tracked_slots",
        "Replication slots whose statistics electric_shapes keeps in shared memory.",
        "Slots beyond this are decoded as usual but not counted; see electric_shapes.health.",
        &max_tracked_slots, 100, 1, 10000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "electric_shapes.max_tracked_shapes",
        "(slot, shape) pairs whose statistics electric_shapes keeps in shared memory.",
        "Pairs beyond this are decoded as usual but not counted; see electric_shapes.health.",
        &max_tracked_shapes, 10000, 1, 10000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    previous_shmem_request = shmem_request_hook;
    shmem_request_hook = [] { es::guarded([] { shmem_request(); }); };
    previous_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = [] { es::guarded([] { shmem_startup(); }); };
}

namespace {

Datum timestamp_or_null(uint64 value, bool *isnull)
{
    *isnull = value == 0;
    return TimestampTzGetDatum(static_cast<TimestampTz>(value));
}

Datum lsn_or_null(uint64 value, bool *isnull)
{
    *isnull = value == InvalidXLogRecPtr;
    return LSNGetDatum(static_cast<XLogRecPtr>(value));
}

Datum counter(pg_atomic_uint64 *value)
{
    return Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(value)));
}

void recycle_now()
{
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    recycle_dropped_slots();
    LWLockRelease(state->lock);
}

// slot_counters(): one row per tracked slot that exists.
Datum slot_counters_impl(FunctionCallInfo fcinfo)
{
    InitMaterializedSRF(fcinfo, 0);
    if (state == nullptr)
        return (Datum) 0;
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    recycle_now();
    constexpr int kColumns = 11;
    struct Row {
        NameData name;
        Datum values[kColumns];
        bool nulls[kColumns];
    };
    Row *rows = static_cast<Row *>(palloc0(sizeof(Row) * max_tracked_slots));
    int count = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    for (int i = 0; i < max_tracked_slots; i++) {
        SlotEntry *entry = &slot_entries[i];
        if (!entry->in_use)
            continue;
        Row &row = rows[count++];
        row.name = entry->name;
        row.values[1] = counter(&entry->changes_decoded);
        row.values[2] = counter(&entry->changes_emitted);
        row.values[3] = counter(&entry->changes_filtered);
        row.values[4] = counter(&entry->txns_decoded);
        row.values[5] = counter(&entry->txns_emitted);
        row.values[6] = counter(&entry->bytes_emitted);
        row.values[7] = counter(&entry->spill_baseline);
        row.values[8] = lsn_or_null(pg_atomic_read_u64(&entry->last_commit_lsn), &row.nulls[8]);
        row.values[9] = timestamp_or_null(pg_atomic_read_u64(&entry->last_commit_at), &row.nulls[9]);
        row.values[10] = timestamp_or_null(pg_atomic_read_u64(&entry->stats_reset), &row.nulls[10]);
    }
    LWLockRelease(state->lock);
    for (int i = 0; i < count; i++) {
        rows[i].values[0] = CStringGetTextDatum(NameStr(rows[i].name));
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, rows[i].values, rows[i].nulls);
    }
    return (Datum) 0;
}

// shape_counters(): one row per tracked (slot, shape).
Datum shape_counters_impl(FunctionCallInfo fcinfo)
{
    InitMaterializedSRF(fcinfo, 0);
    if (state == nullptr)
        return (Datum) 0;
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    recycle_now();
    constexpr int kColumns = 12;
    struct Row {
        int32 slot;
        char shape[NAMEDATALEN];
        Datum values[kColumns];
        bool nulls[kColumns];
    };
    NameData *slot_names = static_cast<NameData *>(palloc0(sizeof(NameData) * max_tracked_slots));
    LWLockAcquire(state->lock, LW_SHARED);
    for (int i = 0; i < max_tracked_slots; i++)
        if (slot_entries[i].in_use)
            slot_names[i] = slot_entries[i].name;
    int64 capacity = state->tracked_shapes;
    Row *rows = static_cast<Row *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Row) * (capacity + 1)));
    int64 count = 0;
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, shape_hash);
    ShapeEntry *entry;
    while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&scan))) != nullptr) {
        if (count >= capacity) {
            hash_seq_term(&scan);
            break;
        }
        Row &row = rows[count++];
        memset(&row, 0, sizeof(row));
        row.slot = entry->key.slot;
        memcpy(row.shape, entry->key.name, NAMEDATALEN);
        row.values[2] = counter(&entry->inserts);
        row.values[3] = counter(&entry->updates);
        row.values[4] = counter(&entry->deletes);
        row.values[5] = counter(&entry->move_ins);
        row.values[6] = counter(&entry->move_outs);
        row.values[7] = counter(&entry->must_refetches);
        row.values[8] = counter(&entry->filter_errors);
        row.values[9] = counter(&entry->bytes);
        row.values[10] = lsn_or_null(pg_atomic_read_u64(&entry->last_lsn), &row.nulls[10]);
        row.values[11] = timestamp_or_null(pg_atomic_read_u64(&entry->last_emit_at), &row.nulls[11]);
    }
    LWLockRelease(state->lock);
    for (int64 i = 0; i < count; i++) {
        Row &row = rows[i];
        if (row.slot < 0 || row.slot >= max_tracked_slots || NameStr(slot_names[row.slot])[0] == '\0')
            continue;
        row.values[0] = CStringGetTextDatum(NameStr(slot_names[row.slot]));
        row.values[1] = CStringGetTextDatum(row.shape);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row.values, row.nulls);
    }
    return (Datum) 0;
}

// stats_capacity(): whether statistics are on, and how full their tables are.
Datum stats_capacity_impl(FunctionCallInfo fcinfo)
{
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    desc = BlessTupleDesc(desc);
    Datum values[8];
    bool nulls[8] = {false, false, false, false, false, false, false, false};
    values[0] = BoolGetDatum(state != nullptr);
    values[1] = Int32GetDatum(max_tracked_slots);
    values[4] = Int32GetDatum(max_tracked_shapes);
    if (state != nullptr) {
        recycle_now();
        int used = 0;
        LWLockAcquire(state->lock, LW_SHARED);
        for (int i = 0; i < max_tracked_slots; i++)
            used += slot_entries[i].in_use ? 1 : 0;
        values[5] = Int64GetDatum(state->tracked_shapes);
        LWLockRelease(state->lock);
        values[2] = Int32GetDatum(used);
        values[3] = counter(&state->untracked_slots);
        values[6] = counter(&state->untracked_shapes);
        values[7] = TimestampTzGetDatum(static_cast<TimestampTz>(pg_atomic_read_u64(&state->overflow_reset)));
    } else {
        nulls[2] = nulls[3] = nulls[5] = nulls[6] = nulls[7] = true;
    }
    return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

// PostgreSQL's cumulative spilled bytes for a slot (pg_stat_replication_slots.spill_bytes).
uint64 spill_bytes_now(NameData name)
{
    PgStat_StatReplSlotEntry *stats = pgstat_fetch_replslot(name);
    return stats != nullptr && stats->spill_bytes > 0 ? static_cast<uint64>(stats->spill_bytes) : 0;
}

// reset_stats(slot): zeroes one slot's counters and forgets its shapes; every slot when NULL.
Datum reset_stats_impl(FunctionCallInfo fcinfo)
{
    const char *slot = PG_ARGISNULL(0) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (slot != nullptr && SearchNamedReplicationSlot(slot, true) == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("replication slot \"%s\" does not exist", slot),
                        errhint("See pg_replication_slots for the slots there are.")));
    if (state == nullptr) {
        ereport(NOTICE, (errmsg("electric_shapes statistics are off, nothing to reset"),
                         errhint("Add electric_shapes to shared_preload_libraries and restart.")));
        PG_RETURN_VOID();
    }
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    recycle_dropped_slots();
    for (int i = 0; i < max_tracked_slots; i++) {
        SlotEntry *entry = &slot_entries[i];
        if (!entry->in_use || (slot != nullptr && strcmp(NameStr(entry->name), slot) != 0))
            continue;
        reset_slot_counters(entry, now);
        pg_atomic_write_u64(&entry->spill_baseline, spill_bytes_now(entry->name));
        remove_shapes(i);
    }
    if (slot == nullptr) {
        pg_atomic_write_u64(&state->untracked_slots, 0);
        pg_atomic_write_u64(&state->untracked_shapes, 0);
        pg_atomic_write_u64(&state->overflow_reset, static_cast<uint64>(now));
    }
    LWLockRelease(state->lock);
    PG_RETURN_VOID();
}

// True when a library list setting (comma-separated, quoted, paths allowed) names electric_shapes.
bool lists_this_library(const char *setting)
{
    List *entries = NIL;
    if (!SplitDirectoriesString(pstrdup(setting), ',', &entries))
        return false;
    ListCell *cell;
    foreach (cell, entries) {
        const char *entry = static_cast<const char *>(lfirst(cell));
        const char *base = strrchr(entry, '/');
        base = base ? base + 1 : entry;
        if (strcmp(base, "electric_shapes") == 0 || strcmp(base, "electric_shapes.so") == 0)
            return true;
    }
    return false;
}

// health_settings(): what the health view needs from the configuration, readable by any role:
// the electric_shapes.health_* sizes in bytes (NULL when disabled), and whether the library
// lists name electric_shapes (output_plugin_libraries itself only for roles that may read it).
Datum health_settings_impl(FunctionCallInfo fcinfo)
{
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    desc = BlessTupleDesc(desc);
    constexpr int64 kMB = 1024 * 1024;
    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    int sizes[3] = {health_inactive_slot_error_mb, health_lag_warning_mb, health_lag_error_mb};
    for (int i = 0; i < 3; i++) {
        values[i] = Int64GetDatum(sizes[i] * kMB);
        nulls[i] = sizes[i] < 0;
    }
    const char *plugins = GetConfigOption("output_plugin_libraries", true, false);
    bool may_read = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_SETTINGS);
    nulls[3] = plugins == nullptr || !may_read;
    if (!nulls[3])
        values[3] = CStringGetTextDatum(plugins);
    nulls[4] = plugins == nullptr;
    values[4] = BoolGetDatum(plugins != nullptr && lists_this_library(plugins));
    const char *preload = GetConfigOption("shared_preload_libraries", true, false);
    values[5] = BoolGetDatum(preload != nullptr && lists_this_library(preload));
    return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

}  // namespace

}  // namespace es::stats

extern "C" {

PG_FUNCTION_INFO_V1(slot_counters);
// slot_counters(): the plugin's counters per tracked slot (behind the slot_stats view).
Datum slot_counters(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::stats::slot_counters_impl(fcinfo); });
}

PG_FUNCTION_INFO_V1(shape_counters);
// shape_counters(): the plugin's counters per tracked slot and shape (behind shape_stats).
Datum shape_counters(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::stats::shape_counters_impl(fcinfo); });
}

PG_FUNCTION_INFO_V1(stats_capacity);
// stats_capacity(): whether statistics are on and how full their shared tables are.
Datum stats_capacity(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::stats::stats_capacity_impl(fcinfo); });
}

PG_FUNCTION_INFO_V1(reset_stats);
// reset_stats(slot text DEFAULT NULL): clears the counters of one slot, or of all.
Datum reset_stats(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::stats::reset_stats_impl(fcinfo); });
}

PG_FUNCTION_INFO_V1(health_settings);
// health_settings(): the configuration the health view checks, readable by any role.
Datum health_settings(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::stats::health_settings_impl(fcinfo); });
}

}
