// Debezium envelopes and walcast frames. Shared by the output plugin (streamed
// changes) and the snapshot function (op "r"), so both produce the same bytes.
#pragma once

#include "pg.h"
#include "options.h"
#include "relation_cache.h"

// What every event of one transaction (or one snapshot read) has in common,
// pre-rendered once.
struct EventSource {
    StringInfoData
        head;  // `"source":{"version":..,"ts_ms":..,"snapshot":..,"db":..,"sequence":"[\"<commit>\",\"`
    StringInfoData
        tail;  // `\"]","ts_us":..,"ts_ns":..,`  (sequence closes, per-change LSN follows)
    StringInfoData txid;  // the txId JSON value: a number, or null
    // `"origin":..,"origin_lsn":..`: the replication origin the transaction was replayed
    // from (logical replication, pg_replication_origin_xact_setup), or nulls.
    StringInfoData origin;
    bool has_change_lsn;  // false: snapshot rows carry the consistent point as lsn
    bool lsn_null;        // incremental snapshot rows: lsn is null (sequence still has it)
    XLogRecPtr fixed_lsn;
};

// Transaction block positions (provide.transaction.metadata).
struct EventOrder {
    TransactionId xid;  // the block's id is "<xid>:<LSN of the event>", as Debezium's
    uint64 total_order;
    uint64 data_collection_order;
};

void event_source_init_streaming(EventSource *src, const WalcastOptions *opts, TransactionId xid,
                                 XLogRecPtr commit_lsn, TimestampTz commit_time,
                                 const char *origin_name, XLogRecPtr origin_lsn);
void event_source_init_snapshot(EventSource *src, const WalcastOptions *opts, XLogRecPtr lsn,
                                const char *marker, TimestampTz read_time);

// Rows as the decoder sees them: before and after may be NULL; toast_source is the
// old tuple to take unchanged TOAST values from (REPLICA IDENTITY FULL), or NULL.
struct RowChange {
    char op;  // 'c', 'u', 'd', 'r'
    HeapTuple before;
    HeapTuple after;
    HeapTuple toast_source;
    TupleDesc desc;  // of the decoded (leaf) relation
    XLogRecPtr lsn;
};

// One data event: frame header (format=frames) and envelope, appended to out.
void event_write_row(StringInfo out, const WalcastOptions *opts, const EventSource *src,
                     const RelationInfo *rel, const RowChange *change, const EventOrder *order);

// The compact snapshot layout (snapshot.compact, docs/framing.md): one template frame
// `S\t<topic>\t<value head>\t<value tail>` per call, then `<key>\t<after>` per row. The
// event is head + after + tail + envelope times, which the reader stamps; the JSON of
// the envelope's constant parts crosses the wire once instead of once per row.
void event_write_snapshot_template(StringInfo out, const WalcastOptions *opts,
                                   const EventSource *src, const RelationInfo *rel);
void event_write_snapshot_row(StringInfo out, const WalcastOptions *opts, const RelationInfo *rel,
                              HeapTuple tuple, TupleDesc desc);
// The same row given as the values of a slot whose descriptor has the table's attribute
// numbers (dropped columns may be anything: they are never read).
void event_write_snapshot_values(StringInfo out, const WalcastOptions *opts,
                                 const RelationInfo *rel, TupleDesc desc, Datum *values,
                                 bool *nulls);

void event_write_truncate(StringInfo out, const WalcastOptions *opts, const EventSource *src,
                          const RelationInfo *rel, XLogRecPtr lsn, const EventOrder *order);

void event_write_message(StringInfo out, const WalcastOptions *opts, const EventSource *src,
                         const char *prefix, const char *content, Size content_size, XLogRecPtr lsn,
                         const EventOrder *order);

// The key JSON of a row ({"id":1}); writes nothing when the relation has no key.
void event_write_key(StringInfo out, const WalcastOptions *opts, const RelationInfo *rel,
                     HeapTuple tuple, TupleDesc desc);

// Microseconds since the Unix epoch.
int64 unix_micros(TimestampTz ts);
