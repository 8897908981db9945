// walcast.check_snapshot_condition(regclass, text): see snapshot_condition.h.
#include "pg.h"

extern "C" {
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_clause.h"
#include "parser/parse_collate.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/guc.h"
#include "utils/ruleutils.h"
}

#include "snapshot_condition.h"

extern "C" {
PGDLLEXPORT Datum walcast_check_snapshot_condition(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(walcast_check_snapshot_condition);
}

namespace {

[[noreturn]] void refuse(const char *filter, const char *why) {
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("snapshot condition refused: %s", why),
             errdetail("Condition: %s", filter),
             errhint("A snapshot condition may use the table's own columns, constants, "
                     "and built-in immutable functions and operators.")));
}

// The raw parse of `SELECT FROM t WHERE (<filter>)` must be that statement and nothing
// more: the filter cannot close the parenthesis and add clauses, set operations or
// statements.
Node *where_clause_of(const char *sql, const char *filter) {
    List *stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
    if (list_length(stmts) != 1) refuse(filter, "it is not one expression");
    Node *stmt = linitial_node(RawStmt, stmts)->stmt;
    if (!IsA(stmt, SelectStmt)) refuse(filter, "it is not one expression");
    SelectStmt *s = (SelectStmt *)stmt;
    if (s->op != SETOP_NONE || s->distinctClause || s->intoClause || s->targetList ||
        list_length(s->fromClause) != 1 || !s->whereClause || s->groupClause || s->havingClause ||
        s->windowClause || s->valuesLists || s->sortClause || s->limitOffset || s->limitCount ||
        s->lockingClause || s->withClause)
        refuse(filter, "it is not one expression");
    return s->whereClause;
}

bool builtin_immutable_function(Oid funcid) {
    return funcid < FirstNormalObjectId && func_volatile(funcid) == PROVOLATILE_IMMUTABLE;
}

bool builtin_immutable_operator(Oid opno, Oid funcid) {
    return opno < FirstNormalObjectId && builtin_immutable_function(funcid);
}

// Type I/O that a CoerceViaIO runs: both ends built-in and immutable (date and
// timestamptz input depend on session settings, for instance).
bool builtin_immutable_io(Oid from, Oid to) {
    if (from >= FirstNormalObjectId || to >= FirstNormalObjectId) return false;
    Oid output, input, ioparam;
    bool varlena;
    getTypeOutputInfo(from, &output, &varlena);
    getTypeInputInfo(to, &input, &ioparam);
    return builtin_immutable_function(output) && builtin_immutable_function(input);
}

// Parse errors point into the condition, not into the caller's statement (as PL/pgSQL
// reports errors in the expressions it parses).
void condition_error_context(void *arg) {
    const char *sql = (const char *)arg;
    int position = geterrposition();
    if (position > 0) {
        errposition(0);
        internalerrposition(position);
        internalerrquery(sql);
    }
    errcontext("snapshot condition, whose names resolve in pg_catalog only");
}

struct WalkContext {
    const char *filter;
};

bool check_node(Node *node, void *context) {
    if (node == nullptr) return false;
    const char *filter = ((WalkContext *)context)->filter;
    switch (nodeTag(node)) {
        case T_Var: {
            Var *v = (Var *)node;
            if (v->varlevelsup != 0 || v->varno != 1 || v->varattno <= 0)
                refuse(filter, "it names something other than a column of the table");
            break;
        }
        case T_Const:
        case T_BoolExpr:
        case T_NullTest:
        case T_BooleanTest:
        case T_RelabelType:
        case T_CaseExpr:
        case T_CaseWhen:
        case T_CaseTestExpr:
        case T_CoalesceExpr:
        case T_CollateExpr:
        case T_ArrayExpr:
        case T_RowExpr:
        case T_List:
            break;
        case T_FuncExpr:
            if (!builtin_immutable_function(((FuncExpr *)node)->funcid))
                refuse(filter, "it calls a function that is not a built-in immutable one");
            break;
        case T_OpExpr:
        case T_DistinctExpr:
        case T_NullIfExpr: {
            OpExpr *op = (OpExpr *)node;
            set_opfuncid(op);
            if (!builtin_immutable_operator(op->opno, op->opfuncid))
                refuse(filter, "it uses an operator that is not a built-in immutable one");
            break;
        }
        case T_ScalarArrayOpExpr: {
            ScalarArrayOpExpr *op = (ScalarArrayOpExpr *)node;
            set_sa_opfuncid(op);
            if (!builtin_immutable_operator(op->opno, op->opfuncid))
                refuse(filter, "it uses an operator that is not a built-in immutable one");
            break;
        }
        case T_RowCompareExpr: {
            ListCell *cell;
            foreach (cell, ((RowCompareExpr *)node)->opnos) {
                Oid opno = lfirst_oid(cell);
                if (!builtin_immutable_operator(opno, get_opcode(opno)))
                    refuse(filter, "it uses an operator that is not a built-in immutable one");
            }
            break;
        }
        case T_MinMaxExpr:
            if (((MinMaxExpr *)node)->minmaxtype >= FirstNormalObjectId)
                refuse(filter, "it compares values of a type that is not built-in");
            break;
        case T_CoerceViaIO: {
            CoerceViaIO *c = (CoerceViaIO *)node;
            if (!builtin_immutable_io(exprType((Node *)c->arg), c->resulttype))
                refuse(filter,
                       "it converts between types through text in a way that is not "
                       "immutable");
            break;
        }
        case T_ArrayCoerceExpr:
            if (((ArrayCoerceExpr *)node)->resulttype >= FirstNormalObjectId)
                refuse(filter, "it converts to a type that is not built-in");
            break;
        case T_SubLink:
            refuse(filter, "it has a subquery");
        default:
            refuse(filter, "it uses an expression that snapshot conditions do not allow");
    }
    return expression_tree_walker(node, WALCAST_TREE_WALKER(check_node), context);
}

}  // namespace

namespace {

// The condition analysed against rel (its columns as Vars of range table entry 1) and
// checked; raises ERROR saying why it is refused.
Node *analysed_condition(Relation rel, const char *filter) {
    const Oid relid = RelationGetRelid(rel);
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
        aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
    char kind = rel->rd_rel->relkind;
    if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
    // The table is named by the parse state below, not by this text: the statement is
    // parsed only to find where the filter ends.
    char *sql = psprintf("SELECT FROM t WHERE (%s\n)", filter);
    ErrorContextCallback callback;
    callback.callback = condition_error_context;
    callback.arg = sql;
    callback.previous = error_context_stack;
    error_context_stack = &callback;
    // Names resolve in pg_catalog only (pg_temp, after it, is searched for no function
    // or operator): a user's function or operator in another schema, even a better match
    // for the argument types, is never what the condition names. Wherever the condition
    // is checked or applied, it means the same built-ins. (An error unwinds the setting
    // with the transaction.)
    const int guc_level = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    Node *where = where_clause_of(sql, filter);

    ParseState *pstate = make_parsestate(nullptr);
    pstate->p_sourcetext = sql;
    ParseNamespaceItem *item =
        addRangeTableEntryForRelation(pstate, rel, AccessShareLock, nullptr, false, true);
    addNSItemToQuery(pstate, item, false, true, true);
    Node *expr = transformWhereClause(pstate, where, EXPR_KIND_WHERE, "WHERE");
    assign_expr_collations(pstate, expr);  // as analysis of a whole query would
    AtEOXact_GUC(true, guc_level);
    error_context_stack = callback.previous;
    if (list_length(pstate->p_rtable) != 1 || pstate->p_hasSubLinks)
        refuse(filter, "it reads another relation");
    WalkContext context{filter};
    check_node(expr, &context);
    free_parsestate(pstate);
    return expr;
}

}  // namespace

char *snapshot_condition_check(Oid relid, const char *filter) {
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
        aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
    Relation rel = table_open(relid, AccessShareLock);
    Node *expr = analysed_condition(rel, filter);
    char *out = deparse_expression(expr, deparse_context_for(RelationGetRelationName(rel), relid),
                                   false, false);
    table_close(rel, NoLock);
    return out;
}

ExprState *snapshot_condition_compile(Relation rel, const char *filter) {
    Expr *expr = expression_planner((Expr *)analysed_condition(rel, filter));
    return ExecInitQual(list_make1(expr), nullptr);
}

extern "C" Datum walcast_check_snapshot_condition(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text(
        snapshot_condition_check(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)))));
}
