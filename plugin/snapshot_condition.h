// Conditions of incremental snapshots (Debezium's additional-conditions): a WHERE clause
// of one table that the sidecar adds to its chunk query, run by the sidecar's role. It is
// accepted only when it is an expression over the table's own columns, constants, and
// built-in immutable functions and operators: nothing it evaluates can read another
// relation, call a user's function, or depend on the session.
#pragma once

#include "pg.h"

// The condition as the chunk query uses it (deparsed from the analysed expression: one
// expression, column names unqualified), palloc'd. Raises ERROR saying why it is refused.
// The calling role must be allowed to SELECT the table.
char *snapshot_condition_check(Oid relid, const char *filter);

// The same checks; the condition compiled for rows of rel (an open table), ready for
// ExecQual with the row as the scan tuple, in the current memory context.
ExprState *snapshot_condition_compile(Relation rel, const char *filter);
