// Parsing and checking shape filters (see filter_check.hpp). The allowed node types follow
// PostgreSQL 15's publication row filter rules (check_simple_rowfilter_expr_walker), so that
// whatever passes is safe to evaluate inside a walsender over a decoded tuple.
#include "electric_shapes/filter_check.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_clause.h"
#include "parser/parse_collate.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace es {

namespace {

constexpr const char *kSyntaxHint =
    "Give one boolean SQL expression over the table's columns, as after WHERE.";

// The prefix that turns the clause into a statement the raw parser accepts.
constexpr const char *kStatementPrefix = "SELECT 1 WHERE ";

[[noreturn]] void refuse(const char *what, const char *detail)
{
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s are not allowed in a shape's where_clause", what),
                    detail ? errdetail("%s", detail) : 0,
                    errhint("Use columns, constants, built-in operators and immutable built-in "
                            "functions, enum types and domains over built-in types.")));
    pg_unreachable();
}

// True for built-in types, enums, domains over allowed types and arrays of allowed types.
bool is_allowed_type(Oid type)
{
    if (type < FirstNormalObjectId)
        return true;
    HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tuple))
        return false;
    auto *form = reinterpret_cast<Form_pg_type>(GETSTRUCT(tuple));
    char typtype = form->typtype;
    Oid base = form->typbasetype;
    Oid element = form->typelem;
    bool is_array = form->typcategory == TYPCATEGORY_ARRAY && OidIsValid(element);
    ReleaseSysCache(tuple);
    if (typtype == TYPTYPE_ENUM)
        return true;
    if (typtype == TYPTYPE_DOMAIN)
        return is_allowed_type(base);
    if (is_array)
        return is_allowed_type(element);
    return false;
}

// check_functions_in_node callback: true for functions a filter may not call.
bool is_forbidden_function(Oid function, void *)
{
    return function >= FirstNormalObjectId || func_volatile(function) != PROVOLATILE_IMMUTABLE;
}

// True when any operator of the list is user-defined.
bool has_user_operator(List *operators)
{
    ListCell *cell;
    foreach (cell, operators) {
        if (lfirst_oid(cell) >= FirstNormalObjectId)
            return true;
    }
    return false;
}

// Names the kinds of expression users write most that a filter may not contain.
const char *describe_node(Node *node)
{
    switch (nodeTag(node)) {
    case T_CoerceViaIO:
        return "The expression casts a value through its text form (for example ::text), "
               "which depends on settings.";
    case T_CoerceToDomain:
        return "The expression casts to a domain, which would run its constraints.";
    case T_ArrayCoerceExpr:
        return "The expression casts an array.";
    case T_SubscriptingRef:
        return "The expression subscripts an array or jsonb value; use operators such as -> instead.";
    case T_FieldSelect:
        return "The expression selects a field of a composite value.";
    default:
        return psprintf("The expression contains a node of type %d.", (int) nodeTag(node));
    }
}

// Refuses, with a precise error, any node a shape filter may not contain.
bool check_node(Node *node, void *context)
{
    if (node == nullptr)
        return false;
    check_stack_depth();

    switch (nodeTag(node)) {
    case T_Var: {
        Var *var = reinterpret_cast<Var *>(node);
        if (var->varattno < 0)
            refuse("system columns", nullptr);
        if (var->varattno == 0)
            refuse("whole-row references", nullptr);
        if (var->varlevelsup != 0 || var->varno != 1)
            refuse("references to other relations", nullptr);
        break;
    }
    case T_OpExpr:
    case T_DistinctExpr:
    case T_NullIfExpr:
        if (reinterpret_cast<OpExpr *>(node)->opno >= FirstNormalObjectId)
            refuse("user-defined operators", nullptr);
        break;
    case T_ScalarArrayOpExpr:
        if (reinterpret_cast<ScalarArrayOpExpr *>(node)->opno >= FirstNormalObjectId)
            refuse("user-defined operators", nullptr);
        break;
    case T_RowCompareExpr:
        if (has_user_operator(reinterpret_cast<RowCompareExpr *>(node)->opnos))
            refuse("user-defined operators", nullptr);
        break;
    case T_SubLink:
        refuse("subqueries", nullptr);
    case T_Aggref:
        refuse("aggregate functions", nullptr);
    case T_WindowFunc:
        refuse("window functions", nullptr);
    case T_Param:
        refuse("parameters", nullptr);
    case T_Const:
    case T_FuncExpr:
    case T_BoolExpr:
    case T_RelabelType:
    case T_CollateExpr:
    case T_CaseExpr:
    case T_CaseTestExpr:
    case T_ArrayExpr:
    case T_RowExpr:
    case T_CoalesceExpr:
    case T_MinMaxExpr:
    case T_NullTest:
    case T_BooleanTest:
    case T_List:
        break;
    default:
        refuse("expressions of this kind", describe_node(node));
    }

    if (!IsA(node, List)) {
        if (IsA(node, FuncExpr) && reinterpret_cast<FuncExpr *>(node)->funcretset)
            refuse("set-returning functions", nullptr);
        if (!is_allowed_type(exprType(node)))
            refuse("user-defined types other than enums and domains over built-in types",
                   psprintf("The expression uses type %s.", format_type_be(exprType(node))));
        if (check_functions_in_node(node, is_forbidden_function, nullptr))
            refuse("user-defined functions and functions that are not immutable",
                   "Functions such as now() and random() give different answers over time.");
        if (exprCollation(node) >= FirstNormalObjectId ||
            exprInputCollation(node) >= FirstNormalObjectId)
            refuse("user-defined collations", nullptr);
    }
    return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(check_node)), context);
}

// Parses the clause on its own and returns its raw expression; refuses anything that is not
// exactly one expression (a second statement, ORDER BY, a set operation, ...).
Node *parse_single_expression(const char *where_clause, const char **statement)
{
    *statement = psprintf("%s%s", kStatementPrefix, where_clause);
    List *statements = raw_parser(*statement, RAW_PARSE_DEFAULT);
    SelectStmt *select = nullptr;
    if (list_length(statements) == 1) {
        Node *stmt = linitial_node(RawStmt, statements)->stmt;
        if (IsA(stmt, SelectStmt))
            select = reinterpret_cast<SelectStmt *>(stmt);
    }
    bool single = select && select->op == SETOP_NONE && select->whereClause &&
                  list_length(select->targetList) == 1 && select->fromClause == NIL &&
                  select->distinctClause == NIL && select->intoClause == nullptr &&
                  select->groupClause == NIL && select->havingClause == nullptr &&
                  select->windowClause == NIL && select->valuesLists == NIL &&
                  select->sortClause == NIL && select->limitOffset == nullptr &&
                  select->limitCount == nullptr && select->lockingClause == NIL &&
                  select->withClause == nullptr;
    if (!single)
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                        errmsg("not exactly one SQL expression"),
                        errdetail("Got: %s", where_clause), errhint("%s", kSyntaxHint)));
    return select->whereClause;
}

// Parses and analyzes the clause as PostgreSQL would after WHERE.
Node *analyze_where_clause(Relation relation, const char *where_clause)
{
    const char *statement = nullptr;
    Node *raw = parse_single_expression(where_clause, &statement);

    ParseState *pstate = make_parsestate(nullptr);
    pstate->p_sourcetext = statement;
    ParseNamespaceItem *item = addRangeTableEntryForRelation(pstate, relation, AccessShareLock,
                                                             nullptr, false, false);
    addNSItemToQuery(pstate, item, false, true, true);
    Node *expr = transformWhereClause(pstate, raw, EXPR_KIND_WHERE, "WHERE");
    assign_expr_collations(pstate, expr);
    free_parsestate(pstate);
    return expr;
}

}  // namespace

namespace {

// True for errors that say the statement must stop rather than that the input is wrong: out of
// memory and other resources (53), cancel, timeouts and shutdown (57), system (58) and internal
// (XX) errors. They are raised again unchanged. Program limits (54: a clause nested past the
// stack depth) are the input's: reworded to name the where_clause.
bool is_statement_failure(int sqlerrcode)
{
    int category = ERRCODE_TO_CATEGORY(sqlerrcode);
    return category == ERRCODE_INSUFFICIENT_RESOURCES || category == ERRCODE_OPERATOR_INTERVENTION ||
           category == ERRCODE_SYSTEM_ERROR || category == ERRCODE_INTERNAL_ERROR;
}

// Folds the filter's constant parts as the plugin will when it compiles the filter
// (expression_planner): 1/0, 2147483647 + 1 or sqrt(-1) raise their error here, to the shape's
// creator, instead of in every stream later. Only immutable built-in functions reach this point
// (check_node), and the folded expression is not kept.
void plan_where_clause(Node *expr)
{
    expression_planner(reinterpret_cast<Expr *>(expr));
}

}  // namespace

Node *compile_where_clause(Relation relation, const char *where_clause)
{
    // The parser's and planner's errors point into the wrapped statement, not into anything the
    // user typed: they are raised again with their SQLSTATE, naming the where_clause, without a
    // cursor position. Nothing is survived here (the error is always raised again), so no
    // resource outlives the catch.
    MemoryContext context = CurrentMemoryContext;
    Node *volatile expr = nullptr;
    volatile bool checked = false;
    PG_TRY();
    {
        expr = analyze_where_clause(relation, where_clause);
        check_node(expr, nullptr);
        checked = true;
        plan_where_clause(expr);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *error = CopyErrorData();
        if (is_statement_failure(error->sqlerrcode) || (expr && !checked)) {
            // A refusal of check_node already names the where_clause; the others are not the
            // input's fault.
            FreeErrorData(error);
            PG_RE_THROW();
        }
        FlushErrorState();
        const char *hint = checked ? "The constant parts of a where_clause are computed when the shape "
                                     "is created; change the expression so that they can be."
                                   : (error->hint ? error->hint : kSyntaxHint);
        ereport(ERROR, (errcode(error->sqlerrcode),
                        errmsg("invalid where_clause: %s", error->message),
                        error->detail ? errdetail("%s", error->detail) : 0,
                        errhint("%s", hint)));
    }
    PG_END_TRY();
    return expr;
}

Bitmapset *filter_columns(Node *filter)
{
    Bitmapset *columns = nullptr;
    pull_varattnos(filter, 1, &columns);
    return columns;
}

}  // namespace es
