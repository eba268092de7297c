// Finding the indexable equality term of an analyzed shape filter (see index_term.hpp).
#include "electric_shapes/index_term.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

namespace es {

namespace {

// The column a (possibly relabelled) expression reads, or null.
Var *plain_column(Node *node)
{
    while (node && IsA(node, RelabelType))
        node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
    if (node && IsA(node, Var) && reinterpret_cast<Var *>(node)->varattno > 0)
        return reinterpret_cast<Var *>(node);
    return nullptr;
}

// Adds a constant to the term's values (NULL never equals anything: skipped).
void add_value(IndexTerm *term, Const *constant)
{
    if (!constant->constisnull)
        term->values = lappend(term->values, constant);
}

// Records the column side of a term.
void set_column(IndexTerm *term, Var *column, Oid equality, Oid collation)
{
    term->column = column->varattno;
    term->column_type = column->vartype;
    term->equality = equality;
    term->collation = collation;
}

// Recognises column = constant and constant = column with a hashable equality.
bool equality_term(OpExpr *op, IndexTerm *term)
{
    if (list_length(op->args) != 2)
        return false;
    Node *left = static_cast<Node *>(linitial(op->args));
    Node *right = static_cast<Node *>(lsecond(op->args));
    Oid equality = op->opno;
    if (IsA(left, Const) && plain_column(right)) {
        std::swap(left, right);
        equality = get_commutator(equality);
    }
    Var *column = plain_column(left);
    if (!column || !IsA(right, Const) || !OidIsValid(equality) ||
        !op_hashjoinable(equality, exprType(left)))
        return false;
    set_column(term, column, equality, op->inputcollid);
    add_value(term, reinterpret_cast<Const *>(right));
    return true;
}

// Recognises column IN (constants), i.e. column = ANY (constant array), with a hashable equality.
bool in_list_term(ScalarArrayOpExpr *op, IndexTerm *term)
{
    if (!op->useOr || list_length(op->args) != 2)
        return false;
    Node *left = static_cast<Node *>(linitial(op->args));
    Node *right = static_cast<Node *>(lsecond(op->args));
    Var *column = plain_column(left);
    if (!column || !op_hashjoinable(op->opno, exprType(left)))
        return false;
    if (IsA(right, Const)) {
        Const *array = reinterpret_cast<Const *>(right);
        if (array->constisnull)
            return false;
        Oid element_type = get_element_type(array->consttype);
        if (!OidIsValid(element_type))
            return false;
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
        Datum *elements;
        bool *nulls;
        int count;
        deconstruct_array(DatumGetArrayTypeP(array->constvalue), element_type, typlen, typbyval,
                          typalign, &elements, &nulls, &count);
        for (int i = 0; i < count; i++)
            add_value(term, makeConst(element_type, -1, array->constcollid, typlen, elements[i],
                                      nulls[i], typbyval));
    } else if (IsA(right, ArrayExpr)) {
        ListCell *cell;
        foreach (cell, reinterpret_cast<ArrayExpr *>(right)->elements) {
            if (!IsA(lfirst(cell), Const)) {
                term->values = NIL;
                return false;
            }
            add_value(term, lfirst_node(Const, cell));
        }
    } else {
        return false;
    }
    set_column(term, column, op->opno, op->inputcollid);
    return true;
}

// Recognises one indexable term.
bool indexable_term(Node *node, IndexTerm *term)
{
    if (IsA(node, OpExpr))
        return equality_term(reinterpret_cast<OpExpr *>(node), term);
    if (IsA(node, ScalarArrayOpExpr))
        return in_list_term(reinterpret_cast<ScalarArrayOpExpr *>(node), term);
    return false;
}

}  // namespace

bool find_index_term(Node *filter, IndexTerm *term)
{
    if (!filter)
        return false;
    if (IsA(filter, BoolExpr) && reinterpret_cast<BoolExpr *>(filter)->boolop == AND_EXPR) {
        ListCell *cell;
        foreach (cell, reinterpret_cast<BoolExpr *>(filter)->args) {
            *term = IndexTerm();
            if (indexable_term(static_cast<Node *>(lfirst(cell)), term))
                return true;
        }
        return false;
    }
    *term = IndexTerm();
    return indexable_term(filter, term);
}

ArrayType *index_values_text(const IndexTerm &term)
{
    // Set as a function's SET clause would be: undone below, or by the abort of the transaction
    // if printing fails.
    int nest_level = NewGUCNestLevel();
    const char *settings[][2] = {{"datestyle", "ISO, YMD"},   {"intervalstyle", "iso_8601"},
                                 {"extra_float_digits", "1"}, {"timezone", "UTC"},
                                 {"bytea_output", "hex"}};
    for (const auto &setting : settings)
        (void) set_config_option(setting[0], setting[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                 true, 0, false);
    Datum *texts = static_cast<Datum *>(palloc(sizeof(Datum) * (list_length(term.values) + 1)));
    int count = 0;
    ListCell *cell;
    foreach (cell, term.values) {
        Const *constant = lfirst_node(Const, cell);
        Oid output;
        bool is_varlena;
        getTypeOutputInfo(constant->consttype, &output, &is_varlena);
        texts[count++] = CStringGetTextDatum(OidOutputFunctionCall(output, constant->constvalue));
    }
    AtEOXact_GUC(true, nest_level);
    return construct_array(texts, count, TEXTOID, -1, false, TYPALIGN_INT);
}

}  // namespace es
