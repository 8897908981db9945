// Who may read a table through walcast.snapshot_rows(): the rules `SELECT * FROM` the
// table would apply to the calling role, so the function never reads more than the
// role could read itself.
#pragma once

#include "pg.h"
#include "relation_cache.h"

// Before the table is locked (no lock is taken on a table the role may not read):
// system catalogs, objects that are not tables, a schema without USAGE, row-level
// security that applies to the role. Raises ERROR naming the table.
void snapshot_check_table_access(Oid relid);

// The table opened with AccessShareLock for a snapshot read: the checks above before the
// lock is taken and again once it is held (the table may have changed in between).
Relation snapshot_table_open(Oid relid);

// Once the emitted columns are known: SELECT on the table, or on every column the
// events carry (columns left out by column.exclude.list need no privilege).
void snapshot_check_column_access(Relation rel, const RelationInfo *info);
