// walcast.snapshot_rows(): the rows of one table inside a CTID block range, encoded
// by the plugin's own encoder as op "r" events, for parallel snapshot readers.
#include "pg.h"

#include <new>

#include "connect_schema.h"
#include "event_encoder.h"
#include "option_array.h"
#include "options.h"
#include "relation_cache.h"
#include "snapshot_access.h"
#include "snapshot_condition.h"

extern "C" {
PGDLLEXPORT Datum walcast_snapshot_rows(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(walcast_snapshot_rows);
}

// text[] of alternating option names and values, as the plugin receives them.
List *walcast_options_from_array(ArrayType *array) {
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

void walcast_snapshot_options(WalcastOptions *opts, ArrayType *array, const char *function) {
    if (array != nullptr) walcast_parse_options(opts, walcast_options_from_array(array), true);
    if (opts->snapshot_condition != nullptr && strcmp(function, "snapshot_rows") != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("walcast.%s does not take the option snapshot.condition", function),
                        errhint("It is an option of walcast.snapshot_rows(); "
                                "walcast.snapshot_key_range() takes a condition argument.")));
    opts->database_name = get_database_name(MyDatabaseId);
    opts->reading_table = !opts->snapshot_as_streamed;
}

namespace {

ItemPointerData block_start(int64 block) {
    ItemPointerData tid;
    ItemPointerSet(&tid, (BlockNumber)block, 1);
    return tid;
}

// The state of one call, kept across the value-per-call SRF's calls: values are
// encoded and handed to the executor one at a time, so a chunk of any size streams
// (a materialised SRF would spill every chunk to a temporary file first).
struct ChunkScan {
    WalcastOptions opts;
    Relation rel;
    RelationInfo *info;
    EventSource source;
    TableScanDesc scan;
    TupleTableSlot *slot;
    ExprState *condition;  // snapshot.condition: rows that fail it are skipped
    ExprContext *condition_ecxt;
    MemoryContext row_context;  // the returned value's scratch: reset at the next call
    // The returned value, built in place (varlena header reserved up front) and rebuilt
    // by the next call: one buffer for the whole range, where a fresh one per value grew
    // by doubling to 128 KB, which malloc maps and unmaps (fresh pages) every time.
    StringInfoData value;
    MemoryContext tuple_context;  // one row's encoding scratch (compact layout)
    bool scan_ended;              // also set up front for an empty range
    bool template_pending;        // snapshot.compact: the template frame comes first
    bool open;
};

void chunk_scan_close(ChunkScan *cs) {
    if (!cs->open) return;
    cs->open = false;
    if (cs->condition_ecxt != nullptr) FreeExprContext(cs->condition_ecxt, true);
    ExecDropSingleTupleTableSlot(cs->slot);
    table_endscan(cs->scan);
    table_close(cs->rel, AccessShareLock);
}

// The executor stops calling early (LIMIT, cursor closed): end the scan then.
void chunk_scan_shutdown(Datum arg) { chunk_scan_close((ChunkScan *)DatumGetPointer(arg)); }

ChunkScan *chunk_scan_begin(FunctionCallInfo fcinfo, MemoryContext context) {
    Oid relid = PG_GETARG_OID(0);
    int64 block_from = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
    bool open_ended = PG_ARGISNULL(2);
    int64 block_to = open_ended ? 0 : PG_GETARG_INT64(2);
    if (block_from < 0 || (!open_ended && block_to < block_from) || block_from > MaxBlockNumber ||
        block_to > (int64)MaxBlockNumber + 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid block range [%lld, %lld)", (long long)block_from,
                               (long long)block_to)));

    ChunkScan *cs = new (palloc0(sizeof(ChunkScan))) ChunkScan();  // option defaults
    walcast_snapshot_options(&cs->opts, PG_ARGISNULL(3) ? nullptr : PG_GETARG_ARRAYTYPE_P(3),
                             "snapshot_rows");
    Relation rel = snapshot_table_open(relid);

    // A rewrite (VACUUM FULL, TRUNCATE, ALTER ... TYPE) after the snapshot was planned
    // leaves a file this snapshot cannot read correctly: fail instead of returning
    // wrong data. Checked after the lock is taken, so no rewrite can slip in between.
    if (OidIsValid(cs->opts.snapshot_expect_filenode) &&
        WALCAST_REL_FILENUMBER(rel) != cs->opts.snapshot_expect_filenode)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("table \"%s\" was rewritten during the snapshot",
                               RelationGetRelationName(rel)),
                        errdetail("Its storage changed from file %u to %u, by VACUUM FULL, "
                                  "TRUNCATE, CLUSTER or a column type change.",
                                  cs->opts.snapshot_expect_filenode, WALCAST_REL_FILENUMBER(rel)),
                        errhint("Restart the snapshot of this table.")));

    cs->rel = rel;
    initStringInfo(&cs->value);  // in the call's memory (the current context)
    cs->row_context =
        AllocSetContextCreate(context, "walcast snapshot row", ALLOCSET_DEFAULT_SIZES);
    cs->tuple_context =
        AllocSetContextCreate(context, "walcast snapshot tuple", ALLOCSET_DEFAULT_SIZES);
    cs->info = relation_info_build(rel, &cs->opts, context);
    snapshot_check_column_access(rel, cs->info);
    event_source_init_snapshot(&cs->source, &cs->opts, cs->opts.snapshot_lsn,
                               cs->opts.snapshot_marker, GetCurrentTimestamp());

    ItemPointerData min_tid = block_start(block_from);
    ItemPointerData max_tid;
    if (open_ended || block_to > MaxBlockNumber)
        ItemPointerSet(&max_tid, MaxBlockNumber, MaxOffsetNumber);
    else if (block_to == block_from)
        max_tid = min_tid;  // block_to - 1 would underflow; scan_ended skips the scan
    else
        ItemPointerSet(&max_tid, (BlockNumber)(block_to - 1), MaxOffsetNumber);
    cs->scan_ended = !open_ended && block_to == block_from;

    if (cs->opts.snapshot_condition != nullptr) {
        // Checked as an incremental snapshot's condition is: the table's own columns,
        // constants and built-in immutable functions only.
        MemoryContext old = MemoryContextSwitchTo(context);
        cs->condition = snapshot_condition_compile(rel, cs->opts.snapshot_condition);
        cs->condition_ecxt = CreateStandaloneExprContext();
        MemoryContextSwitchTo(old);
    }
    cs->scan = table_beginscan_tidrange(rel, GetActiveSnapshot(), &min_tid, &max_tid);
    cs->slot = table_slot_create(rel, nullptr);
    // The first value: the compact template, or with schemas and frames the R frame.
    cs->template_pending =
        cs->opts.snapshot_compact || (cs->opts.schemas && cs->opts.format == OutputFormat::Frames);
    cs->open = true;
    return cs;
}

// Whether the row in the slot satisfies the condition (true without one).
bool chunk_scan_wanted(ChunkScan *cs) {
    if (cs->condition == nullptr) return true;
    cs->condition_ecxt->ecxt_scantuple = cs->slot;
    const bool wanted = ExecQual(cs->condition, cs->condition_ecxt);
    ResetExprContext(cs->condition_ecxt);
    return wanted;
}

// Fetches the next tuple of the range, or nullptr at its end.
HeapTuple chunk_scan_fetch(ChunkScan *cs) {
    // A heap scan asked again after its end starts over: remember that it ended.
    for (;;) {
        if (cs->scan_ended ||
            !table_scan_getnextslot_tidrange(cs->scan, ForwardScanDirection, cs->slot)) {
            cs->scan_ended = true;
            return nullptr;
        }
        if (chunk_scan_wanted(cs)) break;
        CHECK_FOR_INTERRUPTS();  // a condition may skip a long run of rows
    }
    bool should_free;
    return ExecFetchSlotHeapTuple(cs->slot, false, &should_free);
}

// Compact layout: rows go out many to a value, each `<key>\t<after>\n` (JSON holds no
// raw newline), so the executor, COPY and the client pay their per-row costs once per
// ~64 KB instead of once per row. Each row is encoded in a context of its own.
void write_compact_rows(ChunkScan *cs, StringInfo buf, HeapTuple first) {
    constexpr int kValueBytes = 64 * 1024;
    TupleDesc desc = RelationGetDescr(cs->rel);
    for (HeapTuple tuple = first; tuple != nullptr;) {
        MemoryContext old = MemoryContextSwitchTo(cs->tuple_context);
        event_write_snapshot_row(buf, &cs->opts, cs->info, tuple, desc);
        appendStringInfoCharMacro(buf, '\n');
        MemoryContextSwitchTo(old);
        MemoryContextReset(cs->tuple_context);
        if (buf->len >= kValueBytes) break;
        CHECK_FOR_INTERRUPTS();
        tuple = chunk_scan_fetch(cs);
    }
}

// The next value as a text datum built in place (varlena header reserved up front, no
// copy), or nullptr at the end of the range.
text *chunk_scan_next(ChunkScan *cs) {
    MemoryContextReset(cs->row_context);
    HeapTuple tuple = nullptr;
    if (cs->template_pending)
        cs->template_pending = false;
    else if ((tuple = chunk_scan_fetch(cs)) == nullptr)
        return nullptr;
    // The value the last call returned is no longer used: its buffer is rebuilt (and
    // given back when a huge row made it large).
    constexpr int kKeepBytes = 8 * 1024 * 1024;
    StringInfo buf = &cs->value;
    if (buf->maxlen > kKeepBytes) {
        MemoryContext buffer_context = GetMemoryChunkContext(buf->data);
        pfree(buf->data);
        MemoryContext old = MemoryContextSwitchTo(buffer_context);
        initStringInfo(buf);
        MemoryContextSwitchTo(old);
    }
    resetStringInfo(buf);
    buf->len = VARHDRSZ;
    MemoryContext old = MemoryContextSwitchTo(cs->row_context);
    if (tuple == nullptr && !cs->opts.snapshot_compact) {
        connect_schema_write_frame(buf, cs->info->topic, cs->info->topic_len, cs->info->key_schema,
                                   cs->info->value_schema);
    } else if (tuple == nullptr) {
        event_write_snapshot_template(buf, &cs->opts, &cs->source, cs->info);
    } else if (cs->opts.snapshot_compact) {
        write_compact_rows(cs, buf, tuple);
    } else {
        RowChange change = {
            'r', nullptr, tuple, nullptr, RelationGetDescr(cs->rel), InvalidXLogRecPtr};
        event_write_row(buf, &cs->opts, &cs->source, cs->info, &change, nullptr);
    }
    SET_VARSIZE(buf->data, buf->len);
    MemoryContextSwitchTo(old);
    return (text *)buf->data;
}

}  // namespace

// Value per call: `SELECT walcast.snapshot_rows(...)` (in the target list, as the
// sidecar's COPY does) streams; `FROM walcast.snapshot_rows(...)` is materialised by
// the executor's function scan, fine for small ranges.
extern "C" Datum walcast_snapshot_rows(PG_FUNCTION_ARGS) {
    FuncCallContext *funcctx;
    if (SRF_IS_FIRSTCALL()) {
        funcctx = SRF_FIRSTCALL_INIT();
        MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
        ChunkScan *cs = chunk_scan_begin(fcinfo, funcctx->multi_call_memory_ctx);
        MemoryContextSwitchTo(old);
        funcctx->user_fctx = cs;
        RegisterExprContextCallback(((ReturnSetInfo *)fcinfo->resultinfo)->econtext,
                                    chunk_scan_shutdown, PointerGetDatum(cs));
    }
    funcctx = SRF_PERCALL_SETUP();
    ChunkScan *cs = (ChunkScan *)funcctx->user_fctx;
    CHECK_FOR_INTERRUPTS();
    if (text *row = chunk_scan_next(cs)) SRF_RETURN_NEXT(funcctx, PointerGetDatum(row));
    UnregisterExprContextCallback(((ReturnSetInfo *)fcinfo->resultinfo)->econtext,
                                  chunk_scan_shutdown, PointerGetDatum(cs));
    chunk_scan_close(cs);
    SRF_RETURN_DONE(funcctx);
}
