// walcast.snapshot_key_range(): one primary-key range of a table, for incremental
// snapshot readers, as text values: the chunk's event template (as snapshot_rows() writes
// it with snapshot.compact), its rows in key order in the compact layout
// (`<key>\t<after>\n`, many rows to a value), then `K\t<JSON array of the last key's
// column texts>`. The range query runs through SPI as the calling role under the caller's
// snapshot, and a receiver encodes each row as the executor hands it over, so a row costs
// no whole-row value, no function call and no protocol message of its own (what `SELECT
// snapshot_row(x.tableoid, x, ...) FROM ...` pays per row). The values are kept as built,
// in memory the session reuses from chunk to chunk (chunk_values), and handed out one per
// call. The plan of the last range query is kept for the next call.
#include "pg.h"

extern "C" {
#include "access/genam.h"
#include "executor/spi.h"
#include "nodes/params.h"
#include "tcop/dest.h"
}

#include <new>

#include "chunk_values.h"
#include "event_encoder.h"
#include "json_writer.h"
#include "option_array.h"
#include "options.h"
#include "relation_cache.h"
#include "snapshot_access.h"
#include "snapshot_condition.h"

extern "C" {
PGDLLEXPORT Datum walcast_snapshot_key_range(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(walcast_snapshot_key_range);
}

namespace {

// Rows go out many to a value, as from snapshot_rows(); a little under 64 KB, so the
// protocol message that carries one fits a 64 KB buffer (at 128 KB the allocator maps
// fresh pages for every message).
constexpr int kValueBytes = 56 * 1024;

struct KeyColumn {
    AttrNumber attnum;
    Oid type;
    bool byval;
    int16 len;
};

// Receives the range query's rows: encodes each into the current value (chunk_values) and
// keeps the last row's key.
struct RangeReceiver {
    DestReceiver pub;  // first: the executor sees a DestReceiver
    const WalcastOptions *opts;
    const RelationInfo *info;
    ChunkValues *values;
    MemoryContext row_context;  // one row's encoding scratch
    MemoryContext key_context;  // the last row's key (by-reference types)
    KeyColumn *keys;
    int nkeys;
    Datum *last_key;
    int64 rows;
};

// The plan of the last range query (a reader reads one table, chunk after chunk, with
// the same query text): kept across calls, invalidated by PostgreSQL as any cached plan.
SPIPlanPtr cached_plan = nullptr;
char *cached_sql = nullptr;

SPIPlanPtr range_plan(const char *sql, int nparams) {
    if (cached_plan != nullptr && strcmp(cached_sql, sql) == 0) return cached_plan;
    if (cached_plan != nullptr) {
        SPI_freeplan(cached_plan);
        pfree(cached_sql);
        cached_plan = nullptr;
    }
    Oid *types = (Oid *)palloc(sizeof(Oid) * (nparams + 1));
    for (int i = 0; i < nparams; i++) types[i] = TEXTOID;
    // Generic: the range query's plan does not depend on the bounds (an ordered scan of
    // the primary key's index), and a custom plan would be planned again for every chunk.
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nparams, types, CURSOR_OPT_GENERIC_PLAN);
    if (plan == nullptr)
        elog(ERROR, "walcast.snapshot_key_range: cannot plan the range query: %s",
             SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0) elog(ERROR, "walcast.snapshot_key_range: SPI_keepplan failed");
    cached_sql = MemoryContextStrdup(TopMemoryContext, sql);
    cached_plan = plan;
    return plan;
}

bool receive_row(TupleTableSlot *slot, DestReceiver *self) {
    RangeReceiver *r = (RangeReceiver *)self;
    slot_getallattrs(slot);
    MemoryContext old = MemoryContextSwitchTo(r->row_context);
    event_write_snapshot_values(chunk_values_out(r->values), r->opts, r->info,
                                slot->tts_tupleDescriptor, slot->tts_values, slot->tts_isnull);
    MemoryContextSwitchTo(old);
    appendStringInfoCharMacro(chunk_values_out(r->values), '\n');
    MemoryContextReset(r->row_context);
    MemoryContextReset(r->key_context);
    old = MemoryContextSwitchTo(r->key_context);
    for (int k = 0; k < r->nkeys; k++) {
        const KeyColumn &c = r->keys[k];
        // Key columns are never null (primary key).
        r->last_key[k] = datumCopy(slot->tts_values[c.attnum - 1], c.byval, c.len);
    }
    MemoryContextSwitchTo(old);
    r->rows++;
    if (chunk_values_pending(r->values) >= kValueBytes) chunk_values_flush(r->values);
    CHECK_FOR_INTERRUPTS();
    return true;
}

void receiver_startup(DestReceiver *, int, TupleDesc) {}
void receiver_shutdown(DestReceiver *) {}
void receiver_destroy(DestReceiver *) {}

// `K\t["<text>", ...]`: the last key's columns as their output functions write them, the
// next range's bound.
void write_last_key(RangeReceiver *r) {
    StringInfo out = chunk_values_out(r->values);
    appendStringInfoString(out, "K\t[");
    for (int k = 0; k < r->nkeys; k++) {
        Oid output;
        bool varlena;
        getTypeOutputInfo(r->keys[k].type, &output, &varlena);
        if (k) appendStringInfoChar(out, ',');
        json_write_cstring(out, OidOutputFunctionCall(output, r->last_key[k]));
    }
    appendStringInfoChar(out, ']');
    chunk_values_flush(r->values);
}

// The bound values of a range side (text[]): as many as key columns, none null.
int bound_values(ArrayType *bound, int nkeys, const char *side, Datum **values) {
    if (bound == nullptr) return 0;
    bool *nulls;
    int count;
    deconstruct_array(bound, TEXTOID, -1, false, TYPALIGN_INT, values, &nulls, &count);
    if (count == 0) return 0;
    if (count != nkeys)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("walcast.snapshot_key_range: %s has %d values; the primary key "
                               "has %d columns",
                               side, count, nkeys)));
    for (int i = 0; i < count; i++)
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("walcast.snapshot_key_range: %s holds a null", side)));
    return count;
}

// `(x.k1, x.k2) OPERATOR(pg_catalog.<op>) ($n::t1, $n+1::t2)`, parameters numbered
// from *next: a row comparison the primary key's index answers.
void append_key_comparison(StringInfo sql, const char *keys, const KeyColumn *cols, int nkeys,
                           const char *op, int *next) {
    appendStringInfo(sql, " AND (%s) OPERATOR(pg_catalog.%s) (", keys, op);
    for (int k = 0; k < nkeys; k++)
        appendStringInfo(sql, "%s$%d::%s", k ? ", " : "", (*next)++,
                         format_type_be_qualified(cols[k].type));
    appendStringInfoChar(sql, ')');
}

// Reads the range into values.
void read_range(FunctionCallInfo fcinfo, ChunkValues *values) {
    const Oid relid = PG_GETARG_OID(0);
    const int64 max_rows = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
    const char *condition = PG_ARGISNULL(5) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(5));

    WalcastOptions opts;
    walcast_snapshot_options(&opts, PG_ARGISNULL(4) ? nullptr : PG_GETARG_ARRAYTYPE_P(4),
                             "snapshot_key_range");
    Relation rel = snapshot_table_open(relid);  // the checks of snapshot_rows()
    RelationInfo *info = relation_info_build(rel, &opts, CurrentMemoryContext);
    snapshot_check_column_access(rel, info);
    // Only the table's own columns, constants and built-in immutable functions.
    const char *checked = condition ? snapshot_condition_check(relid, condition) : nullptr;

    const Oid pk = WALCAST_PRIMARY_KEY_INDEX(rel);
    if (!OidIsValid(pk))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("walcast.snapshot_key_range: table \"%s\" has no primary key",
                               RelationGetRelationName(rel))));
    Relation index = index_open(pk, AccessShareLock);
    const int nkeys = index->rd_index->indnkeyatts;
    KeyColumn *keys = (KeyColumn *)palloc(sizeof(KeyColumn) * nkeys);
    StringInfoData key_list;
    initStringInfo(&key_list);
    TupleDesc desc = RelationGetDescr(rel);
    for (int k = 0; k < nkeys; k++) {
        const AttrNumber attnum = index->rd_index->indkey.values[k];
        Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
        keys[k] = KeyColumn{attnum, att->atttypid, att->attbyval, att->attlen};
        appendStringInfo(&key_list, "%sx.%s", k ? ", " : "",
                         quote_identifier(NameStr(att->attname)));
    }
    index_close(index, AccessShareLock);

    Datum *after = nullptr, *through = nullptr;
    const int nafter =
        bound_values(PG_ARGISNULL(1) ? nullptr : PG_GETARG_ARRAYTYPE_P(1), nkeys, "after", &after);
    const int nthrough = bound_values(PG_ARGISNULL(2) ? nullptr : PG_GETARG_ARRAYTYPE_P(2), nkeys,
                                      "through", &through);

    // Every attribute in place (dropped ones as nulls), so the result's attribute numbers
    // are the table's: the encoder's column list applies to it as it is.
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfoString(&sql, "SELECT ");
    for (int a = 0; a < desc->natts; a++) {
        Form_pg_attribute att = TupleDescAttr(desc, a);
        if (a) appendStringInfoString(&sql, ", ");
        if (att->attisdropped)
            appendStringInfoString(&sql, "NULL::pg_catalog.int4");
        else
            appendStringInfo(&sql, "x.%s", quote_identifier(NameStr(att->attname)));
    }
    appendStringInfo(&sql, " FROM ONLY %s x WHERE true",
                     quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                RelationGetRelationName(rel)));
    int next = 1;
    if (nafter) append_key_comparison(&sql, key_list.data, keys, nkeys, ">", &next);
    if (nthrough) append_key_comparison(&sql, key_list.data, keys, nkeys, "<=", &next);
    if (checked) appendStringInfo(&sql, " AND (%s)", checked);
    appendStringInfo(&sql, " ORDER BY %s", key_list.data);
    if (max_rows > 0) appendStringInfo(&sql, " LIMIT " INT64_FORMAT, max_rows);

    // The bounds as text parameters, cast to the key's types in the query.
    const int nparams = nafter + nthrough;
    ParamListInfo params = makeParamList(nparams);
    for (int i = 0; i < nparams; i++) {
        ParamExternData *p = &params->params[i];
        p->value = i < nafter ? after[i] : through[i - nafter];
        p->isnull = false;
        p->pflags = PARAM_FLAG_CONST;
        p->ptype = TEXTOID;
    }

    RangeReceiver *r = (RangeReceiver *)palloc0(sizeof(RangeReceiver));
    r->pub.receiveSlot = receive_row;
    r->pub.rStartup = receiver_startup;
    r->pub.rShutdown = receiver_shutdown;
    r->pub.rDestroy = receiver_destroy;
    r->pub.mydest = DestNone;
    r->opts = &opts;
    r->info = info;
    r->values = values;
    // The template first: the envelope of the chunk's events.
    EventSource source;
    event_source_init_snapshot(&source, &opts, opts.snapshot_lsn, opts.snapshot_marker,
                               GetCurrentTimestamp());
    event_write_snapshot_template(chunk_values_out(values), &opts, &source, info);
    chunk_values_flush(values);
    r->row_context = AllocSetContextCreate(CurrentMemoryContext, "walcast key range row",
                                           ALLOCSET_DEFAULT_SIZES);
    r->key_context =
        AllocSetContextCreate(CurrentMemoryContext, "walcast key range key", ALLOCSET_SMALL_SIZES);
    r->keys = keys;
    r->nkeys = nkeys;
    r->last_key = (Datum *)palloc(sizeof(Datum) * nkeys);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "walcast.snapshot_key_range: SPI_connect failed");
    SPIExecuteOptions exec = {};
    exec.params = params;
    exec.read_only = true;  // the caller's snapshot: the statement's
    exec.dest = &r->pub;
    const int rc = SPI_execute_plan_extended(range_plan(sql.data, nparams), &exec);
    // With a receiver of its own, a query reports SPI_OK_UTILITY (no SPI tuple table).
    if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
        elog(ERROR, "walcast.snapshot_key_range: the range query failed: %s",
             SPI_result_code_string(rc));
    SPI_finish();
    chunk_values_flush(values);
    if (r->rows > 0) write_last_key(r);
    MemoryContextDelete(r->row_context);
    MemoryContextDelete(r->key_context);
    table_close(rel, NoLock);  // locked until the transaction ends, as the query's own lock
}

// The query stopped asking for values (a LIMIT, a rescan): they are no longer used.
void release_values(Datum arg) { chunk_values_release((ChunkValues *)DatumGetPointer(arg)); }

}  // namespace

extern "C" Datum walcast_snapshot_key_range(PG_FUNCTION_ARGS) {
    FuncCallContext *funcctx;
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    if (SRF_IS_FIRSTCALL()) {
        funcctx = SRF_FIRSTCALL_INIT();
        ChunkValues *values = (ChunkValues *)MemoryContextAllocZero(funcctx->multi_call_memory_ctx,
                                                                    sizeof(ChunkValues));
        funcctx->user_fctx = values;
        if (!PG_ARGISNULL(0)) {
            chunk_values_begin(values, funcctx->multi_call_memory_ctx);
            RegisterExprContextCallback(rsinfo->econtext, release_values, PointerGetDatum(values));
            read_range(fcinfo, values);
        }
    }
    funcctx = SRF_PERCALL_SETUP();
    ChunkValues *values = (ChunkValues *)funcctx->user_fctx;
    if (funcctx->call_cntr < (uint64)chunk_values_count(values)) {
        // Taken before SRF_RETURN_NEXT, which counts the call before it returns the value.
        Datum value = chunk_values_get(values, (int)funcctx->call_cntr);
        SRF_RETURN_NEXT(funcctx, value);
    }
    if (values->buf != nullptr) {
        UnregisterExprContextCallback(rsinfo->econtext, release_values, PointerGetDatum(values));
        chunk_values_release(values);
    }
    SRF_RETURN_DONE(funcctx);
}
