// Refuses to drop the extension (or its shape catalog) while a replication slot of this database
// decodes with the electric_shapes plugin.
//
// Why: decoding reads the shape catalog through historic snapshots, as the catalog was when each
// change was made. Dropping the table removes its file at commit, so a slot whose consumer has
// not yet read every change up to and including the drop could never decode them again (the
// slot would fail at every attempt). Consuming the slots first is not enough: the drop itself,
// and whatever commits while it runs, is decoded afterwards. So the drop waits for the slots to
// be gone.
//
// How: an object access hook sees every object a DROP removes, however it was reached (DROP
// EXTENSION, ... CASCADE, DROP SCHEMA electric_shapes CASCADE, DROP OWNED), before it is
// removed. The hook needs the library loaded in the backend that drops; with the library not in
// shared_preload_libraries, the extension's ddl_command_start event trigger on those commands
// calls guard_drop() in this library, which loads it.
#include "electric_shapes/drop_guard.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/shape_catalog.hpp"

extern "C" {
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "replication/slot.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
}

namespace es {

namespace {

constexpr const char *kPlugin = "electric_shapes";

object_access_hook_type previous_hook = nullptr;
bool installed = false;

// The names of this database's slots that decode with the plugin, quoted, comma-separated; the
// number of them in *count.
char *slots_decoding_here(int *count)
{
    StringInfoData names;
    initStringInfo(&names);
    *count = 0;
    LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
    for (int i = 0; i < max_replication_slots; i++) {
        ReplicationSlot *slot = &ReplicationSlotCtl->replication_slots[i];
        if (!slot->in_use)
            continue;
        NameData name, plugin;
        Oid database;
        SpinLockAcquire(&slot->mutex);
        name = slot->data.name;
        plugin = slot->data.plugin;
        database = slot->data.database;
        SpinLockRelease(&slot->mutex);
        if (database != MyDatabaseId || strcmp(NameStr(plugin), kPlugin) != 0)
            continue;
        appendStringInfo(&names, "%s\"%s\"", *count > 0 ? ", " : "", NameStr(name));
        (*count)++;
    }
    LWLockRelease(ReplicationSlotControlLock);
    return names.data;
}

// What is being dropped, when it is the extension or its catalog; NULL otherwise.
const char *guarded_object(Oid class_id, Oid object_id, int sub_id)
{
    if (class_id == ExtensionRelationId && object_id == get_extension_oid(kPlugin, true))
        return "extension";
    // A member of the extension: dropped first, when the extension is.
    if (class_id == RelationRelationId && sub_id == 0 && OidIsValid(object_id) &&
        object_id == catalog::table_oid())
        return "shape catalog";
    return nullptr;
}

void check_drop(Oid class_id, Oid object_id, int sub_id)
{
    if (!guarded_object(class_id, object_id, sub_id))
        return;
    int count;
    char *slots = slots_decoding_here(&count);
    if (count == 0)
        return;
    ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                    errmsg("cannot drop extension electric_shapes while replication slots decode with it"),
                    errdetail_plural("Replication slot %s of this database uses the electric_shapes "
                                     "output plugin, which reads the shape catalog to decode every "
                                     "change made before the drop; it could never decode them again.",
                                     "Replication slots %s of this database use the electric_shapes "
                                     "output plugin, which reads the shape catalog to decode every "
                                     "change made before the drop; they could never decode them again.",
                                     count, slots),
                    errhint("Drop the slots first with pg_drop_replication_slot(), once their "
                            "consumers have read the changes they need.")));
}

void object_access(ObjectAccessType access, Oid class_id, Oid object_id, int sub_id, void *arg)
{
    if (previous_hook)
        previous_hook(access, class_id, object_id, sub_id, arg);
    if (access == OAT_DROP)
        guarded([&] { check_drop(class_id, object_id, sub_id); });
}

}  // namespace

void install_drop_guard()
{
    if (installed)
        return;
    previous_hook = object_access_hook;
    object_access_hook = object_access;
    installed = true;
}

}  // namespace es

extern "C" {

PG_FUNCTION_INFO_V1(guard_drop);
// guard_drop(): the ddl_command_start event trigger of DROP commands. Calling it loads this
// library, whose _PG_init installs the hook that does the checking.
Datum guard_drop(PG_FUNCTION_ARGS)
{
    PG_RETURN_VOID();
}

}
