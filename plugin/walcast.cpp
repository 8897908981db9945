// The logical decoding output plugin: callbacks that turn reorder-buffer changes
// into Debezium events, one write per event.
#include <new>

#include "pg.h"

#include "connect_schema.h"
#include "event_encoder.h"
#include "json_writer.h"
#include "options.h"
#include "relation_cache.h"
#include "transaction_state.h"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);
}

namespace {

// pgoutput keeps the walsender responsive with the same cadence.
const int kChangesPerProgressUpdate = 100;

struct PluginState {
    WalcastOptions opts;
    MemoryContext change_context;  // reset after every change
    TransactionState txn;
    int changes_since_progress;
    bool message_schema_announced;  // the R frame of <prefix>.message went out
    // The last transaction begun: Debezium's decoder keeps its commit time and origin
    // and stamps them on the non-transactional messages that follow.
    TimestampTz last_commit_time;
    char *last_origin_name;  // in the decoding context; NULL: no origin
    XLogRecPtr last_origin_lsn;
};

PluginState *state_of(LogicalDecodingContext *ctx) {
    return (PluginState *)ctx->output_plugin_private;
}

// The walsender runs startup outside any transaction; a catalog lookup needs one (and a
// resource owner), so take a short one of our own when the caller has none.
const char *database_name_for_events(MemoryContext context) {
    MemoryContext caller = CurrentMemoryContext;
    bool own_transaction = !IsTransactionState();
    if (own_transaction) StartTransactionCommand();
    const char *name = get_database_name(MyDatabaseId);
    if (name == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_DATABASE),
                        errmsg("walcast: database %u does not exist", MyDatabaseId)));
    char *copy = MemoryContextStrdup(context, name);
    if (own_transaction) CommitTransactionCommand();
    MemoryContextSwitchTo(caller);
    return copy;
}

void startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init) {
    PluginState *state = (PluginState *)MemoryContextAllocZero(ctx->context, sizeof(PluginState));
    new (&state->opts) WalcastOptions();
    ctx->output_plugin_private = state;
    opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
    opt->receive_rewrites = false;

    MemoryContext old = MemoryContextSwitchTo(ctx->context);
    walcast_parse_options(&state->opts, ctx->output_plugin_options, false);
    MemoryContextSwitchTo(old);
    // Slot creation (is_init) decodes nothing; inside the walsender's
    // CREATE_REPLICATION_SLOT ... USE_SNAPSHOT a lookup would pin a catalog snapshot.
    if (!is_init) state->opts.database_name = database_name_for_events(ctx->context);

    state->change_context =
        AllocSetContextCreate(ctx->context, "walcast change", ALLOCSET_DEFAULT_SIZES);
    transaction_state_init(&state->txn, ctx->context);
    relation_cache_init(ctx->context, &state->opts);
}

void shutdown(LogicalDecodingContext *) { relation_cache_reset(); }

void keep_walsender_alive(LogicalDecodingContext *ctx, PluginState *state) {
    if (++state->changes_since_progress >= kChangesPerProgressUpdate) {
        state->changes_since_progress = 0;
        WALCAST_UPDATE_PROGRESS(ctx);
    }
}

// The name of a transaction's replication origin, as pgoutput's Origin message carries it
// (Debezium's source.origin); NULL for none. Begin runs inside the decoding transaction.
char *origin_name_of(LogicalDecodingContext *ctx, RepOriginId origin_id) {
    char *name = nullptr;
    if (origin_id == InvalidRepOriginId || !IsTransactionState() ||
        !replorigin_by_oid(origin_id, true, &name))
        return nullptr;
    return MemoryContextStrdup(ctx->context, name);
}

void begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn) {
    PluginState *state = state_of(ctx);
    if (state->last_origin_name) pfree(state->last_origin_name);
    state->last_origin_name = origin_name_of(ctx, txn->origin_id);
    state->last_origin_lsn = txn->origin_lsn;
    state->last_commit_time = WALCAST_COMMIT_TIME(txn);
    transaction_state_begin(&state->txn, txn->xid, txn->first_lsn, txn->final_lsn, txn->end_lsn,
                            WALCAST_COMMIT_TIME(txn), state->last_origin_name,
                            state->last_origin_lsn);
}

void commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *, XLogRecPtr) {
    PluginState *state = state_of(ctx);
    bool emitted = state->txn.begun;
    transaction_state_commit(&state->txn, ctx, &state->opts);
    if (!emitted) WALCAST_UPDATE_PROGRESS(ctx);
}

// Keys differ between the old and new row: Debezium emits a delete and a create.
bool key_changed(const RelationInfo *rel, HeapTuple oldtuple, HeapTuple newtuple, TupleDesc desc) {
    if (oldtuple == nullptr || rel->nkeys == 0) return false;
    for (int k = 0; k < rel->nkeys; k++) {
        AttrNumber attnum = rel->keys[k].attnum;
        bool old_null, new_null;
        Datum old_value = heap_getattr(oldtuple, attnum, desc, &old_null);
        Datum new_value = heap_getattr(newtuple, attnum, desc, &new_null);
        if (old_null != new_null) return true;
        if (old_null) continue;
        Form_pg_attribute attr = TupleDescAttr(desc, attnum - 1);
        if (!datum_image_eq(old_value, new_value, attr->attbyval, attr->attlen)) return true;
    }
    return false;
}

// With schemas and format=frames: the topic's R frame before its first event of the
// session, and again after the relation's entry was rebuilt (its shape may have changed).
bool announces_schemas(const WalcastOptions *opts) {
    return opts->schemas && opts->format == OutputFormat::Frames;
}

void announce_schemas(LogicalDecodingContext *ctx, PluginState *state, RelationInfo *rel) {
    if (!announces_schemas(&state->opts) || rel->schema_announced) return;
    OutputPluginPrepareWrite(ctx, true);
    connect_schema_write_frame(ctx->out, rel->topic, rel->topic_len, rel->key_schema,
                               rel->value_schema);
    OutputPluginWrite(ctx, true);
    rel->schema_announced = true;
}

void announce_message_schemas(LogicalDecodingContext *ctx, PluginState *state) {
    if (!announces_schemas(&state->opts) || state->message_schema_announced) return;
    StringInfoData topic;
    initStringInfo(&topic);
    topic_append_mapped(&topic, state->opts.topic_prefix);
    appendStringInfoString(&topic, ".message");
    OutputPluginPrepareWrite(ctx, true);
    connect_schema_write_frame(ctx->out, topic.data, topic.len, connect_schema_message_key(),
                               state->opts.message_value_schema);
    OutputPluginWrite(ctx, true);
    state->message_schema_announced = true;
}

void emit_row(LogicalDecodingContext *ctx, PluginState *state, RelationInfo *rel,
              const RowChange &change) {
    transaction_state_ensure_begun(&state->txn, ctx, &state->opts, change.lsn);
    announce_schemas(ctx, state, rel);
    EventOrder order;
    const EventOrder *order_ptr =
        transaction_state_next_order(&state->txn, &state->opts, rel, &order);
    OutputPluginPrepareWrite(ctx, true);
    event_write_row(ctx->out, &state->opts, &state->txn.source, rel, &change, order_ptr);
    OutputPluginWrite(ctx, true);
}

// One column of a signal row as JSON: its text form as a string, or null.
void write_signal_column(StringInfo out, HeapTuple tuple, TupleDesc desc, AttrNumber attnum) {
    bool isnull = true;
    Datum value = attnum > 0 ? heap_getattr(tuple, attnum, desc, &isnull) : (Datum)0;
    if (isnull) {
        JSON_LITERAL(out, "null");
        return;
    }
    Oid output;
    bool varlena;
    getTypeOutputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &output, &varlena);
    json_write_cstring(out, OidOutputFunctionCall(output, value));
}

// An insert into a signal table: `W\t<lsn>\tsignal\t{"id":..,"type":..,"data":..}`. A
// walcast.control message cannot produce this frame (its tabs are written as spaces), so
// the sidecar can tell a signal that passed the table's INSERT privilege from a message
// any role can write.
void signal_row(LogicalDecodingContext *ctx, PluginState *state, const RelationInfo *rel,
                TupleDesc desc, HeapTuple tuple, XLogRecPtr lsn) {
    if (state->opts.format != OutputFormat::Frames || tuple == nullptr) return;
    MemoryContext old = MemoryContextSwitchTo(state->change_context);
    transaction_state_ensure_begun(&state->txn, ctx, &state->opts, lsn);
    OutputPluginPrepareWrite(ctx, true);
    appendStringInfo(ctx->out, "W\t%llu\tsignal\t{\"id\":", (unsigned long long)lsn);
    write_signal_column(ctx->out, tuple, desc, rel->signal_id_attnum);
    JSON_LITERAL(ctx->out, ",\"type\":");
    write_signal_column(ctx->out, tuple, desc, rel->signal_type_attnum);
    JSON_LITERAL(ctx->out, ",\"data\":");
    write_signal_column(ctx->out, tuple, desc, rel->signal_data_attnum);
    appendStringInfoChar(ctx->out, '}');
    OutputPluginWrite(ctx, true);
    MemoryContextSwitchTo(old);
    MemoryContextReset(state->change_context);
}

void change(LogicalDecodingContext *ctx, ReorderBufferTXN *, Relation relation,
            ReorderBufferChange *change) {
    PluginState *state = state_of(ctx);
    keep_walsender_alive(ctx, state);
    RelationInfo *rel = relation_cache_get(relation);
    if (rel->is_signal_table) {
        if (change->action == REORDER_BUFFER_CHANGE_INSERT)
            signal_row(ctx, state, rel, RelationGetDescr(relation),
                       WALCAST_CHANGE_TUPLE(change->data.tp.newtuple), change->lsn);
        return;
    }
    if (!rel->included) return;

    MemoryContext old = MemoryContextSwitchTo(state->change_context);
    TupleDesc desc = RelationGetDescr(relation);
    HeapTuple newtuple = WALCAST_CHANGE_TUPLE(change->data.tp.newtuple);
    HeapTuple oldtuple = WALCAST_CHANGE_TUPLE(change->data.tp.oldtuple);
    uint8 skipped = state->opts.skipped_ops;
    bool full = rel->replica_identity == REPLICA_IDENTITY_FULL;

    switch (change->action) {
        case REORDER_BUFFER_CHANGE_INSERT:
            if (!(skipped & SKIP_CREATE))
                emit_row(ctx, state, rel, {'c', nullptr, newtuple, nullptr, desc, change->lsn});
            break;
        case REORDER_BUFFER_CHANGE_UPDATE:
            if (skipped & SKIP_UPDATE) break;
            if (key_changed(rel, oldtuple, newtuple, desc)) {
                emit_row(ctx, state, rel, {'d', oldtuple, nullptr, nullptr, desc, change->lsn});
                emit_row(ctx, state, rel,
                         {'c', nullptr, newtuple, full ? oldtuple : nullptr, desc, change->lsn});
            } else {
                // DEFAULT identity logs old key columns only when needed; Debezium's
                // before is then null. FULL and INDEX show what was logged.
                HeapTuple before =
                    rel->replica_identity == REPLICA_IDENTITY_DEFAULT ? nullptr : oldtuple;
                emit_row(ctx, state, rel,
                         {'u', before, newtuple, full ? oldtuple : nullptr, desc, change->lsn});
            }
            break;
        case REORDER_BUFFER_CHANGE_DELETE:
            if (!(skipped & SKIP_DELETE))
                emit_row(ctx, state, rel, {'d', oldtuple, nullptr, nullptr, desc, change->lsn});
            break;
        default:
            break;
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(state->change_context);
}

void truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *, int nrelations, Relation relations[],
              ReorderBufferChange *change) {
    PluginState *state = state_of(ctx);
    if (state->opts.skipped_ops & SKIP_TRUNCATE) return;
    MemoryContext old = MemoryContextSwitchTo(state->change_context);
    for (int i = 0; i < nrelations; i++) {
        RelationInfo *rel = relation_cache_get(relations[i]);
        if (!rel->included) continue;
        transaction_state_ensure_begun(&state->txn, ctx, &state->opts, change->lsn);
        announce_schemas(ctx, state, rel);
        EventOrder order;
        const EventOrder *order_ptr =
            transaction_state_next_order(&state->txn, &state->opts, rel, &order);
        OutputPluginPrepareWrite(ctx, true);
        event_write_truncate(ctx->out, &state->opts, &state->txn.source, rel, change->lsn,
                             order_ptr);
        OutputPluginWrite(ctx, true);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(state->change_context);
}

bool message_wanted(const WalcastOptions *opts, const char *prefix) {
    int len = (int)strlen(prefix);
    if (opts->message_prefix_include &&
        !walcast_regex_match(opts->message_prefix_include, prefix, len))
        return false;
    return !walcast_regex_match(opts->message_prefix_exclude, prefix, len);
}

// walcast's own messages (watermarks of incremental snapshots, snapshot signals from
// walcast.execute_snapshot()): W frames for the sidecar, never user events.
const char kControlPrefix[] = "walcast.control";

void control_message(LogicalDecodingContext *ctx, PluginState *state, XLogRecPtr message_lsn,
                     bool transactional, Size message_size, const char *message) {
    if (state->opts.format != OutputFormat::Frames) return;
    bool standalone = !transactional;
    if (standalone)
        transaction_state_begin(&state->txn, InvalidTransactionId, message_lsn, message_lsn,
                                message_lsn, GetCurrentTimestamp(), nullptr, InvalidXLogRecPtr);
    transaction_state_ensure_begun(&state->txn, ctx, &state->opts, message_lsn);
    OutputPluginPrepareWrite(ctx, true);
    appendStringInfo(ctx->out, "W\t%llu\t", (unsigned long long)message_lsn);
    // One frame per message: a newline is harmless, but keep the frame one line for
    // pg_recvlogical readers. Tabs too: a message must not look like a signal-table row's
    // frame (signal_row).
    for (Size i = 0; i < message_size; i++)
        appendStringInfoChar(ctx->out, message[i] == '\n' || message[i] == '\t' ? ' ' : message[i]);
    OutputPluginWrite(ctx, true);
    if (standalone) transaction_state_commit(&state->txn, ctx, &state->opts);
}

void message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr message_lsn,
             bool transactional, const char *prefix, Size message_size, const char *message) {
    PluginState *state = state_of(ctx);
    if (strcmp(prefix, kControlPrefix) == 0) {
        control_message(ctx, state, message_lsn, transactional, message_size, message);
        return;
    }
    if (!message_wanted(&state->opts, prefix)) return;
    MemoryContext old = MemoryContextSwitchTo(state->change_context);
    // A non-transactional message is its own one-event transaction, stamped with the
    // commit time and origin of the last transaction decoded before it (as Debezium's
    // are; the time of decoding when there was none).
    bool standalone = !transactional;
    if (standalone)
        transaction_state_begin(
            &state->txn, InvalidTransactionId, message_lsn, message_lsn, message_lsn,
            state->last_commit_time != 0 ? state->last_commit_time : GetCurrentTimestamp(),
            state->last_origin_name, state->last_origin_lsn);
    transaction_state_ensure_begun(&state->txn, ctx, &state->opts, message_lsn);
    announce_message_schemas(ctx, state);
    EventOrder order;
    const EventOrder *order_ptr =
        transaction_state_next_order(&state->txn, &state->opts, nullptr, &order);
    OutputPluginPrepareWrite(ctx, true);
    event_write_message(ctx->out, &state->opts, &state->txn.source, prefix, message, message_size,
                        message_lsn, order_ptr);
    OutputPluginWrite(ctx, true);
    if (standalone) transaction_state_commit(&state->txn, ctx, &state->opts);
    MemoryContextSwitchTo(old);
    MemoryContextReset(state->change_context);
    (void)txn;
}

}  // namespace

extern "C" void _PG_output_plugin_init(OutputPluginCallbacks *cb) {
    cb->startup_cb = startup;
    cb->begin_cb = begin_txn;
    cb->change_cb = change;
    cb->truncate_cb = truncate;
    cb->commit_cb = commit_txn;
    cb->message_cb = message;
    cb->shutdown_cb = shutdown;
}
