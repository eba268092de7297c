// The SQL API that defines shapes: create_shape and drop_shape (SPEC section 2). Every check
// happens here, as the caller; only the final catalog write runs as the catalog's owner, so the
// catalog changes through this API alone.
#include "electric_shapes/filter_check.hpp"
#include "electric_shapes/index_term.hpp"
#include "electric_shapes/shape_validity.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/pinned_gucs.hpp"
#include "electric_shapes/pure/shape_name.hpp"
#include "electric_shapes/shape_catalog.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace es {

namespace {

// The text of a non-null text argument, or an error naming the argument.
char *required_text(FunctionCallInfo fcinfo, int argno, const char *argument)
{
    if (PG_ARGISNULL(argno))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not be null", argument)));
    return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

// Checks a shape name against the naming rule.
void check_shape_name(const char *name)
{
    if (!is_valid_shape_name(name))
        ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("invalid shape name \"%s\"", name),
                        errhint("A shape name is 1 to %d characters of letters, digits, '_' and '-'.",
                                (int) kMaxShapeNameLength)));
}

// Refuses relations whose changes are never decoded or that cannot key a shape.
void check_relation(Relation rel)
{
    const char *name = RelationGetRelationName(rel);
    char kind = rel->rd_rel->relkind;
    if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a table", name),
                        errhint("Shapes are defined on ordinary or partitioned tables; views, "
                                "materialized views and foreign tables have no changes to stream.")));
    if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is a temporary table", name),
                        errhint("Temporary tables are not logically decoded; use a permanent table.")));
    if (rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is an unlogged table", name),
                        errhint("Unlogged tables are not logically decoded; run ALTER TABLE %s SET LOGGED.",
                                quote_identifier(name))));
    if (IsCatalogRelation(rel) || RelationIsUsedAsCatalogTable(rel))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is a catalog table", name),
                        errhint("Shapes are defined on application tables.")));
    if (!OidIsValid(RelationGetPrimaryKeyIndex(rel)))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("table \"%s\" has no primary key", name),
                        errhint("Shape rows are keyed by the primary key; add one with ALTER TABLE %s "
                                "ADD PRIMARY KEY (...).", quote_identifier(name))));
}

// Checks the projection (every name a column of rel, none repeated, none null) and returns it
// as attribute numbers in table order.
ArrayType *column_numbers(Relation rel, ArrayType *columns)
{
    Datum *names;
    bool *nulls;
    int count;
    deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &count);
    Bitmapset *seen = nullptr;
    for (int i = 0; i < count; i++) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("columns must not contain null")));
        char *column = TextDatumGetCString(names[i]);
        AttrNumber attnum = get_attnum(RelationGetRelid(rel), column);
        if (attnum <= 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("column \"%s\" of relation \"%s\" does not exist", column,
                                   RelationGetRelationName(rel)),
                            errhint("List columns of the table; system columns cannot be projected.")));
        if (bms_is_member(attnum, seen))
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_COLUMN),
                            errmsg("column \"%s\" is listed more than once in columns", column)));
        seen = bms_add_member(seen, attnum);
    }
    Datum *numbers = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
    int n = 0;
    int member = -1;
    while ((member = bms_next_member(seen, member)) >= 0)
        numbers[n++] = Int16GetDatum(static_cast<int16>(member));
    return construct_array(numbers, n, INT2OID, sizeof(int16), true, TYPALIGN_SHORT);
}

// True when the filter reads a column the replica identity does not log in old rows.
bool filter_needs_full_identity(Relation rel, Node *filter)
{
    if (filter == nullptr)
        return false;
    Bitmapset *identity = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_IDENTITY_KEY);
    return !bms_is_subset(filter_columns(filter), identity);
}

// Gives the table, and each of its partitions, REPLICA IDENTITY FULL when the shape needs it and
// the caller owns them (PostgreSQL decodes partitions, and ALTER TABLE on a partitioned table
// does not reach them). The tables must not be open in this backend.
void ensure_replica_identity(Oid relid, bool needs_full)
{
    if (!needs_full)
        return;
    List *tables = find_all_inheritors(relid, AccessShareLock, nullptr);
    ListCell *cell;
    foreach (cell, tables) {
        Oid table = lfirst_oid(cell);
        if (get_rel_relkind(table) == RELKIND_FOREIGN_TABLE)
            continue;
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
        if (!HeapTupleIsValid(tuple))
            continue;
        char replident = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relreplident;
        ReleaseSysCache(tuple);
        if (replident == REPLICA_IDENTITY_FULL)
            continue;
        const char *qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)),
                                                           get_rel_name(table));
        if (!pg_class_ownercheck(table, GetUserId()))
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("shape needs table %s to have REPLICA IDENTITY FULL", qualified),
                            errdetail("Its filter reads columns outside the replica identity, or its "
                                      "replica mode is full, so old rows must be logged whole."),
                            errhint("Ask the table's owner to run ALTER TABLE %s REPLICA IDENTITY FULL.",
                                    qualified)));
        const char *command = psprintf("ALTER TABLE ONLY %s REPLICA IDENTITY FULL", qualified);
        int nest_level = pin_search_path();  // the caller's rights, but our statement text
        if (SPI_execute(command, false, 0) != SPI_OK_UTILITY)
            elog(ERROR, "could not set the replica identity of %s", qualified);
        release_pinned(nest_level);
        ereport(NOTICE, (errmsg("table %s now has REPLICA IDENTITY FULL", qualified),
                         errdetail("The shape's filter or replica mode needs whole old rows in the WAL.")));
    }
}

// The catalog's owner, as whom the catalog is written.
Oid catalog_owner(Oid catalog)
{
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(catalog));
    if (!HeapTupleIsValid(tuple))
        elog(ERROR, "cache lookup failed for relation %u", catalog);
    Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
}

// The catalog's OID; an error when the extension is missing from this database.
Oid require_catalog()
{
    Oid catalog = catalog::table_oid();
    if (!OidIsValid(catalog))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("extension \"electric_shapes\" is not installed in this database"),
                        errhint("Run CREATE EXTENSION electric_shapes.")));
    return catalog;
}

// Runs a catalog statement through SPI as the catalog's owner; returns SPI_processed.
//
// Changing the user changes who runs the statement, not how its names resolve: parsed under the
// caller's search_path, an unqualified operator in it could be one the caller created, and would
// then run with the owner's rights. So the statement is parsed and run with search_path pinned to
// pg_catalog (and its operators are written OPERATOR(pg_catalog.x) as well), and as a
// security-restricted operation, as PostgreSQL runs maintenance as a table's owner.
uint64 run_as_catalog_owner(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
                            int expected)
{
    Oid owner = catalog_owner(require_catalog());
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    int nest_level = pin_search_path();
    SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE |
                                      SECURITY_RESTRICTED_OPERATION);
    int result = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
    SetUserIdAndSecContext(saved_user, saved_context);
    release_pinned(nest_level);
    if (result != expected)
        elog(ERROR, "shape catalog statement failed: %s", SPI_result_code_string(result));
    return SPI_processed;
}

// The signature of a shape with this projection (NULL: every column) on rel.
char *signature_of(Relation rel, ArrayType *columns)
{
    Datum *numbers = nullptr;
    int count = 0;
    if (columns)
        deconstruct_array(columns, INT2OID, sizeof(int16), true, TYPALIGN_SHORT, &numbers, nullptr, &count);
    AttrNumber *attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * (count + 1)));
    for (int i = 0; i < count; i++)
        attnums[i] = DatumGetInt16(numbers[i]);
    return shape_signature(rel, columns == nullptr, attnums, count);
}

// Refuses a shape whose catalog row did not fit in a page even compressed: decoding reads the
// catalog through historic snapshots, which PostgreSQL does not protect TOAST chunks for. The
// large values of a definition are kept apart (store_apart), so only a table name and projected
// column names together longer than a page come here.
void refuse_out_of_line_values(const char *name)
{
    Oid types[] = {TEXTOID};
    Datum values[] = {CStringGetTextDatum(name)};
    run_as_catalog_owner("SELECT where_clause, filter_node, index_values, signature "
                         "FROM electric_shapes.shape_catalog WHERE name OPERATOR(pg_catalog.=) $1",
                         1, types, values, nullptr, SPI_OK_SELECT);
    for (int column = 1; SPI_processed == 1 && column <= 4; column++) {
        bool isnull;
        Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
        if (!isnull && VARATT_IS_EXTERNAL(DatumGetPointer(value)))
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("the definition of shape \"%s\" is too large", name),
                            errdetail("The table's name and the names of the shape's columns, "
                                      "compressed, must fit in one catalog row of at most 8 kB."),
                            errhint("Project fewer columns, or give them shorter names.")));
    }
}

// A definition whose where_clause, analyzed expression and index constants together take more
// than this (uncompressed) keeps the larger of them apart, in shape_catalog_parts; smaller ones
// stay in the catalog row, as one read.
constexpr size_t kInRowBytes = 6000;
constexpr size_t kApartAbove = 1024;

// Stores the text of a shape's value for a catalog column in shape_catalog_parts, in pieces that
// each stay in their row (see the table's comment in the extension script).
void store_apart(const char *name, int16 column, const char *data, size_t length)
{
    int count = static_cast<int>((length + catalog::kPartBytes - 1) / catalog::kPartBytes);
    Datum *chunks = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, 1)));
    for (int i = 0; i < count; i++) {
        size_t offset = static_cast<size_t>(i) * catalog::kPartBytes;
        size_t size = Min(static_cast<size_t>(catalog::kPartBytes), length - offset);
        bytea *chunk = static_cast<bytea *>(palloc(VARHDRSZ + size));
        SET_VARSIZE(chunk, VARHDRSZ + size);
        memcpy(VARDATA(chunk), data + offset, size);
        chunks[i] = PointerGetDatum(chunk);
    }
    ArrayType *array = construct_array(chunks, count, BYTEAOID, -1, false, TYPALIGN_INT);
    Oid types[] = {TEXTOID, INT2OID, BYTEAARRAYOID};
    Datum values[] = {CStringGetTextDatum(name), Int16GetDatum(column), PointerGetDatum(array)};
    run_as_catalog_owner("INSERT INTO electric_shapes.shape_catalog_parts (name, field, part, chunk) "
                         "SELECT $1, $2, (u.n OPERATOR(pg_catalog.-) 1)::pg_catalog.int4, u.chunk "
                         "FROM pg_catalog.unnest($3) WITH ORDINALITY AS u(chunk, n)",
                         3, types, values, nullptr, SPI_OK_INSERT);
}

// Refuses a where_clause longer than the limit, before parsing it.
void check_where_clause_length(const char *name, const char *where_clause)
{
    size_t length = strlen(where_clause);
    if (length > static_cast<size_t>(catalog::kMaxWhereClauseBytes))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("where_clause of shape \"%s\" is too long", name),
                        errdetail("It has %zu bytes; the limit is %d bytes (1 MB).", length,
                                  catalog::kMaxWhereClauseBytes),
                        errhint("Split the shape into several, or filter on a column that groups "
                                "the rows: column IN (...) with many constants is indexed.")));
}

// True when a shape of that name exists.
bool shape_exists(const char *name)
{
    Oid types[] = {TEXTOID};
    Datum values[] = {CStringGetTextDatum(name)};
    return run_as_catalog_owner("SELECT 1 FROM electric_shapes.shape_catalog "
                                "WHERE name OPERATOR(pg_catalog.=) $1",
                                1, types, values, nullptr, SPI_OK_SELECT) > 0;
}

Datum create_shape_impl(FunctionCallInfo fcinfo)
{
    char *name = required_text(fcinfo, 0, "name");
    check_shape_name(name);
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("relation must not be null")));
    Oid relid = PG_GETARG_OID(1);
    char *where_clause = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
    ArrayType *column_names = PG_ARGISNULL(3) ? nullptr : PG_GETARG_ARRAYTYPE_P(3);
    char *replica = PG_ARGISNULL(4) ? pstrdup("default") : text_to_cstring(PG_GETARG_TEXT_PP(4));
    if (strcmp(replica, "default") != 0 && strcmp(replica, "full") != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid replica mode \"%s\"", replica),
                        errhint("Valid replica modes are \"default\" and \"full\".")));

    AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
    if (acl != ACLCHECK_OK)
        aclcheck_error(acl, get_relkind_objtype(get_rel_relkind(relid)), get_rel_name(relid));

    Relation rel = table_open(relid, AccessShareLock);
    check_relation(rel);
    ArrayType *columns = column_names ? column_numbers(rel, column_names) : nullptr;
    if (where_clause && where_clause[strspn(where_clause, " \t\r\n")] == '\0')
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("where_clause is empty"),
                        errhint("Pass NULL for a shape of every row.")));
    if (where_clause)
        check_where_clause_length(name, where_clause);
    Node *filter = where_clause ? compile_where_clause(rel, where_clause) : nullptr;
    bool needs_full = strcmp(replica, "full") == 0 || filter_needs_full_identity(rel, filter);
    char *signature = signature_of(rel, columns);
    table_close(rel, NoLock);  // keeps the lock until the transaction ends

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    if (shape_exists(name))
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                        errmsg("shape \"%s\" already exists", name),
                        errhint("Drop it first with electric_shapes.drop_shape('%s').", name)));
    ensure_replica_identity(relid, needs_full);

    // The stream finds the index term again in filter_node, whose constants it hashes as they
    // are (index_column only tells it to look); the other index columns are for people reading
    // the catalog.
    IndexTerm key;
    bool indexed = find_index_term(filter, &key);
    char *filter_text = filter ? nodeToString(filter) : nullptr;
    ArrayType *index_values = indexed ? index_values_text(key) : nullptr;

    // The large values go apart, written before the catalog row: the stream reads them when it
    // decodes that row, through the snapshot of that moment.
    size_t where_size = where_clause ? strlen(where_clause) : 0;
    size_t filter_size = filter_text ? strlen(filter_text) : 0;
    size_t index_size = index_values ? VARSIZE(index_values) : 0;
    bool apart_where = false, apart_filter = false, apart_index = false;
    if (where_size + filter_size + index_size > kInRowBytes) {
        apart_where = where_size > kApartAbove;
        apart_filter = filter_size > kApartAbove;
        apart_index = index_size > kApartAbove;
    }
    if ((apart_where || apart_filter || apart_index) && !OidIsValid(catalog::parts_table_oid()))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("the definition of shape \"%s\" is too large for this version of the "
                               "extension's catalog", name),
                        errdetail("The library keeps large definitions in the table "
                                  "electric_shapes.%s, which the installed extension lacks.",
                                  catalog::kPartsTable),
                        errhint("Run ALTER EXTENSION electric_shapes UPDATE.")));
    Datum apart[3];
    int apart_count = 0;
    if (apart_where) {
        store_apart(name, catalog::WhereClause, where_clause, where_size);
        apart[apart_count++] = Int16GetDatum(catalog::WhereClause);
    }
    if (apart_filter) {
        store_apart(name, catalog::FilterNode, filter_text, filter_size);
        apart[apart_count++] = Int16GetDatum(catalog::FilterNode);
    }
    if (apart_index) {
        // Kept as its text, which is all anyone reads it for.
        char *index_text = OidOutputFunctionCall(F_ARRAY_OUT, PointerGetDatum(index_values));
        store_apart(name, catalog::IndexValues, index_text, strlen(index_text));
        apart[apart_count++] = Int16GetDatum(catalog::IndexValues);
    }
    ArrayType *stored_apart =
        apart_count > 0 ? construct_array(apart, apart_count, INT2OID, sizeof(int16), true, TYPALIGN_SHORT)
                        : nullptr;

    Oid types[] = {TEXTOID, OIDOID, TEXTOID, TEXTOID, INT2ARRAYOID, TEXTOID, OIDOID, BOOLOID, TEXTOID,
                   INT2OID, OIDOID, OIDOID, TEXTARRAYOID, INT2ARRAYOID};
    Datum values[] = {
        CStringGetTextDatum(name),
        ObjectIdGetDatum(relid),
        where_clause && !apart_where ? CStringGetTextDatum(where_clause) : (Datum) 0,
        filter_text && !apart_filter ? CStringGetTextDatum(filter_text) : (Datum) 0,
        columns ? PointerGetDatum(columns) : (Datum) 0,
        CStringGetTextDatum(replica),
        ObjectIdGetDatum(GetUserId()),
        BoolGetDatum(needs_full),
        CStringGetTextDatum(signature),
        Int16GetDatum(key.column),
        ObjectIdGetDatum(key.equality),
        ObjectIdGetDatum(key.collation),
        index_values && !apart_index ? PointerGetDatum(index_values) : (Datum) 0,
        stored_apart ? PointerGetDatum(stored_apart) : (Datum) 0,
    };
    char index_null = indexed ? ' ' : 'n';
    char nulls[] = {' ', ' ', where_clause && !apart_where ? ' ' : 'n', filter_text && !apart_filter ? ' ' : 'n',
                    columns ? ' ' : 'n', ' ', ' ', ' ', ' ', index_null, index_null, index_null,
                    index_values && !apart_index ? ' ' : 'n', stored_apart ? ' ' : 'n'};
    // stored_apart is named only when set, so that a definition that fits is also written into a
    // catalog of version 0.1.0, which lacks that column, until the extension is updated.
    run_as_catalog_owner(stored_apart
                             ? "INSERT INTO electric_shapes.shape_catalog (name, relation, where_clause, "
                               "filter_node, column_numbers, replica, owner, needs_full_identity, "
                               "signature, index_column, index_operator, index_collation, index_values, "
                               "stored_apart) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                             : "INSERT INTO electric_shapes.shape_catalog (name, relation, where_clause, "
                               "filter_node, column_numbers, replica, owner, needs_full_identity, "
                               "signature, index_column, index_operator, index_collation, index_values) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                         stored_apart ? 14 : 13, types, values, nulls, SPI_OK_INSERT);
    refuse_out_of_line_values(name);
    SPI_finish();
    PG_RETURN_VOID();
}

Datum drop_shape_impl(FunctionCallInfo fcinfo)
{
    char *name = required_text(fcinfo, 0, "name");
    bool if_exists = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");

    Oid types[] = {TEXTOID};
    Datum values[] = {CStringGetTextDatum(name)};
    run_as_catalog_owner("SELECT owner, relation FROM electric_shapes.shape_catalog "
                         "WHERE name OPERATOR(pg_catalog.=) $1",
                         1, types, values, nullptr, SPI_OK_SELECT);
    if (SPI_processed == 0) {
        SPI_finish();
        if (!if_exists)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                            errmsg("shape \"%s\" does not exist", name),
                            errhint("See the electric_shapes.shapes view for the shapes there are.")));
        ereport(NOTICE, (errmsg("shape \"%s\" does not exist, skipping", name)));
        PG_RETURN_VOID();
    }
    bool isnull;
    Oid owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    Oid relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    if (!has_privs_of_role(GetUserId(), owner) && !pg_class_ownercheck(relid, GetUserId()))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to drop shape \"%s\"", name),
                        errhint("Only the shape's creator or the table's owner may drop it.")));
    run_as_catalog_owner("DELETE FROM electric_shapes.shape_catalog WHERE name OPERATOR(pg_catalog.=) $1",
                         1, types, values, nullptr, SPI_OK_DELETE);
    if (OidIsValid(catalog::parts_table_oid()))  // absent from a catalog of version 0.1.0
        run_as_catalog_owner("DELETE FROM electric_shapes.shape_catalog_parts "
                             "WHERE name OPERATOR(pg_catalog.=) $1",
                             1, types, values, nullptr, SPI_OK_DELETE);
    SPI_finish();
    PG_RETURN_VOID();
}

Datum check_shapes_impl(FunctionCallInfo fcinfo)
{
    Oid relid = PG_GETARG_OID(0);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Oid types[] = {OIDOID};
    Datum values[] = {ObjectIdGetDatum(relid)};
    // A filter kept apart is read back from its pieces (a catalog of version 0.1.0 has none).
    bool has_parts = OidIsValid(catalog::parts_table_oid());
    run_as_catalog_owner(has_parts
                             ? "SELECT c.name, c.column_numbers, "
                               "COALESCE(c.filter_node, "
                               "(SELECT pg_catalog.convert_from(pg_catalog.string_agg(p.chunk, "
                               "''::pg_catalog.bytea ORDER BY p.part), pg_catalog.getdatabaseencoding()) "
                               "FROM electric_shapes.shape_catalog_parts p "
                               "WHERE p.name OPERATOR(pg_catalog.=) c.name "
                               "AND p.field OPERATOR(pg_catalog.=) 4)), c.signature "
                               "FROM electric_shapes.shape_catalog c "
                               "WHERE c.relation OPERATOR(pg_catalog.=) $1 AND c.broken IS NULL "
                               "ORDER BY c.name"
                             : "SELECT c.name, c.column_numbers, c.filter_node, c.signature "
                               "FROM electric_shapes.shape_catalog c "
                               "WHERE c.relation OPERATOR(pg_catalog.=) $1 AND c.broken IS NULL "
                               "ORDER BY c.name",
                         1, types, values, nullptr, SPI_OK_SELECT);
    SPITupleTable *shapes = SPI_tuptable;
    uint64 count = SPI_processed;
    Relation rel = try_table_open(relid, AccessShareLock);
    if (!rel) {
        SPI_finish();
        PG_RETURN_VOID();
    }
    // The table's primary key now, which every shape's messages are keyed by.
    AttrNumber *key = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * (INDEX_MAX_KEYS + 1)));
    int key_count = 0;
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    if (OidIsValid(pk)) {
        Relation index = RelationIdGetRelation(pk);
        for (int j = 0; j < index->rd_index->indnkeyatts; j++)
            key[key_count++] = index->rd_index->indkey.values[j];
        RelationClose(index);
    }
    for (uint64 i = 0; i < count; i++) {
        HeapTuple row = shapes->vals[i];
        bool null_columns, null_filter, isnull;
        Datum name = SPI_getbinval(row, shapes->tupdesc, 1, &isnull);
        Datum columns = SPI_getbinval(row, shapes->tupdesc, 2, &null_columns);
        Datum filter = SPI_getbinval(row, shapes->tupdesc, 3, &null_filter);
        char *stored_signature = TextDatumGetCString(SPI_getbinval(row, shapes->tupdesc, 4, &isnull));
        Datum *numbers = nullptr;
        int number_count = 0;
        if (!null_columns)
            deconstruct_array(DatumGetArrayTypeP(columns), INT2OID, sizeof(int16), true,
                              TYPALIGN_SHORT, &numbers, nullptr, &number_count);
        AttrNumber *attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * (number_count + 1)));
        for (int j = 0; j < number_count; j++)
            attnums[j] = DatumGetInt16(numbers[j]);
        Node *node = null_filter ? nullptr : static_cast<Node *>(stringToNode(TextDatumGetCString(filter)));
        const char *problem = shape_problem(RelationGetDescr(rel), attnums, number_count, node);
        if (!problem)
            problem = key_problem(stored_signature, key, key_count);
        Oid update_types[] = {TEXTOID, TEXTOID};
        if (problem) {
            Datum update_values[] = {name, CStringGetTextDatum(problem)};
            run_as_catalog_owner("UPDATE electric_shapes.shape_catalog SET broken = $2 "
                                 "WHERE name OPERATOR(pg_catalog.=) $1",
                                 2, update_types, update_values, nullptr, SPI_OK_UPDATE);
            ereport(WARNING, (errmsg("shape \"%s\" can no longer be honoured: %s",
                                     TextDatumGetCString(name), problem),
                              errhint("Its consumers get must-refetch; drop the shape and create it "
                                      "again for the table's new definition.")));
            continue;
        }
        char *signature = shape_signature(rel, null_columns, attnums, number_count);
        if (strcmp(signature, stored_signature) != 0) {
            Datum update_values[] = {name, CStringGetTextDatum(signature)};
            run_as_catalog_owner("UPDATE electric_shapes.shape_catalog SET signature = $2 "
                                 "WHERE name OPERATOR(pg_catalog.=) $1",
                                 2, update_types, update_values, nullptr, SPI_OK_UPDATE);
        }
    }
    table_close(rel, AccessShareLock);
    SPI_finish();
    PG_RETURN_VOID();
}

}  // namespace

}  // namespace es

extern "C" {

PG_FUNCTION_INFO_V1(check_shapes);
// check_shapes(relation): marks the shapes of a table that its definition no longer honours.
Datum check_shapes(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::check_shapes_impl(fcinfo); });
}


PG_FUNCTION_INFO_V1(create_shape);
// create_shape(name, relation, where_clause, columns, replica): defines a shape.
Datum create_shape(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::create_shape_impl(fcinfo); });
}

PG_FUNCTION_INFO_V1(drop_shape);
// drop_shape(name, if_exists): drops a shape.
Datum drop_shape(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::drop_shape_impl(fcinfo); });
}

}
