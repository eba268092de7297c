// Shape validity after schema changes (see shape_validity.hpp).
#include "electric_shapes/shape_validity.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace es {

namespace {

struct VarCheck {
    TupleDesc desc;
    const char *problem;
};

// Finds the first column reference the descriptor no longer matches.
bool check_var(Node *node, void *context)
{
    if (node == nullptr)
        return false;
    auto *check = static_cast<VarCheck *>(context);
    if (IsA(node, Var)) {
        Var *var = reinterpret_cast<Var *>(node);
        if (var->varattno > check->desc->natts ||
            TupleDescAttr(check->desc, var->varattno - 1)->attisdropped) {
            check->problem = "a column its filter reads was dropped";
            return true;
        }
        Form_pg_attribute attr = TupleDescAttr(check->desc, var->varattno - 1);
        if (attr->atttypid != var->vartype || attr->atttypmod != var->vartypmod ||
            attr->attcollation != var->varcollid) {
            check->problem = psprintf("the type of column \"%s\", which its filter reads, changed",
                                      NameStr(attr->attname));
            return true;
        }
        return false;
    }
    return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(check_var)),
                                  context);
}

}  // namespace

const char *shape_problem(TupleDesc desc, const AttrNumber *columns, int column_count, Node *filter)
{
    for (int i = 0; i < column_count; i++) {
        if (columns[i] > desc->natts || TupleDescAttr(desc, columns[i] - 1)->attisdropped)
            return "a column of its projection was dropped";
    }
    VarCheck check{desc, nullptr};
    check_var(filter, &check);
    return check.problem;
}

namespace {

// Marks the key part of a signature: the last occurrence is the key (names are quoted and come
// before it, so none can end the signature with it).
constexpr const char *kKeyMarker = " |key";

}  // namespace

const char *key_problem(const char *signature, const AttrNumber *key, int key_count)
{
    const char *marker = nullptr;
    for (const char *p = strstr(signature, kKeyMarker); p; p = strstr(p + 1, kKeyMarker))
        marker = p;
    if (!marker)
        return nullptr;  // a signature written before keys were recorded: nothing to compare
    if (key_count == 0)
        return "its table's primary key was dropped";
    StringInfoData current;
    initStringInfo(&current);
    appendStringInfoString(&current, kKeyMarker);
    for (int i = 0; i < key_count; i++)
        appendStringInfo(&current, " %d", key[i]);
    if (strcmp(marker, current.data) != 0)
        return "its table's primary key now has other columns";
    return nullptr;
}

bool same_form(const char *before, const char *after)
{
    if (strcmp(before, after) == 0)
        return true;
    size_t length = strlen(before);
    return strstr(before, kKeyMarker) == nullptr && strncmp(before, after, length) == 0 &&
           strncmp(after + length, kKeyMarker, strlen(kKeyMarker)) == 0 &&
           strstr(after + length + 1, kKeyMarker) == nullptr;
}

char *shape_signature(Relation rel, bool all_columns, const AttrNumber *columns, int column_count)
{
    TupleDesc desc = RelationGetDescr(rel);
    Bitmapset *wanted = nullptr;
    for (int i = 0; i < column_count; i++)
        wanted = bms_add_member(wanted, columns[i]);
    StringInfoData key;
    initStringInfo(&key);
    appendStringInfoString(&key, kKeyMarker);
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    if (OidIsValid(pk)) {
        Relation index = RelationIdGetRelation(pk);
        for (int i = 0; i < index->rd_index->indnkeyatts; i++) {
            wanted = bms_add_member(wanted, index->rd_index->indkey.values[i]);
            appendStringInfo(&key, " %d", index->rd_index->indkey.values[i]);
        }
        RelationClose(index);
    }
    StringInfoData signature;
    initStringInfo(&signature);
    appendStringInfoString(&signature,
                           quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                      RelationGetRelationName(rel)));
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (attr->attisdropped || (!all_columns && !bms_is_member(i + 1, wanted)))
            continue;
        appendStringInfo(&signature, " %s %s", quote_identifier(NameStr(attr->attname)),
                         format_type_with_typemod(attr->atttypid, attr->atttypmod));
    }
    // The key's columns, by number: the key of every message is made of their values.
    appendStringInfoString(&signature, key.data);
    return signature.data;
}

}  // namespace es
