// Plugin and snapshot-function options: Debezium's names, parsed once per slot start.
#pragma once

#include "pg.h"

enum class DecimalMode : uint8 { Precise, String, Double };
enum class TimePrecisionMode : uint8 { Adaptive, AdaptiveTimeMicroseconds, Connect };
enum class BinaryMode : uint8 { Bytes, Base64, Base64UrlSafe, Hex };
enum class IntervalMode : uint8 { Numeric, String };
enum class HstoreMode : uint8 { Json, Map };
enum class OutputFormat : uint8 { Json, Frames };

// Bits of skipped.operations.
enum SkippedOp : uint8 {
    SKIP_CREATE = 1 << 0,
    SKIP_UPDATE = 1 << 1,
    SKIP_DELETE = 1 << 2,
    SKIP_TRUNCATE = 1 << 3,
};

// One entry of message.key.columns: tables whose "schema.table" matches use these
// columns, in this order, as the event key instead of the primary key.
struct MessageKeyColumns {
    regex_t *table;
    List *columns;  // of char *
    MessageKeyColumns *next;
};

struct WalcastOptions {
    OutputFormat format = OutputFormat::Json;
    const char *topic_prefix = "walcast";  // also source.name
    // source.db: resolved once where a transaction allows catalog access (startup), as
    // the walsender calls some callbacks (non-transactional messages) outside any.
    const char *database_name = nullptr;
    regex_t *schema_include = nullptr;  // on the schema name
    regex_t *schema_exclude = nullptr;
    regex_t *table_include = nullptr;  // on "schema.table"
    regex_t *table_exclude = nullptr;
    regex_t *column_include = nullptr;  // on "schema.table.column"
    regex_t *column_exclude = nullptr;
    MessageKeyColumns *message_key_columns = nullptr;  // first match wins
    regex_t *message_prefix_include = nullptr;
    regex_t *message_prefix_exclude = nullptr;
    // signal.data.collection: "schema.table" of the user's signal table (Debezium's
    // layout), or NULL. Its inserts become W frames (as walcast.signals' always do).
    const char *signal_data_collection = nullptr;
    uint8 skipped_ops = SKIP_TRUNCATE;  // Debezium skips truncates by default
    bool transaction_metadata = false;
    bool via_partition_root = false;
    // Connect schemas with the events: R frames (format=frames) or {"schema":..,"payload":..}
    // values (format=json).
    bool schemas = false;
    const char *message_value_schema = nullptr;  // with schemas: of <prefix>.message events
    DecimalMode decimal_mode = DecimalMode::Precise;
    TimePrecisionMode time_precision = TimePrecisionMode::Adaptive;
    BinaryMode binary_mode = BinaryMode::Bytes;
    IntervalMode interval_mode = IntervalMode::Numeric;
    HstoreMode hstore_mode = HstoreMode::Json;
    Size max_event_bytes = 0;  // event.max.bytes; 0: what PostgreSQL can send (1 GB)
    // Kafka Connect's JsonConverter writes a NULL of a column with a DEFAULT as the default.
    bool replace_null_with_default = true;
    const char *unavailable_placeholder = "__debezium_unavailable_value";
    int unavailable_placeholder_len = 28;
    // Snapshot function only: what source.lsn and source.snapshot say.
    XLogRecPtr snapshot_lsn = InvalidXLogRecPtr;
    const char *snapshot_marker = "true";
    Oid snapshot_expect_filenode = InvalidOid;  // the table's file when the snapshot was planned
    bool snapshot_compact = false;  // one template frame per call, then key and after per row
    // snapshot_rows() only: the rows returned satisfy it (a condition as
    // check_snapshot_condition() accepts, checked again by the function).
    const char *snapshot_condition = nullptr;
    // Set by the snapshot function: values are read from the table, where Debezium's
    // snapshot reads them through JDBC, which renders a few values differently (dates at
    // ±infinity) from its streamed form.
    bool reading_table = false;
    // snapshot.as.streamed: the snapshot function renders rows as a streamed change would
    // (walcast verify compares the table with topics that hold both).
    bool snapshot_as_streamed = false;
};

// Parses a list of DefElem (plugin options) into opts. Raises ERROR naming the
// option and its accepted values on an unknown option or a bad value.
void walcast_parse_options(WalcastOptions *opts, List *defels, bool for_snapshot);

// The key columns message.key.columns gives the table "schema.table", or NIL.
List *walcast_message_key_columns(const WalcastOptions *opts, const char *qualified);

// True when text matches the compiled regex (NULL regex never matches).
bool walcast_regex_match(regex_t *re, const char *text, int len);
