// shape_access(relation, where_clause, columns): may the current user (role and claims, as
// authenticate sets them) sync this shape? "Yes" only when every row the shape can ever hold is a
// row that user may read, whatever is written to the table later; otherwise the answer says why,
// and what the user would be allowed (SPEC section 9). The sync service asks it, as the user,
// before it serves a shape to a request that carries a token.
//
// The answer is decided from the analysed filter, the tree create_shape stores, never from the
// clause's text: an OR, a cast or a comment cannot dress up a filter that lets other rows in. A
// top-level AND conjunct "column = constant" or "column IN (constants)" bounds every row of the
// shape; nothing else is relied on. The table's policies are read the same way, from their
// trees: only the permissive SELECT policies enable_owner_rls and enable_membership_rls write
// are understood (owner column = the sub claim; key column IN the keys the sub claim is a member
// of), a restrictive policy or a table whose rows no understood policy grants is refused. A
// table without row-level security for the role needs its SELECT privilege, which every case
// needs anyway.
//
// It runs as the caller (no SECURITY DEFINER): the membership rows are read with the user's own
// privileges and policies, exactly as the membership policy's subquery reads them when the user
// queries the table; a user who cannot see a membership row is not granted the shape.
#include "electric_shapes/filter_check.hpp"
#include "electric_shapes/pg_boundary.hpp"
#include "electric_shapes/pinned_gucs.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "rewrite/rowsecurity.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

namespace es {

namespace {

constexpr const char *kOwnerPolicy = "electric_shapes_owner_select";
constexpr const char *kMemberPolicy = "electric_shapes_member_select";

// What the policies of the relation let this shape through with, and why not.
struct Verdict {
    bool allowed = false;
    StringInfoData reason;
    StringInfoData hint;
    List *depends_on = NIL;  // membership relations read (Oid)
};

void add_text(StringInfo to, const char *text)
{
    if (to->len > 0)
        appendStringInfoString(to, "; ");
    appendStringInfoString(to, text);
}

// The column a (possibly relabelled) expression reads at the top query level, or null.
Var *plain_column(Node *node)
{
    while (node && IsA(node, RelabelType))
        node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
    if (node && IsA(node, Var)) {
        Var *var = reinterpret_cast<Var *>(node);
        if (var->varattno > 0 && var->varlevelsup == 0 && var->varno == 1)
            return var;
    }
    return nullptr;
}

// True when opno is an equality: the "=" of a btree or hash operator family for these inputs.
bool is_equality(Oid opno, Oid left_type)
{
    return OidIsValid(opno) && (op_mergejoinable(opno, left_type) || op_hashjoinable(opno, left_type));
}

// The oid of electric_shapes.user_id().
Oid user_id_function()
{
    List *name = list_make2(makeString(pstrdup("electric_shapes")), makeString(pstrdup("user_id")));
    return LookupFuncName(name, 0, nullptr, true);
}

bool calls_function(Node *node, void *function)
{
    if (node == nullptr)
        return false;
    if (IsA(node, FuncExpr) && reinterpret_cast<FuncExpr *>(node)->funcid == *static_cast<Oid *>(function))
        return true;
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node),
                                 reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(calls_function)),
                                 function, 0);
    return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(calls_function)),
                                  function);
}

// True for "(SELECT electric_shapes.user_id()[::type])": the right-hand side the helpers write
// (rls_user_id_expression), a subquery of no table whose one column is the sub claim.
bool is_user_id(Node *node)
{
    while (node && IsA(node, RelabelType))
        node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
    if (!node || !IsA(node, SubLink))
        return false;
    SubLink *link = reinterpret_cast<SubLink *>(node);
    if (link->subLinkType != EXPR_SUBLINK || !IsA(link->subselect, Query))
        return false;
    Query *query = reinterpret_cast<Query *>(link->subselect);
    if (query->rtable != NIL || list_length(query->targetList) != 1 || query->jointree->quals)
        return false;
    Node *expr = reinterpret_cast<Node *>(linitial_node(TargetEntry, query->targetList)->expr);
    Oid function = user_id_function();
    return OidIsValid(function) && calls_function(expr, &function);
}

// The types a user id column may have (rls_user_id_expression): strings, uuid and integers.
bool user_id_type(Oid type)
{
    type = getBaseType(type);
    if (type == UUIDOID || type == INT2OID || type == INT4OID || type == INT8OID)
        return true;
    char category;
    bool preferred;
    get_type_category_preferred(type, &category, &preferred);
    return category == TYPCATEGORY_STRING;
}

// "owner = (SELECT user_id())": the owner column, or 0.
AttrNumber owner_policy_column(Node *qual)
{
    if (!qual || !IsA(qual, OpExpr))
        return InvalidAttrNumber;
    OpExpr *op = reinterpret_cast<OpExpr *>(qual);
    if (list_length(op->args) != 2)
        return InvalidAttrNumber;
    Var *owner = plain_column(static_cast<Node *>(linitial(op->args)));
    if (!owner || !is_equality(op->opno, exprType(static_cast<Node *>(linitial(op->args)))) ||
        !is_user_id(static_cast<Node *>(lsecond(op->args))) || !user_id_type(owner->vartype))
        return InvalidAttrNumber;
    return owner->varattno;
}

struct MembershipPolicy {
    AttrNumber key = InvalidAttrNumber;  // of the shaped table
    Oid membership = InvalidOid;
    AttrNumber membership_key = InvalidAttrNumber;
    AttrNumber member = InvalidAttrNumber;
    Oid member_type = InvalidOid;
};

// "key IN (SELECT m.mkey FROM membership m WHERE m.member = (SELECT user_id()))".
bool membership_policy(Node *qual, MembershipPolicy *policy)
{
    if (!qual || !IsA(qual, SubLink))
        return false;
    SubLink *link = reinterpret_cast<SubLink *>(qual);
    if (link->subLinkType != ANY_SUBLINK || !link->testexpr || !IsA(link->testexpr, OpExpr) ||
        !IsA(link->subselect, Query))
        return false;
    OpExpr *test = reinterpret_cast<OpExpr *>(link->testexpr);
    if (list_length(test->args) != 2)
        return false;
    Var *key = plain_column(static_cast<Node *>(linitial(test->args)));
    if (!key || !is_equality(test->opno, exprType(static_cast<Node *>(linitial(test->args)))))
        return false;
    Query *query = reinterpret_cast<Query *>(link->subselect);
    if (list_length(query->rtable) != 1 || list_length(query->targetList) != 1 || !query->jointree ||
        list_length(query->jointree->fromlist) != 1 || query->hasAggs || query->groupClause ||
        query->havingQual || query->limitCount || query->setOperations)
        return false;
    RangeTblEntry *rte = linitial_node(RangeTblEntry, query->rtable);
    if (rte->rtekind != RTE_RELATION)
        return false;
    Var *mkey = plain_column(reinterpret_cast<Node *>(linitial_node(TargetEntry, query->targetList)->expr));
    Node *where = query->jointree->quals;
    if (!mkey || !where || !IsA(where, OpExpr))
        return false;
    OpExpr *member_test = reinterpret_cast<OpExpr *>(where);
    if (list_length(member_test->args) != 2)
        return false;
    Var *member = plain_column(static_cast<Node *>(linitial(member_test->args)));
    if (!member || !is_equality(member_test->opno, exprType(static_cast<Node *>(linitial(member_test->args)))) ||
        !is_user_id(static_cast<Node *>(lsecond(member_test->args))) || !user_id_type(member->vartype))
        return false;
    policy->key = key->varattno;
    policy->membership = rte->relid;
    policy->membership_key = mkey->varattno;
    policy->member = member->varattno;
    policy->member_type = getBaseType(member->vartype);
    return true;
}

// The constants a top-level AND conjunct of the filter pins column to: column = c, c = column
// or column IN (c1, ...), with an equality operator. Null constants are left out (they equal
// nothing). False when no conjunct pins the column.
bool pinned_values(Node *filter, AttrNumber column, List **values)
{
    if (!filter)
        return false;
    ListCell *cell;
    foreach (cell, make_ands_implicit(reinterpret_cast<Expr *>(filter))) {
        Node *term = static_cast<Node *>(lfirst(cell));
        if (IsA(term, OpExpr)) {
            OpExpr *op = reinterpret_cast<OpExpr *>(term);
            if (list_length(op->args) != 2)
                continue;
            Node *left = static_cast<Node *>(linitial(op->args));
            Node *right = static_cast<Node *>(lsecond(op->args));
            Oid opno = op->opno;
            if (IsA(left, Const)) {
                std::swap(left, right);
                opno = get_commutator(opno);
            }
            Var *var = plain_column(left);
            if (!var || var->varattno != column || !IsA(right, Const) || !is_equality(opno, exprType(left)))
                continue;
            *values = NIL;
            Const *value = reinterpret_cast<Const *>(right);
            if (!value->constisnull)
                *values = lappend(*values, value);
            return true;
        }
        if (IsA(term, ScalarArrayOpExpr)) {
            ScalarArrayOpExpr *op = reinterpret_cast<ScalarArrayOpExpr *>(term);
            if (!op->useOr || list_length(op->args) != 2)
                continue;
            Node *left = static_cast<Node *>(linitial(op->args));
            Node *right = static_cast<Node *>(lsecond(op->args));
            Var *var = plain_column(left);
            if (!var || var->varattno != column || !is_equality(op->opno, exprType(left)) || !IsA(right, Const))
                continue;
            Const *array = reinterpret_cast<Const *>(right);
            Oid element_type = get_element_type(array->consttype);
            if (array->constisnull || !OidIsValid(element_type))
                continue;
            int16 typlen;
            bool typbyval;
            char typalign;
            get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
            Datum *elements;
            bool *nulls;
            int count;
            deconstruct_array(DatumGetArrayTypeP(array->constvalue), element_type, typlen, typbyval, typalign,
                              &elements, &nulls, &count);
            *values = NIL;
            for (int i = 0; i < count; i++)
                if (!nulls[i])
                    *values = lappend(*values, makeConst(element_type, -1, array->constcollid, typlen,
                                                         elements[i], false, typbyval));
            return true;
        }
    }
    return false;
}

// The text of a constant. Only compared with the sub claim for the types a user id can have
// (strings, uuid, integers), whose text does not depend on any setting; elsewhere it is only
// quoted in messages.
char *constant_text(Const *value)
{
    Oid output;
    bool varlena;
    getTypeOutputInfo(value->consttype, &output, &varlena);
    return OidOutputFunctionCall(output, value->constvalue);
}

// Whether the user, with the privileges and policies of the current role, is listed in the
// membership relation as a member of key (the membership policy's subquery, for one key).
bool is_member(const MembershipPolicy &policy, Const *key)
{
    Oid member_base = policy.member_type;
    const char *user_id = (member_base == UUIDOID || member_base == INT2OID || member_base == INT4OID ||
                           member_base == INT8OID)
                              ? psprintf("electric_shapes.user_id()::%s", format_type_be_qualified(member_base))
                              : "electric_shapes.user_id()";
    char *sql = psprintf(
        "SELECT FROM %s m WHERE m.%s OPERATOR(pg_catalog.=) $1 AND m.%s OPERATOR(pg_catalog.=) %s LIMIT 1",
        quote_qualified_identifier(get_namespace_name(get_rel_namespace(policy.membership)),
                                   get_rel_name(policy.membership)),
        quote_identifier(get_attname(policy.membership, policy.membership_key, false)),
        quote_identifier(get_attname(policy.membership, policy.member, false)), user_id);
    Oid types[] = {key->consttype};
    Datum values[] = {key->constvalue};
    int level = pin_search_path();
    int rc = SPI_execute_with_args(sql, 1, types, values, nullptr, false, 1);
    release_pinned(level);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "SPI_execute_with_args failed: %d", rc);
    return SPI_processed > 0;
}

const char *relation_text(Oid relid)
{
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

// The owner policy: every row of the shape must have the user as its owner.
void judge_owner(Relation rel, Node *filter, AttrNumber owner, const char *sub, Verdict *verdict)
{
    const char *column = quote_identifier(get_attname(RelationGetRelid(rel), owner, false));
    const char *table = relation_text(RelationGetRelid(rel));
    List *values = NIL;
    if (!pinned_values(filter, owner, &values)) {
        add_text(&verdict->reason,
                 psprintf("the where clause does not pin %s (the owner column of %s) to your user id", column,
                          table));
    } else {
        const char *other = nullptr;
        ListCell *cell;
        foreach (cell, values) {
            char *text = constant_text(lfirst_node(Const, cell));
            if (strcmp(text, sub) != 0) {
                other = text;
                break;
            }
        }
        if (!other) {
            verdict->allowed = true;
            return;
        }
        add_text(&verdict->reason, psprintf("the where clause pins %s to %s, not to your user id %s", column,
                                            quote_literal_cstr(other), quote_literal_cstr(sub)));
    }
    add_text(&verdict->hint, psprintf("Rows of %s are yours where %s = %s: add \"%s = %s\" to the where clause.",
                                      table, column, quote_literal_cstr(sub), column, quote_literal_cstr(sub)));
}

// The membership policy: every key the shape pins must be one the user is a member of.
void judge_membership(Relation rel, Node *filter, const MembershipPolicy &policy, Verdict *verdict)
{
    const char *column = quote_identifier(get_attname(RelationGetRelid(rel), policy.key, false));
    const char *table = relation_text(RelationGetRelid(rel));
    const char *membership = relation_text(policy.membership);
    const char *mkey = quote_identifier(get_attname(policy.membership, policy.membership_key, false));
    const char *member = quote_identifier(get_attname(policy.membership, policy.member, false));
    verdict->depends_on = list_append_unique_oid(verdict->depends_on, policy.membership);
    List *values = NIL;
    bool pinned = pinned_values(filter, policy.key, &values);
    if (!pinned) {
        add_text(&verdict->reason,
                 psprintf("the where clause does not pin %s of %s with = or IN to keys you are a member of",
                          column, table));
    } else {
        ListCell *cell;
        bool all = true;
        foreach (cell, values) {
            Const *key = lfirst_node(Const, cell);
            if (!is_member(policy, key)) {
                add_text(&verdict->reason, psprintf("you are not a member of %s %s (no row of %s has %s = %s and "
                                                    "%s = your user id)",
                                                    column, quote_literal_cstr(constant_text(key)), membership,
                                                    mkey, quote_literal_cstr(constant_text(key)), member));
                all = false;
                break;
            }
        }
        if (all) {
            verdict->allowed = true;
            return;
        }
    }
    add_text(&verdict->hint,
             psprintf("Rows of %s are yours where %s is one of your keys: add \"%s = <key>\" or \"%s IN (<keys>)\" "
                      "to the where clause, with keys from SELECT %s FROM %s WHERE %s = <your user id>.",
                      table, column, column, column, mkey, membership, member));
}

// True when role is PUBLIC or one whose privileges the current user has.
bool policy_applies(ArrayType *roles)
{
    Oid *role = reinterpret_cast<Oid *>(ARR_DATA_PTR(roles));
    int count = ARR_DIMS(roles)[0];
    for (int i = 0; i < count; i++)
        if (role[i] == ACL_ID_PUBLIC || has_privs_of_role(GetUserId(), role[i]))
            return true;
    return false;
}

// The columns a shape reads: its projection (every column when null), its filter's and its key.
bool may_select(Relation rel, ArrayType *columns, Node *filter, StringInfo missing)
{
    Oid relid = RelationGetRelid(rel);
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
        return true;
    // Attribute numbers offset by FirstLowInvalidHeapAttributeNumber, as pull_varattnos gives.
    constexpr int kOffset = FirstLowInvalidHeapAttributeNumber;
    Bitmapset *read = nullptr;
    TupleDesc desc = RelationGetDescr(rel);
    if (columns) {
        Datum *names;
        bool *nulls;
        int count;
        deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &count);
        for (int i = 0; i < count; i++)
            read = bms_add_member(read, get_attnum(relid, TextDatumGetCString(names[i])) - kOffset);
    } else {
        for (int i = 0; i < desc->natts; i++)
            if (!TupleDescAttr(desc, i)->attisdropped)
                read = bms_add_member(read, TupleDescAttr(desc, i)->attnum - kOffset);
    }
    pull_varattnos(filter, 1, &read);
    read = bms_add_members(read, RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY));
    int member = -1;
    while ((member = bms_next_member(read, member)) >= 0) {
        AttrNumber attnum = member + kOffset;
        if (attnum <= 0)
            continue;
        if (pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK) {
            appendStringInfoString(missing, quote_identifier(get_attname(relid, attnum, false)));
            return false;
        }
    }
    return true;
}

// Checks the column list as create_shape does: each a column of the table.
void check_columns(Relation rel, ArrayType *columns)
{
    if (!columns)
        return;
    Datum *names;
    bool *nulls;
    int count;
    deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &count);
    for (int i = 0; i < count; i++) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("columns must not contain null"),
                            errhint("Pass NULL instead of the array for every column.")));
        char *name = TextDatumGetCString(names[i]);
        if (get_attnum(RelationGetRelid(rel), name) <= 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("column \"%s\" of relation \"%s\" does not exist", name,
                                   RelationGetRelationName(rel)),
                            errhint("columns lists columns of %s.", relation_text(RelationGetRelid(rel)))));
    }
}

Datum shape_access_impl(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("relation must not be null")));
    Oid relid = PG_GETARG_OID(0);
    char *where_clause = PG_ARGISNULL(1) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(1));
    ArrayType *columns = PG_ARGISNULL(2) ? nullptr : PG_GETARG_ARRAYTYPE_P(2);

    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "shape_access must return a record");
    result_desc = BlessTupleDesc(result_desc);

    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
    Relation rel = table_open(relid, AccessShareLock);
    char kind = rel->rd_rel->relkind;
    if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
                        errhint("Shapes are defined on ordinary or partitioned tables.")));
    check_columns(rel, columns);
    if (where_clause && where_clause[strspn(where_clause, " \t\r\n")] == '\0')
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("where_clause is empty"),
                        errhint("Pass NULL for a shape of every row.")));
    // The clause is checked as create_shape checks it, then its constant parts are folded as the
    // stream folds them, so that '4'::int8 or 2 + 2 are constants like 4.
    Node *filter = where_clause ? compile_where_clause(rel, where_clause) : nullptr;
    if (filter)
        filter = reinterpret_cast<Node *>(expression_planner(reinterpret_cast<Expr *>(filter)));

    Verdict verdict;
    initStringInfo(&verdict.reason);
    initStringInfo(&verdict.hint);
    const char *role = GetUserNameFromId(GetUserId(), false);
    const char *table = relation_text(relid);
    StringInfoData missing;
    initStringInfo(&missing);
    if (!may_select(rel, columns, filter, &missing)) {
        appendStringInfo(&verdict.reason, "role %s may not read %s of %s", quote_identifier(role),
                         missing.len ? psprintf("column %s", missing.data) : "the rows", table);
        appendStringInfo(&verdict.hint, "The table's owner can GRANT SELECT ON %s TO %s.", table,
                         quote_identifier(role));
    } else if (check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED) {
        verdict.allowed = true;
        appendStringInfo(&verdict.reason, "row-level security does not apply to role %s on %s, which it may read",
                         quote_identifier(role), table);
    } else {
        // Claims as the policies read them: user_id() is the sub claim of request.jwt.claims.
        char *sub = nullptr;
        {
            // The sub claim as the policies read it: through electric_shapes.user_id().
            Oid function = user_id_function();
            if (OidIsValid(function)) {
                LOCAL_FCINFO(call, 0);
                InitFunctionCallInfoData(*call, nullptr, 0, InvalidOid, nullptr, nullptr);
                FmgrInfo info;
                fmgr_info(function, &info);
                call->flinfo = &info;
                Datum result = FunctionCallInvoke(call);
                if (!call->isnull)
                    sub = TextDatumGetCString(result);
            }
        }
        bool understood = false;
        bool restrictive = false;
        ListCell *cell;
        RowSecurityDesc *policies = rel->rd_rsdesc;
        if (policies)
            foreach (cell, policies->policies) {
                RowSecurityPolicy *policy = static_cast<RowSecurityPolicy *>(lfirst(cell));
                if ((policy->polcmd != ACL_SELECT_CHR && policy->polcmd != '*') || !policy_applies(policy->roles))
                    continue;
                if (!policy->permissive) {
                    add_text(&verdict.reason,
                             psprintf("%s has the restrictive policy %s, which may hide rows of any shape", table,
                                      quote_identifier(policy->policy_name)));
                    restrictive = true;
                    continue;
                }
                MembershipPolicy membership;
                if (strcmp(policy->policy_name, kOwnerPolicy) == 0) {
                    AttrNumber owner = owner_policy_column(reinterpret_cast<Node *>(policy->qual));
                    if (owner == InvalidAttrNumber)
                        continue;
                    understood = true;
                    if (sub)
                        judge_owner(rel, filter, owner, sub, &verdict);
                } else if (strcmp(policy->policy_name, kMemberPolicy) == 0 &&
                           membership_policy(reinterpret_cast<Node *>(policy->qual), &membership)) {
                    understood = true;
                    if (sub) {
                        if (SPI_connect() != SPI_OK_CONNECT)
                            elog(ERROR, "SPI_connect failed");
                        judge_membership(rel, filter, membership, &verdict);
                        SPI_finish();
                    } else {
                        verdict.depends_on = list_append_unique_oid(verdict.depends_on, membership.membership);
                    }
                }
            }
        if (restrictive) {
            verdict.allowed = false;
            resetStringInfo(&verdict.hint);
            appendStringInfoString(&verdict.hint,
                                   "Only the permissive policies of electric_shapes.enable_owner_rls and "
                                   "enable_membership_rls are understood; a shape of a table with a restrictive "
                                   "policy must come through a trusted proxy.");
        } else if (!understood) {
            resetStringInfo(&verdict.reason);
            appendStringInfo(&verdict.reason,
                             "%s has row-level security for role %s, but no policy of "
                             "electric_shapes.enable_owner_rls or enable_membership_rls",
                             table, quote_identifier(role));
            appendStringInfoString(&verdict.hint,
                                   "Protect the table with electric_shapes.enable_owner_rls or "
                                   "enable_membership_rls, or serve its shapes through a trusted proxy.");
        } else if (!sub) {
            verdict.allowed = false;
            resetStringInfo(&verdict.reason);
            resetStringInfo(&verdict.hint);
            appendStringInfoString(&verdict.reason, "no user: request.jwt.claims has no sub claim");
            appendStringInfoString(&verdict.hint,
                                   "Call electric_shapes.authenticate(token, secret) first, in the same transaction.");
        }
        if (verdict.allowed) {
            resetStringInfo(&verdict.reason);
            resetStringInfo(&verdict.hint);
            appendStringInfo(&verdict.reason, "every row of the shape is a row of %s that user %s may read",
                             table, quote_literal_cstr(sub));
        }
    }
    table_close(rel, NoLock);

    Datum values[4];
    bool nulls[4] = {false, false, verdict.hint.len == 0, false};
    values[0] = BoolGetDatum(verdict.allowed);
    values[1] = CStringGetTextDatum(verdict.reason.data);
    values[2] = verdict.hint.len ? CStringGetTextDatum(verdict.hint.data) : (Datum) 0;
    int count = list_length(verdict.depends_on);
    Datum *depends = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
    int i = 0;
    ListCell *dep;
    foreach (dep, verdict.depends_on)
        depends[i++] = ObjectIdGetDatum(lfirst_oid(dep));
    values[3] = PointerGetDatum(construct_array(depends, count, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT));
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc, values, nulls)));
}

}  // namespace

}  // namespace es

extern "C" {

PG_FUNCTION_INFO_V1(shape_access);
// shape_access(relation, where_clause, columns): whether the current user may sync the shape.
Datum shape_access(PG_FUNCTION_ARGS)
{
    return es::guarded([&] { return es::shape_access_impl(fcinfo); });
}

}
