// Every PostgreSQL header walcast uses, included once with C linkage, plus the
// version guards for the 14..17 differences.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/detoast.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "utils/acl.h"
#include "utils/rls.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "replication/origin.h"
#include "regex/regex.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/fmgrprotos.h"
#include "utils/pg_lsn.h"
#include "utils/partcache.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/heapam.h"
#include "storage/bufmgr.h"
#include "utils/snapmgr.h"
#include "mb/pg_wchar.h"
#include "catalog/pg_collation.h"
#include "utils/datum.h"
#include "commands/defrem.h"
#include "utils/hsearch.h"
#include "commands/dbcommands.h"
#include "utils/tuplestore.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "access/relation.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/uuid.h"
#include "utils/varlena.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif
}

#if PG_VERSION_NUM < 140000
#error "walcast needs PostgreSQL 14 or newer"
#endif

// PG17 hands HeapTuple to the change callbacks instead of ReorderBufferTupleBuf.
#if PG_VERSION_NUM >= 170000
#define WALCAST_CHANGE_TUPLE(tb) (tb)
#else
#define WALCAST_CHANGE_TUPLE(tb) ((tb) ? &(tb)->tuple : nullptr)
#endif

// Tree walkers: PG16 declares them with their real type, earlier majors as bool (*)().
#if PG_VERSION_NUM >= 160000
#define WALCAST_TREE_WALKER(fn) (fn)
#else
#define WALCAST_TREE_WALKER(fn) ((bool (*)())(void (*)())(fn))  // via void(*)(): no cast warning
#endif

// PG14 keeps the commit time directly in the transaction.
#if PG_VERSION_NUM >= 150000
#define WALCAST_COMMIT_TIME(txn) ((txn)->xact_time.commit_time)
#else
#define WALCAST_COMMIT_TIME(txn) ((txn)->commit_time)
#endif

// PG15 lets the plugin report skipped transactions; PG14 has no such argument.
#if PG_VERSION_NUM >= 150000
#define WALCAST_UPDATE_PROGRESS(ctx) OutputPluginUpdateProgress((ctx), false)
#else
#define WALCAST_UPDATE_PROGRESS(ctx) OutputPluginUpdateProgress((ctx))
#endif

// PG18 asks whether a deferrable primary key will do; a key for events must be immediate.
#if PG_VERSION_NUM >= 180000
#define WALCAST_PRIMARY_KEY_INDEX(rel) RelationGetPrimaryKeyIndex((rel), false)
#else
#define WALCAST_PRIMARY_KEY_INDEX(rel) RelationGetPrimaryKeyIndex((rel))
#endif

// PG16 folded the per-object-kind ACL checks into object_aclcheck.
#if PG_VERSION_NUM >= 160000
#define WALCAST_NAMESPACE_ACLCHECK(nsp, role, mode) \
    object_aclcheck(NamespaceRelationId, (nsp), (role), (mode))
#else
#define WALCAST_NAMESPACE_ACLCHECK(nsp, role, mode) pg_namespace_aclcheck((nsp), (role), (mode))
#endif

// PG16 renamed the physical relation identifier.
#if PG_VERSION_NUM >= 160000
#define WALCAST_REL_FILENUMBER(rel) ((rel)->rd_locator.relNumber)
#else
#define WALCAST_REL_FILENUMBER(rel) ((rel)->rd_node.relNode)
#endif
