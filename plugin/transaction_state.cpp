#include "transaction_state.h"

#include "connect_schema.h"
#include "json_writer.h"

#include <algorithm>

#include "java_hashmap.h"

namespace {

// Debezium's transaction metadata record (BEGIN or END). Its id is "<xid>:<LSN>" at the
// position of the record, as Debezium's: its first emitted event's LSN for BEGIN, the end of
// its commit record for END. data_collections come in the iteration order of Debezium's
// HashMap of counts; messages, which Debezium counts under an object whose name changes
// from run to run, are left out of it.
void write_metadata_record(StringInfo out, const TransactionState *txn, bool end) {
    JSON_LITERAL(out, "{\"status\":");
    if (end)
        JSON_LITERAL(out, "\"END\"");
    else
        JSON_LITERAL(out, "\"BEGIN\"");
    appendStringInfo(out, ",\"id\":\"%u:" UINT64_FORMAT "\"", txn->xid,
                     (uint64)(end ? txn->end_lsn : txn->first_lsn));
    JSON_LITERAL(out, ",\"event_count\":");
    if (!end) {
        JSON_LITERAL(out, "null,\"data_collections\":null");
    } else {
        json_write_uint64(out, txn->total_order);
        JSON_LITERAL(out, ",\"data_collections\":[");
        uint32 table = txn->collections_table;
        int *order = (int *)palloc(sizeof(int) * Max(txn->ncollections, 1));
        for (int i = 0; i < txn->ncollections; i++) order[i] = i;
        std::stable_sort(order, order + txn->ncollections, [txn, table](int a, int b) {
            return java_hashmap_bucket(txn->collections[a].hash, table) <
                   java_hashmap_bucket(txn->collections[b].hash, table);
        });
        for (int k = 0; k < txn->ncollections; k++) {
            const CollectionCount &c = txn->collections[order[k]];
            if (k > 0) appendStringInfoChar(out, ',');
            JSON_LITERAL(out, "{\"data_collection\":");
            json_write_cstring(out, c.data_collection);
            JSON_LITERAL(out, ",\"event_count\":");
            json_write_uint64(out, c.event_count);
            appendStringInfoChar(out, '}');
        }
        pfree(order);
        appendStringInfoChar(out, ']');
    }
    JSON_LITERAL(out, ",\"ts_ms\":");
    json_write_int64(out, unix_micros(txn->commit_time) / 1000);
    appendStringInfoChar(out, '}');
}

// One more key in Debezium's HashMap of counts: it doubles past 3/4 full.
void grow_collections_table(TransactionState *txn) {
    uint32 keys = (uint32)txn->ncollections + (txn->message_count > 0 ? 1 : 0);
    while (keys > txn->collections_table / 4 * 3) txn->collections_table *= 2;
}

uint64 count_collection(TransactionState *txn, const char *data_collection) {
    for (int i = 0; i < txn->ncollections; i++) {
        if (txn->collections[i].data_collection == data_collection ||
            strcmp(txn->collections[i].data_collection, data_collection) == 0)
            return ++txn->collections[i].event_count;
    }
    if (txn->ncollections == txn->capacity) {
        txn->capacity = Max(8, txn->capacity * 2);
        txn->collections = txn->collections
                               ? (CollectionCount *)repalloc(
                                     txn->collections, sizeof(CollectionCount) * txn->capacity)
                               : (CollectionCount *)MemoryContextAlloc(
                                     txn->context, sizeof(CollectionCount) * txn->capacity);
    }
    // Relation cache entries can be rebuilt mid-transaction: keep our own copy.
    txn->collections[txn->ncollections++] = {
        MemoryContextStrdup(txn->context, data_collection), 1,
        java_hashmap_hash(data_collection, (int)strlen(data_collection))};
    grow_collections_table(txn);
    return 1;
}

// format=json: the record on a line of its own, with its schema when schemas are on.
void write_json_metadata_record(StringInfo out, const TransactionState *txn, bool end,
                                const WalcastOptions *opts) {
    if (opts->schemas) connect_schema_wrap_begin(out, connect_schema_transaction_value());
    write_metadata_record(out, txn, end);
    if (opts->schemas) connect_schema_wrap_end(out);
}

// A non-transactional logical message is framed as a transaction of its own (xid 0)
// but belongs to none: like Debezium, no BEGIN/END records and a null transaction block.
bool carries_metadata(const TransactionState *txn, const WalcastOptions *opts) {
    return opts->transaction_metadata && TransactionIdIsValid(txn->xid);
}

}  // namespace

void transaction_state_init(TransactionState *txn, MemoryContext parent) {
    memset(txn, 0, sizeof(*txn));
    txn->context = AllocSetContextCreate(parent, "walcast transaction", ALLOCSET_DEFAULT_SIZES);
    txn->collections_table = 16;  // HashMap's default capacity
}

void transaction_state_begin(TransactionState *txn, TransactionId xid, XLogRecPtr first_lsn,
                             XLogRecPtr commit_lsn, XLogRecPtr end_lsn, TimestampTz commit_time,
                             const char *origin_name, XLogRecPtr origin_lsn) {
    MemoryContextReset(txn->context);
    txn->xid = xid;
    txn->first_lsn = first_lsn;
    txn->commit_lsn = commit_lsn;
    txn->end_lsn = end_lsn;
    txn->commit_time = commit_time;
    txn->origin_name = origin_name;
    txn->origin_lsn = origin_lsn;
    txn->begun = false;
    txn->total_order = 0;
    txn->message_count = 0;
    txn->collections = nullptr;
    txn->ncollections = 0;
    txn->capacity = 0;
}

void transaction_state_ensure_begun(TransactionState *txn, LogicalDecodingContext *ctx,
                                    const WalcastOptions *opts, XLogRecPtr event_lsn) {
    if (txn->begun) return;
    txn->begun = true;
    // PostgreSQL 15+'s pgoutput defers BEGIN to the first published change, so Debezium's
    // BEGIN id carries that change's LSN, not the transaction's first record's.
    txn->first_lsn = event_lsn;
    MemoryContext old = MemoryContextSwitchTo(txn->context);
    event_source_init_streaming(&txn->source, opts, txn->xid, txn->commit_lsn, txn->commit_time,
                                txn->origin_name, txn->origin_lsn);
    MemoryContextSwitchTo(old);

    if (opts->format == OutputFormat::Frames) {
        OutputPluginPrepareWrite(ctx, false);
        appendStringInfo(ctx->out, "B\t%u\t%llu\t%llu\t", txn->xid,
                         (unsigned long long)txn->commit_lsn, (unsigned long long)txn->end_lsn);
        if (carries_metadata(txn, opts)) write_metadata_record(ctx->out, txn, false);
        OutputPluginWrite(ctx, false);
    } else if (carries_metadata(txn, opts)) {
        OutputPluginPrepareWrite(ctx, false);
        write_json_metadata_record(ctx->out, txn, false, opts);
        OutputPluginWrite(ctx, false);
    }
}

const EventOrder *transaction_state_next_order(TransactionState *txn, const WalcastOptions *opts,
                                               const RelationInfo *rel, EventOrder *order) {
    if (!carries_metadata(txn, opts)) return nullptr;
    txn->total_order++;
    if (rel != nullptr)
        order->data_collection_order = count_collection(txn, rel->data_collection);
    else {
        order->data_collection_order = ++txn->message_count;
        if (txn->message_count == 1) grow_collections_table(txn);
    }
    order->xid = txn->xid;
    order->total_order = txn->total_order;
    return order;
}

void transaction_state_commit(TransactionState *txn, LogicalDecodingContext *ctx,
                              const WalcastOptions *opts) {
    if (!txn->begun) return;
    if (opts->format == OutputFormat::Frames) {
        OutputPluginPrepareWrite(ctx, true);
        appendStringInfo(ctx->out, "C\t%llu\t", (unsigned long long)txn->end_lsn);
        if (carries_metadata(txn, opts)) write_metadata_record(ctx->out, txn, true);
        OutputPluginWrite(ctx, true);
    } else if (carries_metadata(txn, opts)) {
        OutputPluginPrepareWrite(ctx, true);
        write_json_metadata_record(ctx->out, txn, true, opts);
        OutputPluginWrite(ctx, true);
    }
    txn->begun = false;
}
