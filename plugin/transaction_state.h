// The transaction being decoded: written lazily (only once it has an event), and
// counted for Debezium's transaction metadata.
#pragma once

#include "pg.h"
#include "event_encoder.h"
#include "options.h"
#include "relation_cache.h"

struct CollectionCount {
    const char *data_collection;  // schema.table
    uint64 event_count;
    uint32 hash;  // java_hashmap_hash of data_collection
};

struct TransactionState {
    MemoryContext context;  // reset at every transaction start
    TransactionId xid;      // invalid: a non-transactional message, no metadata records
    XLogRecPtr first_lsn;
    XLogRecPtr commit_lsn;
    XLogRecPtr end_lsn;
    TimestampTz commit_time;
    const char *origin_name;  // the replication origin replayed from, or NULL
    XLogRecPtr origin_lsn;
    bool begun;  // the begin frame / BEGIN record has been written
    EventSource source;
    uint64 total_order;
    uint64 message_count;  // messages count as their own data collection
    // The table size of Debezium's HashMap of counts, which clear() never shrinks: it
    // grows with the largest transaction of the session and orders data_collections.
    uint32 collections_table;
    CollectionCount *collections;
    int ncollections;
    int capacity;
};

void transaction_state_init(TransactionState *txn, MemoryContext parent);
void transaction_state_begin(TransactionState *txn, TransactionId xid, XLogRecPtr first_lsn,
                             XLogRecPtr commit_lsn, XLogRecPtr end_lsn, TimestampTz commit_time,
                             const char *origin_name, XLogRecPtr origin_lsn);
// Writes the begin frame (format=frames) or BEGIN record (transaction metadata) once,
// before the first emitted event, whose LSN the BEGIN record's id carries.
void transaction_state_ensure_begun(TransactionState *txn, LogicalDecodingContext *ctx,
                                    const WalcastOptions *opts, XLogRecPtr event_lsn);
// Counts one event of rel (NULL for messages); returns the transaction block to
// embed, or NULL when transaction metadata is off.
const EventOrder *transaction_state_next_order(TransactionState *txn, const WalcastOptions *opts,
                                               const RelationInfo *rel, EventOrder *order);
// Writes the commit frame / END record if anything was begun.
void transaction_state_commit(TransactionState *txn, LogicalDecodingContext *ctx,
                              const WalcastOptions *opts);
