#include "event_encoder.h"

#include "connect_schema.h"

#include "event_limits.h"
#include "json_writer.h"
#include "type_encoder.h"
#include "version.h"

namespace {

// A deformed tuple: one heap_deform_tuple per row instead of a heap_getattr per column.
struct Deformed {
    Datum *values;
    bool *nulls;
    // Read from the table under a snapshot (op "r"), not decoded from WAL: a value
    // stored out of line is fetched from TOAST, never "unchanged".
    bool stored;
};

Deformed deform(HeapTuple tuple, TupleDesc desc, bool stored = false) {
    Deformed d = {nullptr, nullptr, stored};
    if (tuple == nullptr) return d;
    d.values = (Datum *)palloc(sizeof(Datum) * desc->natts);
    d.nulls = (bool *)palloc(sizeof(bool) * desc->natts);
    heap_deform_tuple(tuple, desc, d.values, d.nulls);
    return d;
}

bool is_unchanged_toast(TupleDesc desc, AttrNumber attnum, Datum value) {
    return TupleDescAttr(desc, attnum - 1)->attlen == -1 &&
           VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(value));
}

// Refuses a value whose JSON cannot fit in the event before the JSON is built. Text,
// json and bytea JSON is sized from the stored bytes (exactly for text and json when the
// value is large enough for escapes to matter: then *value becomes the detoasted value,
// which the encoder takes as is). Other types (jsonb, arrays) can print shorter than
// they are stored: they are checked once encoded.
void require_room_for(StringInfo out, const ColumnInfo *col, Datum *value,
                      const WalcastOptions *opts) {
    Size stored = toast_raw_datum_size(*value) - VARHDRSZ;
    Size json_bytes;
    switch (col->encoder.category) {
        case TypeCategory::Bytea:
            json_bytes =
                (opts->binary_mode == BinaryMode::Hex ? 2 * stored : (stored + 2) / 3 * 4) + 2;
            break;
        case TypeCategory::Text:
        case TypeCategory::Json:
            json_bytes = stored + 2;
            // Escapes can make it up to six times as long; count them when that matters.
            if (!event_limit_fits(out, 6 * stored + 2)) {
                struct varlena *text =
                    pg_detoast_datum_packed((struct varlena *)DatumGetPointer(*value));
                *value = PointerGetDatum(text);
                json_bytes = json_string_length(VARDATA_ANY(text), VARSIZE_ANY_EXHDR(text));
            }
            break;
        default:
            return;
    }
    event_limit_require(out, json_bytes, col->name_json, col->name_json_len);
}

void write_value(StringInfo out, const WalcastOptions *opts, const ColumnInfo *col, TupleDesc desc,
                 const Deformed &row, const Deformed &toast_source) {
    int i = col->attnum - 1;
    // Debezium's stream cannot read name values (its pgoutput decoder has no reader for
    // them): they are missing there, read in snapshots.
    if (col->attnum == InvalidAttrNumber || row.nulls[i] ||
        (col->encoder.category == TypeCategory::Name && !opts->reading_table)) {
        json_append(out, col->null_json, col->null_json_len);
        return;
    }
    Datum value = row.values[i];
    bool varlena = TupleDescAttr(desc, i)->attlen == -1;
    if (row.stored && is_unchanged_toast(desc, col->attnum, value)) {
        require_room_for(out, col, &value, opts);  // before the value is fetched from TOAST
        value = PointerGetDatum(detoast_external_attr((struct varlena *)DatumGetPointer(value)));
    } else if (is_unchanged_toast(desc, col->attnum, value)) {
        // Not in WAL; REPLICA IDENTITY FULL logs the whole old row, flattened.
        if (toast_source.values && !toast_source.nulls[i] &&
            !is_unchanged_toast(desc, col->attnum, toast_source.values[i])) {
            value = toast_source.values[i];
        } else {
            type_encoder_write_unavailable(out, &col->encoder, opts);
            return;
        }
    }
    if (varlena) require_room_for(out, col, &value, opts);
    type_encoder_write(out, &col->encoder, value, opts);
    event_limit_require(out, 0, col->name_json, col->name_json_len);
}

void write_columns(StringInfo out, const WalcastOptions *opts, const ColumnInfo *cols, int ncols,
                   TupleDesc desc, const Deformed &row, const Deformed &toast_source) {
    appendStringInfoCharMacro(out, '{');
    for (int c = 0; c < ncols; c++) {
        if (c > 0) appendStringInfoCharMacro(out, ',');
        json_append(out, cols[c].name_json, cols[c].name_json_len);
        write_value(out, opts, &cols[c], desc, row, toast_source);
    }
    appendStringInfoCharMacro(out, '}');
}

void write_row_or_null(StringInfo out, const WalcastOptions *opts, const RelationInfo *rel,
                       TupleDesc desc, const Deformed &row, const Deformed &toast_source) {
    if (row.values == nullptr)
        JSON_LITERAL(out, "null");
    else
        write_columns(out, opts, rel->columns, rel->ncolumns, desc, row, toast_source);
}

void write_frame_header(StringInfo out, char op, const char *topic, int topic_len) {
    char head[4] = {'E', '\t', op, '\t'};
    json_append(out, head, 4);
    json_append(out, topic, topic_len);
    appendStringInfoCharMacro(out, '\t');
}

// `"source":{...}` with the change's LSN, then `,"transaction":...`.
void write_source_and_transaction(StringInfo out, const EventSource *src, const char *source_names,
                                  int source_names_len, XLogRecPtr lsn, const EventOrder *order) {
    XLogRecPtr change_lsn = src->has_change_lsn ? lsn : src->fixed_lsn;
    json_append(out, src->head.data, src->head.len);
    json_write_uint64(out, change_lsn);
    json_append(out, src->tail.data, src->tail.len);
    json_append(out, source_names, source_names_len);
    JSON_LITERAL(out, "\"txId\":");
    json_append(out, src->txid.data, src->txid.len);
    JSON_LITERAL(out, ",\"lsn\":");
    if (src->lsn_null)
        JSON_LITERAL(out, "null");
    else
        json_write_uint64(out, change_lsn);
    JSON_LITERAL(out, ",\"xmin\":null,");
    json_append(out, src->origin.data, src->origin.len);
    JSON_LITERAL(out, "},\"transaction\":");
    if (order == nullptr) {
        JSON_LITERAL(out, "null");
    } else {
        JSON_LITERAL(out, "{\"id\":\"");
        json_write_uint64(out, order->xid);
        appendStringInfoCharMacro(out, ':');
        json_write_uint64(out, change_lsn);
        appendStringInfoCharMacro(out, '"');
        JSON_LITERAL(out, ",\"total_order\":");
        json_write_uint64(out, order->total_order);
        JSON_LITERAL(out, ",\"data_collection_order\":");
        json_write_uint64(out, order->data_collection_order);
        appendStringInfoCharMacro(out, '}');
    }
}

// Envelope ts_*: when walcast produced the event.
void write_envelope_times(StringInfo out) {
    int64 micros = unix_micros(GetCurrentTimestamp());
    JSON_LITERAL(out, ",\"ts_ms\":");
    json_write_int64(out, micros / 1000);
    JSON_LITERAL(out, ",\"ts_us\":");
    json_write_int64(out, micros);
    JSON_LITERAL(out, ",\"ts_ns\":");
    json_write_int64(out, micros * 1000);
    appendStringInfoCharMacro(out, '}');
}

// format=json carries the schema in each value; frames announce it once (R frames).
bool wraps_value(const WalcastOptions *opts) {
    return opts->schemas && opts->format == OutputFormat::Json;
}

void write_op(StringInfo out, char op) {
    char text[9] = {',', '"', 'o', 'p', '"', ':', '"', op, '"'};
    json_append(out, text, 9);
}

void source_head_common(EventSource *src, const WalcastOptions *opts, TimestampTz ts,
                        const char *snapshot, XLogRecPtr sequence_first) {
    initStringInfo(&src->head);
    initStringInfo(&src->tail);
    initStringInfo(&src->txid);
    initStringInfo(&src->origin);
    int64 micros = unix_micros(ts);
    StringInfo h = &src->head;
    JSON_LITERAL(h, "\"source\":{\"version\":\"" WALCAST_VERSION
                    "\",\"connector\":\"postgresql\",\"name\":");
    json_write_cstring(h, opts->topic_prefix);
    JSON_LITERAL(h, ",\"ts_ms\":");
    json_write_int64(h, micros / 1000);
    JSON_LITERAL(h, ",\"snapshot\":");
    json_write_cstring(h, snapshot);
    JSON_LITERAL(h, ",\"db\":");
    json_write_cstring(h, opts->database_name ? opts->database_name : "");
    // sequence = [commit LSN of the transaction, LSN of the change]: the ordering key.
    JSON_LITERAL(h, ",\"sequence\":\"[\\\"");
    json_write_uint64(h, sequence_first);
    JSON_LITERAL(h, "\\\",\\\"");
    StringInfo t = &src->tail;
    JSON_LITERAL(t, "\\\"]\",\"ts_us\":");
    json_write_int64(t, micros);
    JSON_LITERAL(t, ",\"ts_ns\":");
    json_write_int64(t, micros * 1000);
    appendStringInfoCharMacro(t, ',');
}

}  // namespace

int64 unix_micros(TimestampTz ts) {
    return ts + (int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

void event_source_init_streaming(EventSource *src, const WalcastOptions *opts, TransactionId xid,
                                 XLogRecPtr commit_lsn, TimestampTz commit_time,
                                 const char *origin_name, XLogRecPtr origin_lsn) {
    source_head_common(src, opts, commit_time, "false", commit_lsn);
    if (TransactionIdIsValid(xid))
        json_write_uint64(&src->txid, xid);
    else
        JSON_LITERAL(&src->txid, "null");
    if (origin_name != nullptr) {
        JSON_LITERAL(&src->origin, "\"origin\":");
        json_write_cstring(&src->origin, origin_name);
        JSON_LITERAL(&src->origin, ",\"origin_lsn\":");
        json_write_uint64(&src->origin, origin_lsn);
    } else {
        JSON_LITERAL(&src->origin, "\"origin\":null,\"origin_lsn\":null");
    }
    src->has_change_lsn = true;
    src->lsn_null = false;
    src->fixed_lsn = InvalidXLogRecPtr;
}

// Snapshot rows: Debezium gives the id its snapshot transaction is assigned after the
// snapshot is taken (pg_current_xact_id(), an epoch-qualified xid8). walcast's readers
// share one exported snapshot and assign no id; they give that snapshot's xmax, the first
// id not yet assigned when it was taken: the same for every row and reader, and what
// Debezium's transaction gets when nothing else starts in between.
static uint64 snapshot_txid() {
    Snapshot snap = GetActiveSnapshot();
    FullTransactionId next = ReadNextFullTransactionId();
    uint32 epoch = EpochFromFullTransactionId(next);
    // xmax <= next; numerically above it only when next wrapped into a new epoch since.
    if (snap->xmax > XidFromFullTransactionId(next)) epoch--;
    return ((uint64)epoch << 32) | snap->xmax;
}

void event_source_init_snapshot(EventSource *src, const WalcastOptions *opts, XLogRecPtr lsn,
                                const char *marker, TimestampTz read_time) {
    source_head_common(src, opts, read_time, marker, lsn);
    // Debezium leaves txId, lsn and xmin out of incremental snapshot rows.
    bool incremental = strcmp(marker, "incremental") == 0;
    if (incremental)
        JSON_LITERAL(&src->txid, "null");
    else
        json_write_uint64(&src->txid, snapshot_txid());
    src->lsn_null = incremental;
    JSON_LITERAL(&src->origin, "\"origin\":null,\"origin_lsn\":null");
    src->has_change_lsn = false;
    src->fixed_lsn = lsn;
}

void event_write_key(StringInfo out, const WalcastOptions *opts, const RelationInfo *rel,
                     HeapTuple tuple, TupleDesc desc) {
    if (rel->nkeys == 0 || tuple == nullptr) return;
    event_limit_begin(out, opts, rel->data_collection, nullptr, InvalidXLogRecPtr);
    Deformed row = deform(tuple, desc);
    Deformed none = {nullptr, nullptr, false};
    write_columns(out, opts, rel->keys, rel->nkeys, desc, row, none);
}

void event_write_row(StringInfo out, const WalcastOptions *opts, const EventSource *src,
                     const RelationInfo *rel, const RowChange *change, const EventOrder *order) {
    event_limit_begin(out, opts, rel->data_collection, nullptr,
                      change->op == 'r' ? src->fixed_lsn : change->lsn);
    ErrorContextCallback name_it;
    event_limit_push_context(&name_it);
    Deformed before = deform(change->before, change->desc);
    Deformed after = deform(change->after, change->desc, change->op == 'r');
    Deformed toast_source = deform(change->toast_source, change->desc);
    Deformed none = {nullptr, nullptr, false};

    if (opts->format == OutputFormat::Frames) {
        write_frame_header(out, change->op, rel->topic, rel->topic_len);
        const Deformed &key_row = change->op == 'd' ? before : after;
        if (rel->nkeys > 0 && key_row.values != nullptr)
            write_columns(out, opts, rel->keys, rel->nkeys, change->desc, key_row, none);
        appendStringInfoCharMacro(out, '\t');
    }
    bool wrap = wraps_value(opts);
    if (wrap) connect_schema_wrap_begin(out, rel->value_schema);
    JSON_LITERAL(out, "{\"before\":");
    write_row_or_null(out, opts, rel, change->desc, before, none);
    JSON_LITERAL(out, ",\"after\":");
    write_row_or_null(out, opts, rel, change->desc, after, toast_source);
    appendStringInfoCharMacro(out, ',');
    write_source_and_transaction(out, src, rel->source_names, rel->source_names_len, change->lsn,
                                 order);
    write_op(out, change->op);
    write_envelope_times(out);
    if (wrap) connect_schema_wrap_end(out);
    event_limit_require(out, 0, nullptr, 0);
    event_limit_pop_context(&name_it);
}

void event_write_snapshot_template(StringInfo out, const WalcastOptions *opts,
                                   const EventSource *src, const RelationInfo *rel) {
    JSON_LITERAL(out, "S\t");
    json_append(out, rel->topic, rel->topic_len);
    JSON_LITERAL(out, "\t{\"before\":null,\"after\":\t,");
    write_source_and_transaction(out, src, rel->source_names, rel->source_names_len,
                                 InvalidXLogRecPtr, nullptr);
    write_op(out, 'r');
    if (opts->schemas) {
        appendStringInfoChar(out, '\t');
        if (rel->key_schema) appendStringInfoString(out, rel->key_schema);
        appendStringInfoChar(out, '\t');
        appendStringInfoString(out, rel->value_schema);
    }
}

void event_write_snapshot_row(StringInfo out, const WalcastOptions *opts, const RelationInfo *rel,
                              HeapTuple tuple, TupleDesc desc) {
    Deformed row = deform(tuple, desc, true);
    event_write_snapshot_values(out, opts, rel, desc, row.values, row.nulls);
}

void event_write_snapshot_values(StringInfo out, const WalcastOptions *opts,
                                 const RelationInfo *rel, TupleDesc desc, Datum *values,
                                 bool *nulls) {
    event_limit_begin(out, opts, rel->data_collection, nullptr, opts->snapshot_lsn);
    ErrorContextCallback name_it;
    event_limit_push_context(&name_it);
    Deformed row = {values, nulls, true};
    Deformed none = {nullptr, nullptr, false};
    if (rel->nkeys > 0) write_columns(out, opts, rel->keys, rel->nkeys, desc, row, none);
    appendStringInfoCharMacro(out, '\t');
    write_columns(out, opts, rel->columns, rel->ncolumns, desc, row, none);
    event_limit_pop_context(&name_it);
}

void event_write_truncate(StringInfo out, const WalcastOptions *opts, const EventSource *src,
                          const RelationInfo *rel, XLogRecPtr lsn, const EventOrder *order) {
    if (opts->format == OutputFormat::Frames) {
        write_frame_header(out, 't', rel->topic, rel->topic_len);
        appendStringInfoCharMacro(out, '\t');
    }
    bool wrap = wraps_value(opts);
    if (wrap) connect_schema_wrap_begin(out, rel->value_schema);
    JSON_LITERAL(out, "{\"before\":null,\"after\":null,");
    write_source_and_transaction(out, src, rel->source_names, rel->source_names_len, lsn, order);
    write_op(out, 't');
    write_envelope_times(out);
    if (wrap) connect_schema_wrap_end(out);
}

void event_write_message(StringInfo out, const WalcastOptions *opts, const EventSource *src,
                         const char *prefix, const char *content, Size content_size, XLogRecPtr lsn,
                         const EventOrder *order) {
    event_limit_begin(out, opts, nullptr, prefix, lsn);
    // The content in binary.handling.mode's text, exactly, plus the envelope (well under
    // 1 KB of it).
    event_limit_require(
        out, opts->binary_mode == BinaryMode::Hex ? 2 * content_size : (content_size + 2) / 3 * 4,
        nullptr, 0);
    if (opts->format == OutputFormat::Frames) {
        StringInfoData topic;
        initStringInfo(&topic);
        topic_append_mapped(&topic, opts->topic_prefix);
        appendStringInfoString(&topic, ".message");
        write_frame_header(out, 'm', topic.data, topic.len);
        JSON_LITERAL(out, "{\"prefix\":");
        json_write_cstring(out, prefix);
        JSON_LITERAL(out, "}\t");
    }
    bool wrap = wraps_value(opts);
    if (wrap) connect_schema_wrap_begin(out, opts->message_value_schema);
    // Debezium's message envelope: op and ts_ms first, no before/after.
    int64 micros = unix_micros(GetCurrentTimestamp());
    JSON_LITERAL(out, "{\"op\":\"m\",\"ts_ms\":");
    json_write_int64(out, micros / 1000);
    appendStringInfoCharMacro(out, ',');
    static const char kNoTable[] = "\"schema\":\"\",\"table\":\"\",";
    write_source_and_transaction(out, src, kNoTable, sizeof(kNoTable) - 1, lsn, order);
    JSON_LITERAL(out, ",\"message\":{\"prefix\":");
    json_write_cstring(out, prefix);
    // Debezium's LogicalDecodingMessageMonitor encodes the content by binary.handling.mode.
    JSON_LITERAL(out, ",\"content\":");
    write_binary(out, (const unsigned char *)content, (int)content_size, opts->binary_mode);
    JSON_LITERAL(out, "}}");
    if (wrap) connect_schema_wrap_end(out);
    event_limit_require(out, 0, nullptr, 0);
}
