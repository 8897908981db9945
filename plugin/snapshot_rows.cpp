// walcast.snapshot_rows(): the rows of one table inside a CTID block range, encoded
// by the plugin's own encoder as op "r" events, for parallel snapshot readers.
#include "pg.h"

#include "event_encoder.h"
#include "options.h"
#include "relation_cache.h"

extern "C" {
PGDLLEXPORT Datum walcast_snapshot_rows(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(walcast_snapshot_rows);
}

namespace {

// text[] of alternating option names and values, as the plugin receives them.
List *options_from_array(ArrayType *array) {
    Datum *elems;
    bool *nulls;
    int count;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
    if (count % 2 != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("walcast options must be name/value pairs"),
                        errhint("For example: ARRAY['decimal.handling.mode', 'string']")));
    List *defels = NIL;
    for (int i = 0; i < count; i += 2) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("walcast option names must not be null")));
        Node *value =
            nulls[i + 1] ? nullptr : (Node *)makeString(TextDatumGetCString(elems[i + 1]));
        defels = lappend(defels, makeDefElem(TextDatumGetCString(elems[i]), value, -1));
    }
    return defels;
}

ItemPointerData block_start(int64 block) {
    ItemPointerData tid;
    ItemPointerSet(&tid, (BlockNumber)block, 1);
    return tid;
}

#if PG_VERSION_NUM < 150000
// PG14 has no InitMaterializedSRF: set up the tuplestore the same way by hand.
void InitMaterializedSRF(FunctionCallInfo fcinfo, int) {
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
    rsinfo->returnMode = SFRM_Materialize;
    rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
    rsinfo->setDesc = CreateTupleDescCopy(rsinfo->expectedDesc);
    MemoryContextSwitchTo(old);
}
#define MAT_SRF_USE_EXPECTED_DESC 0
#endif

}  // namespace

extern "C" Datum walcast_snapshot_rows(PG_FUNCTION_ARGS) {
    Oid relid = PG_GETARG_OID(0);
    int64 block_from = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
    bool open_ended = PG_ARGISNULL(2);
    int64 block_to = open_ended ? 0 : PG_GETARG_INT64(2);
    if (block_from < 0 || (!open_ended && block_to < block_from) || block_from > MaxBlockNumber ||
        block_to > (int64)MaxBlockNumber + 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid block range [%lld, %lld)", (long long)block_from,
                               (long long)block_to)));

    WalcastOptions opts;
    if (!PG_ARGISNULL(3))
        walcast_parse_options(&opts, options_from_array(PG_GETARG_ARRAYTYPE_P(3)), true);

    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;

    Relation rel = table_open(relid, AccessShareLock);
    if (rel->rd_rel->relkind != RELKIND_RELATION)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a table with storage; snapshot its partitions",
                               RelationGetRelationName(rel))));

    // A rewrite (VACUUM FULL, TRUNCATE, ALTER ... TYPE) after the snapshot was planned
    // leaves a file this snapshot cannot read correctly: fail instead of returning
    // wrong data. Checked after the lock is taken, so no rewrite can slip in between.
    if (OidIsValid(opts.snapshot_expect_filenode) &&
        WALCAST_REL_FILENUMBER(rel) != opts.snapshot_expect_filenode)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("table \"%s\" was rewritten during the snapshot",
                               RelationGetRelationName(rel)),
                        errdetail("Its storage changed from file %u to %u, by VACUUM FULL, "
                                  "TRUNCATE, CLUSTER or a column type change.",
                                  opts.snapshot_expect_filenode, WALCAST_REL_FILENUMBER(rel)),
                        errhint("Restart the snapshot of this table.")));

    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "walcast snapshot row", ALLOCSET_DEFAULT_SIZES);
    RelationInfo *info = relation_info_build(rel, &opts, CurrentMemoryContext);
    EventSource source;
    event_source_init_snapshot(&source, &opts, opts.snapshot_lsn, opts.snapshot_marker,
                               GetCurrentTimestamp());

    ItemPointerData min_tid = block_start(block_from);
    ItemPointerData max_tid;
    if (open_ended || block_to > MaxBlockNumber)
        ItemPointerSet(&max_tid, MaxBlockNumber, MaxOffsetNumber);
    else
        ItemPointerSet(&max_tid, (BlockNumber)(block_to - 1), MaxOffsetNumber);

    Snapshot snapshot = GetActiveSnapshot();
    TableScanDesc scan = table_beginscan_tidrange(rel, snapshot, &min_tid, &max_tid);
    TupleTableSlot *slot = table_slot_create(rel, nullptr);
    StringInfoData buf;
    initStringInfo(&buf);
    TupleDesc desc = RelationGetDescr(rel);
    bool empty_range = !open_ended && block_to == block_from;  // max_tid would underflow
    while (!empty_range && table_scan_getnextslot_tidrange(scan, ForwardScanDirection, slot)) {
        CHECK_FOR_INTERRUPTS();
        MemoryContext old = MemoryContextSwitchTo(row_context);
        bool should_free;
        HeapTuple tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
        RowChange change = {'r', nullptr, tuple, nullptr, desc, InvalidXLogRecPtr};
        resetStringInfo(&buf);
        event_write_row(&buf, &opts, &source, info, &change, nullptr);
        Datum value = PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
        bool isnull = false;
        MemoryContextSwitchTo(old);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
        MemoryContextReset(row_context);
    }
    ExecDropSingleTupleTableSlot(slot);
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    return (Datum)0;
}
