// Per-relation metadata resolved once and reused for every change of the relation:
// topic, pre-rendered JSON fragments, column encoders, key columns. Invalidated by
// relcache callbacks (the relation, or the partition root it publishes as) and by any
// schema change (renamed schemas), so every event reflects the names and the shape of
// the table at its WAL position.
#pragma once

#include "pg.h"
#include "options.h"
#include "type_encoder.h"

struct ColumnInfo {
    AttrNumber attnum;            // in the tuples of the relation being decoded (the leaf)
    AttrNumber published_attnum;  // in the relation whose shape events carry
    const char *name_json;        // `"name":` pre-escaped, ready to append
    int name_json_len;
    bool is_key;
    TypeEncoder encoder;
    const char *default_json;  // the DEFAULT as Debezium reads it, or NULL (column_default.h)
    int default_json_len;
    const char *null_json;  // written for a NULL or missing value (column_default.h)
    int null_json_len;
};

struct RelationInfo {
    Oid relid;            // hash key: the relation the change belongs to
    Oid published_relid;  // whose name and shape events carry: relid, or its partition root
    bool valid;
    bool included;  // passes table.include.list / table.exclude.list
    // A signal table (walcast.signals, or signal.data.collection): its inserts are
    // signals (W frames), never events, whatever the filters say. signal_*_attnum: its
    // id, type and data columns (0: missing).
    bool is_signal_table;
    AttrNumber signal_id_attnum, signal_type_attnum, signal_data_attnum;
    char replica_identity;
    const char *topic;  // <prefix>.<schema>.<table>, mapped to Kafka's alphabet
    int topic_len;
    const char *data_collection;  // schema.table, raw, for transaction metadata
    const char *source_names;     // `"schema":"s","table":"t",` pre-rendered
    int source_names_len;
    int ncolumns;  // emitted columns (not dropped, not excluded), in attnum order
    ColumnInfo *columns;
    int nkeys;  // key columns, in key order
    ColumnInfo *keys;
    // Connect schemas (option schemas): JsonConverter JSON of the key (nullptr without
    // key) and of the envelope; announced is set once the R frame went out (format=frames).
    const char *key_schema;
    const char *value_schema;
    bool schema_announced;
    MemoryContext context;  // owns everything above
};

// Builds the metadata of rel under the given options; also used on its own by the
// snapshot function, which reads one relation per call.
RelationInfo *relation_info_build(Relation rel, const WalcastOptions *opts, MemoryContext parent);

// The plugin's cache lives for one decoding session (startup to shutdown).
void relation_cache_init(MemoryContext parent, const WalcastOptions *opts);
void relation_cache_reset();

// The cache entry for rel, built on first use or after an invalidation. Raises ERROR
// when an included relation maps to the topic of another one (a."b.c" and "a.b".c).
RelationInfo *relation_cache_get(Relation rel);

// Maps characters outside Kafka's topic alphabet [a-zA-Z0-9._-] to '_' (one per UTF-16
// code unit: two for a character outside the BMP) and caps the length at 249; appends
// the result to out.
void topic_append_mapped(StringInfo out, const char *name);
