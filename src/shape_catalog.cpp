// Finding the shapes catalog table (see shape_catalog.hpp).
#include "electric_shapes/shape_catalog.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "catalog/pg_collation.h"
}

namespace es::catalog {

Oid table_oid()
{
    Oid schema = get_namespace_oid(kSchema, true);
    if (!OidIsValid(schema))
        return InvalidOid;
    return get_relname_relid(kTable, schema);
}

Oid parts_table_oid()
{
    Oid schema = get_namespace_oid(kSchema, true);
    if (!OidIsValid(schema))
        return InvalidOid;
    return get_relname_relid(kPartsTable, schema);
}

bool still_exists(Oid catalog)
{
    // Read pg_class as it is now, not through the historic snapshot decoding runs in: that one
    // still shows a catalog dropped since, whose file is gone.
    ::Relation pg_class = table_open(RelationRelationId, AccessShareLock);  // not Column::Relation
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(catalog));
    SysScanDesc scan = systable_beginscan(pg_class, ClassOidIndexId, true,
                                          GetNonHistoricCatalogSnapshot(RelationRelationId), 1, &key);
    bool exists = HeapTupleIsValid(systable_getnext(scan));
    systable_endscan(scan);
    table_close(pg_class, AccessShareLock);
    return exists;
}

// A piece's row: a tuple header, the name (at most 64 bytes, with its header), two integers and
// the chunk's header, with room to spare for alignment.
static_assert(kPartBytes + 128 < TOAST_TUPLE_TARGET_MAIN,
              "a piece of a shape's definition must stay in its row uncompressed");

bool is_stored_apart(Datum stored_apart, int16 column)
{
    Datum *numbers;
    bool *nulls;
    int count;
    deconstruct_array(DatumGetArrayTypeP(stored_apart), INT2OID, sizeof(int16), true,
                      TYPALIGN_SHORT, &numbers, &nulls, &count);
    for (int i = 0; i < count; i++)
        if (!nulls[i] && DatumGetInt16(numbers[i]) == column)
            return true;
    return false;
}

bool index_readable(::Relation index)
{
    if (!HistoricSnapshotActive())
        return true;
    ::Relation pg_class = table_open(RelationRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(RelationGetRelid(index)));
    SysScanDesc scan = systable_beginscan(pg_class, ClassOidIndexId, true,
                                          GetNonHistoricCatalogSnapshot(RelationRelationId), 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    bool same_file = HeapTupleIsValid(tuple) &&
                     reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relfilenode == index->rd_node.relNode;
    systable_endscan(scan);
    table_close(pg_class, AccessShareLock);
    return same_file;
}

namespace {

// One piece of a value, copied out of its buffer.
struct Piece {
    int32 number;
    bytea *chunk;
};

int compare_pieces(const void *a, const void *b)
{
    int32 left = static_cast<const Piece *>(a)->number;
    int32 right = static_cast<const Piece *>(b)->number;
    return left < right ? -1 : left > right ? 1 : 0;
}

}  // namespace

text *read_apart(const char *name, int16 column, Snapshot snapshot)
{
    Oid parts_oid = parts_table_oid();
    if (!OidIsValid(parts_oid))
        elog(ERROR, "relation %s.%s does not exist", kSchema, kPartsTable);
    ::Relation parts = table_open(parts_oid, AccessShareLock);  // not Column::Relation
    TupleDesc desc = RelationGetDescr(parts);
    // The primary key (name, field, part) finds the pieces in order, searched in the index's
    // collation (a btree is searched in the order it was built in). When the index cannot be
    // read (index_readable) the table is, and the pieces are put in order here.
    Oid index_oid = RelationGetPrimaryKeyIndex(parts);
    bool use_index = false;
    Oid collation = DEFAULT_COLLATION_OID;
    if (OidIsValid(index_oid)) {
        ::Relation index = index_open(index_oid, AccessShareLock);
        use_index = index_readable(index);
        collation = index->rd_indcollation[0];
        index_close(index, AccessShareLock);
    }
    ScanKeyData keys[2];
    ScanKeyEntryInitialize(&keys[0], 0, PartName, BTEqualStrategyNumber, InvalidOid, collation,
                           F_TEXTEQ, CStringGetTextDatum(name));
    ScanKeyInit(&keys[1], PartField, BTEqualStrategyNumber, F_INT2EQ, Int16GetDatum(column));
    SysScanDesc scan = systable_beginscan(parts, index_oid, use_index, snapshot, 2, keys);
    int capacity = 16;
    int count = 0;
    auto *pieces = static_cast<Piece *>(palloc(sizeof(Piece) * capacity));
    HeapTuple tuple;
    while ((tuple = systable_getnext(scan)) != nullptr) {
        if (count == capacity) {
            capacity *= 2;
            pieces = static_cast<Piece *>(repalloc(pieces, sizeof(Piece) * capacity));
        }
        bool isnull;
        pieces[count].number = DatumGetInt32(heap_getattr(tuple, PartNumber, desc, &isnull));
        pieces[count].chunk = DatumGetByteaPCopy(heap_getattr(tuple, PartChunk, desc, &isnull));
        count++;
    }
    systable_endscan(scan);
    table_close(parts, AccessShareLock);
    if (!use_index)
        qsort(pieces, count, sizeof(Piece), compare_pieces);

    StringInfoData value;
    initStringInfo(&value);
    appendStringInfoSpaces(&value, VARHDRSZ);
    for (int i = 0; i <= count; i++) {
        if (i == count ? count == 0 : pieces[i].number != i)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("part %d of column %d of shape \"%s\" is missing from %s.%s", i,
                                   column, name, kSchema, kPartsTable)));
        if (i == count)
            break;
        appendBinaryStringInfo(&value, VARDATA(pieces[i].chunk), VARSIZE(pieces[i].chunk) - VARHDRSZ);
        pfree(pieces[i].chunk);
    }
    pfree(pieces);
    SET_VARSIZE(value.data, value.len);
    return reinterpret_cast<text *>(value.data);
}

}  // namespace es::catalog
