// walcast.snapshot_row(): one row of a table, given as the table's whole-row value, as
// an op "r" event. The incremental snapshot reads a primary-key range with an ordinary
// query (`SELECT walcast.snapshot_row(t.tableoid, t, ...) FROM t WHERE key > ... ORDER BY
// key LIMIT n`) and every row goes through the same encoder as streamed changes. With
// snapshot.compact the value is the row alone (`<key>\t<after>`): the reader takes the
// envelope from the template of snapshot_rows() of an empty range, once per chunk.
#include "pg.h"

#include <new>

#include "event_encoder.h"
#include "option_array.h"
#include "options.h"
#include "relation_cache.h"
#include "snapshot_access.h"

extern "C" {
PGDLLEXPORT Datum walcast_snapshot_row(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(walcast_snapshot_row);
}

namespace {

// Built on the first row of a query and kept in fn_extra for its other rows.
struct RowEncoderState {
    Oid relid;
    Oid rowtype;
    WalcastOptions opts;
    RelationInfo *info;
    TupleDesc desc;  // the table's, copied: the query holds its lock, so it cannot change
    EventSource source;
    MemoryContext row_context;  // one row's encoding scratch
};

RowEncoderState *row_encoder_begin(FunctionCallInfo fcinfo, Oid relid) {
    MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    RowEncoderState *st = new (palloc0(sizeof(RowEncoderState))) RowEncoderState();
    st->relid = relid;
    walcast_snapshot_options(&st->opts, PG_ARGISNULL(2) ? nullptr : PG_GETARG_ARRAYTYPE_P(2),
                             "snapshot_row");
    Relation rel = snapshot_table_open(relid);
    st->rowtype = rel->rd_rel->reltype;
    st->info = relation_info_build(rel, &st->opts, fcinfo->flinfo->fn_mcxt);
    snapshot_check_column_access(rel, st->info);
    // With defaults of added columns (attmissing): rows older than the column need them.
    st->desc = CreateTupleDescCopyConstr(RelationGetDescr(rel));
    table_close(rel, NoLock);
    event_source_init_snapshot(&st->source, &st->opts, st->opts.snapshot_lsn,
                               st->opts.snapshot_marker, GetCurrentTimestamp());
    st->row_context = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "walcast snapshot row",
                                            ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(old);
    return st;
}

}  // namespace

extern "C" Datum walcast_snapshot_row(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
    Oid relid = PG_GETARG_OID(0);
    RowEncoderState *st = (RowEncoderState *)fcinfo->flinfo->fn_extra;
    if (st == nullptr || st->relid != relid) {
        st = row_encoder_begin(fcinfo, relid);
        fcinfo->flinfo->fn_extra = st;
    }
    HeapTupleHeader header = PG_GETARG_HEAPTUPLEHEADER(1);
    // The row must be the table's own row type: its attribute numbers are the table's.
    if (HeapTupleHeaderGetTypeId(header) != st->rowtype)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("walcast.snapshot_row: the row is not of the table's row type"),
                        errhint("Pass the table's whole-row value: snapshot_row(t.tableoid, t, "
                                "...) FROM ONLY tab t.")));
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(header);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = relid;
    tuple.t_data = header;

    MemoryContext old = MemoryContextSwitchTo(st->row_context);
    StringInfoData buf;
    initStringInfo(&buf);
    if (st->opts.snapshot_compact) {
        event_write_snapshot_row(&buf, &st->opts, st->info, &tuple, st->desc);
    } else {
        RowChange change = {'r', nullptr, &tuple, nullptr, st->desc, InvalidXLogRecPtr};
        event_write_row(&buf, &st->opts, &st->source, st->info, &change, nullptr);
    }
    MemoryContextSwitchTo(old);
    text *result = cstring_to_text_with_len(buf.data, buf.len);
    MemoryContextReset(st->row_context);
    PG_RETURN_TEXT_P(result);
}
