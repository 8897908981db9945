#include "config/settings.h"

#include <climits>

namespace walcast {

namespace {

// Intervals and timeouts end up in int-sized waits.
constexpr std::int64_t kMaxMillis = INT_MAX;
constexpr std::int64_t kNoMax = INT64_MAX;

const char *const kOnlyWalcast = "walcast only";

const char *group_title(Group g) {
    switch (g) {
        case Group::kConnection:
            return "Connection";
        case Group::kSlotSnapshot:
            return "Slot and snapshot";
        case Group::kEventFormat:
            return "Plugin and event format";
        case Group::kSink:
            return "Sink and Kafka";
        case Group::kErrors:
            return "Errors";
        case Group::kMetricsLogging:
            return "Metrics and logging";
    }
    return "";
}

const Group kGroups[] = {Group::kConnection, Group::kSlotSnapshot, Group::kEventFormat,
                         Group::kSink,       Group::kErrors,       Group::kMetricsLogging};

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string commands_text(unsigned c) {
    std::vector<std::string> names;
    if (c & kRun) names.push_back("run");
    if (c & kStatus) names.push_back("status");
    if (c & kVerify) names.push_back("verify");
    if (c & kSlotDrop) names.push_back("slot drop");
    if (c & kSnapshot) names.push_back("snapshot");
    return join(names);
}

std::string default_text(const Setting &s) {
    if (*s.def) return s.def;
    if (s.kind == Kind::kSink) return "kafka when kafka.bootstrap.servers is set, else stdout";
    return "";
}

}  // namespace

const std::vector<Setting> &settings() {
    constexpr unsigned kConn = kAllCommands;
    constexpr unsigned kFormat = kRun | kVerify;  // the encoder's options: stream and verify
    // One setting per entry; descriptions are one line each.
    // clang-format off
    static const std::vector<Setting> kSettings = {
        {"database.hostname", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "PostgreSQL host (libpq host; unset: libpq's default, PGHOST)"},
        {"database.port", Kind::kInt, "", {}, 1, 65535, Group::kConnection, kConn, false, nullptr,
         "PostgreSQL port (libpq port; unset: PGPORT or 5432)"},
        {"database.user", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "Role to connect as; needs REPLICATION (libpq user)"},
        {"database.password", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "Password (secret: refused on the command line; PGPASSWORD and ~/.pgpass also work)"},
        {"database.password.file", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, kOnlyWalcast,
         "File whose first line is the password (instead of database.password)"},
        {"database.dbname", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "Database whose changes are streamed (libpq dbname)"},
        {"database.url", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, kOnlyWalcast,
         "libpq URI or conninfo string; the other database.* keys override its parts"},
        {"database.sslmode", Kind::kEnum, "", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "TLS to PostgreSQL (libpq sslmode; unset: PGSSLMODE or prefer)"},
        {"database.sslrootcert", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "CA certificate file that verifies the server (libpq sslrootcert)"},
        {"database.sslcert", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "Client certificate file (libpq sslcert)"},
        {"database.sslkey", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "Client private key file (libpq sslkey)"},
        {"database.sslpassword", Kind::kString, "", {}, 0, kNoMax, Group::kConnection, kConn, false, nullptr,
         "Passphrase of database.sslkey (secret: refused on the command line)"},

        {"slot.name", Kind::kName, "walcast", {}, 0, kNoMax, Group::kSlotSnapshot, kRun | kStatus | kSlotDrop, false, nullptr,
         "Logical replication slot to stream from"},
        {"slot.create", Kind::kBool, "true", {}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "Create the slot when it does not exist (false: a missing slot is an error)"},
        {"slot.create.timeout.ms", Kind::kInt, "300000", {}, 1, kMaxMillis, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "How long creating the slot may wait for running transactions to end"},
        {"snapshot.mode", Kind::kEnum, "initial", {"no_data", "never", "initial", "initial_only", "when_needed", "always"}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, nullptr,
         "Whether existing rows are sent before streaming (see the top-level README)"},
        {"slot.drop.on.stop", Kind::kBool, "false", {}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, nullptr,
         "Drop the slot when walcast stops cleanly (the next run starts over)"},
        {"snapshot.max.threads", Kind::kInt, "2", {}, 1, 64, Group::kSlotSnapshot, kRun, false, nullptr,
         "Parallel readers of the initial snapshot and of an incremental snapshot (one connection each; an incremental reader has up to three chunks in flight)"},
        {"signal.data.collection", Kind::kString, "", {}, 0, kNoMax, Group::kSlotSnapshot, kRun | kVerify, true, nullptr,
         "schema.table of a signal table (Debezium's id, type, data layout): its inserts are signals (execute-snapshot, stop-, pause-, resume-snapshot, log), never change events; no snapshot or verify reads it"},
        {"incremental.snapshot.chunk.size", Kind::kInt, "1024", {}, 1, 1000000, Group::kSlotSnapshot, kRun, false, nullptr,
         "Rows per chunk of an incremental snapshot (walcast.execute_snapshot()): one short statement; at most this many rows in memory per chunk in flight"},
        {"snapshot.initial.method", Kind::kEnum, "parallel", {"parallel", "incremental"}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "How snapshot.mode's first load reads the tables: parallel (one exported snapshot, streaming after it) or incremental (the slot without an exported snapshot, streaming at once, every table read in incremental chunks)"},
        {"snapshot.new.tables", Kind::kEnum, "off", {"off", "incremental"}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "incremental: on start, tables the filters select whose rows this slot never delivered are read with an incremental snapshot"},
        {"snapshot.chunk.bytes", Kind::kInt, "67108864", {}, 8192, 1LL << 40, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "Target size of one snapshot chunk (a range of a table read by one reader)"},
        {"snapshot.throttle.rows.per.second", Kind::kInt, "0", {}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "Snapshot read limit in rows per second over all readers (0: unlimited)"},
        {"snapshot.throttle.bytes.per.second", Kind::kInt, "0", {}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, kOnlyWalcast,
         "Snapshot read limit in bytes per second over all readers (0: unlimited)"},
        {"verify.memory.bytes", Kind::kInt, "268435456", {}, 1048576, kNoMax, Group::kSlotSnapshot, kVerify, false, kOnlyWalcast,
         "Memory walcast verify may hold for folded topics; a bigger table is split into key buckets spilled to disk"},
        {"verify.threads", Kind::kInt, "0", {}, 0, 256, Group::kSlotSnapshot, kVerify, false, kOnlyWalcast,
         "Buckets walcast verify folds at once (0: one per CPU core)"},
        {"verify.buckets", Kind::kInt, "0", {}, 0, 65536, Group::kSlotSnapshot, kVerify, false, kOnlyWalcast,
         "Key buckets per table for walcast verify (0: from the table's size and verify.memory.bytes)"},
        {"verify.spill.dir", Kind::kString, "", {}, 0, kNoMax, Group::kSlotSnapshot, kVerify, false, kOnlyWalcast,
         "Where walcast verify spills buckets (unset: $TMPDIR or /tmp); needs about a third of the topic's bytes"},
        {"retained.wal.warn.bytes", Kind::kInt, "1073741824", {}, 0, kNoMax, Group::kSlotSnapshot, kStatus, false, kOnlyWalcast,
         "WAL the slot retains above which status warns"},
        {"status.update.interval.ms", Kind::kInt, "10000", {}, 1, kMaxMillis, Group::kSlotSnapshot, kRun, false, nullptr,
         "How often the position the sink holds is confirmed to the server"},
        {"heartbeat.interval.ms", Kind::kInt, "0", {}, 0, kMaxMillis, Group::kSlotSnapshot, kRun, false, nullptr,
         "Heartbeat record period, which also advances an idle slot (0: off)"},
        {"heartbeat.action.query", Kind::kString, "", {}, 0, kNoMax, Group::kSlotSnapshot, kRun, false, nullptr,
         "SQL run on each heartbeat, to write to an otherwise idle database"},

        {"plugin.name", Kind::kString, "walcast", {}, 0, kNoMax, Group::kEventFormat, kRun, false, "any other value (pgoutput, decoderbufs) is ignored with a warning",
         "Output plugin of the slot: always walcast"},
        {"topic.prefix", Kind::kTopic, "walcast", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "First part of every topic name (<prefix>.<schema>.<table>)"},
        {"schema.include.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Comma-separated regexes on schema names; only their tables are captured"},
        {"schema.exclude.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Comma-separated regexes on schema names; their tables are not captured"},
        {"table.include.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Comma-separated regexes on schema.table; only these tables are captured"},
        {"table.exclude.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Comma-separated regexes on schema.table; these tables are not captured"},
        {"column.include.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Comma-separated regexes on schema.table.column; only these columns are in events"},
        {"column.exclude.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Comma-separated regexes on schema.table.column; left out of events"},
        {"message.key.columns", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "<schema.table regex>:<column>,<column>;... : the columns of the event key"},
        {"skipped.operations", Kind::kOps, "", {}, 0, kNoMax, Group::kEventFormat, kRun, true, nullptr,
         "Operations not streamed: c, u, d, t (comma-separated) or none"},
        {"provide.transaction.metadata", Kind::kBool, "false", {}, 0, kNoMax, Group::kEventFormat, kRun, true, nullptr,
         "Transaction BEGIN/END records on <prefix>.transaction and a transaction block in events"},
        {"message.prefix.include.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kRun, true, nullptr,
         "Comma-separated regexes on pg_logical_emit_message prefixes to stream"},
        {"message.prefix.exclude.list", Kind::kString, "", {}, 0, kNoMax, Group::kEventFormat, kRun, true, nullptr,
         "Comma-separated regexes on pg_logical_emit_message prefixes not to stream"},
        {"decimal.handling.mode", Kind::kEnum, "precise", {"precise", "string", "double"}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "How numeric values are encoded"},
        {"time.precision.mode", Kind::kEnum, "adaptive", {"adaptive", "adaptive_time_microseconds", "connect"}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "How date and time values are encoded"},
        {"binary.handling.mode", Kind::kEnum, "bytes", {"bytes", "base64", "base64-url-safe", "hex"}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "How bytea values are encoded"},
        {"interval.handling.mode", Kind::kEnum, "numeric", {"numeric", "string"}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "How interval values are encoded (microseconds or ISO 8601)"},
        {"hstore.handling.mode", Kind::kEnum, "json", {"json", "map"}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "How hstore values are encoded"},
        {"unavailable.value.placeholder", Kind::kString, "__debezium_unavailable_value", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, nullptr,
         "Stands for an unchanged TOASTed value the server did not send"},
        {"value.converter.replace.null.with.default", Kind::kBool, "true", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, "Kafka Connect's JsonConverter setting, applied by walcast's encoder",
         "A NULL of a column with a DEFAULT is written as that default, as Kafka Connect's JsonConverter does"},
        {"event.max.bytes", Kind::kInt, "", {}, 0, 1073741822, Group::kEventFormat, kFormat, true, kOnlyWalcast,
         "Largest event the plugin encodes; larger ones stop the stream (unset: 1 GB)"},
        {"publish.via.partition.root", Kind::kBool, "false", {}, 0, kNoMax, Group::kEventFormat, kFormat, true, kOnlyWalcast,
         "Changes of partitions appear as changes of their partitioned table"},
        {"tombstones.on.delete", Kind::kBool, "true", {}, 0, kNoMax, Group::kEventFormat, kRun, false, nullptr,
         "A delete is followed by a tombstone (null value) for log compaction"},
        {"key.converter.schemas.enable", Kind::kBool, "false", {}, 0, kNoMax, Group::kEventFormat, kFormat, false, "Kafka Connect's JsonConverter setting; its default there is true",
         "Keys are {\"schema\":..,\"payload\":..} with Debezium's Connect key schema"},
        {"value.converter.schemas.enable", Kind::kBool, "false", {}, 0, kNoMax, Group::kEventFormat, kFormat, false, "Kafka Connect's JsonConverter setting; its default there is true",
         "Values are {\"schema\":..,\"payload\":..} with Debezium's Connect value schema"},

        {"sink", Kind::kSink, "", {}, 0, kNoMax, Group::kSink, kRun | kStatus | kVerify, false, "walcast only (Debezium writes through Kafka Connect)",
         "Where events go (verify: where the topics are read)"},

        {"event.processing.failure.handling.mode", Kind::kEnum, "fail", {"fail", "warn", "skip"}, 0, kNoMax, Group::kErrors, kRun, false, "applies to events Kafka rejects for good",
         "What an event Kafka rejects for good does: stop, or log and go on"},
        {"errors.deadletterqueue.topic.name", Kind::kString, "", {}, 0, kNoMax, Group::kErrors, kRun, false, "Kafka Connect's name for its dead letter queue",
         "Topic that receives events Kafka rejects for good (with warn or skip)"},

        {"metrics.address", Kind::kAddress, "", {}, 0, kNoMax, Group::kMetricsLogging, kRun, false, kOnlyWalcast,
         "Prometheus /metrics listener, host:port or port (unset: no listener)"},
        {"log.level", Kind::kEnum, "info", {"trace", "debug", "info", "warn", "error", "critical", "off"}, 0, kNoMax, Group::kMetricsLogging, kConn, false, kOnlyWalcast,
         "Least severe log level written to stderr"},
    };
    // clang-format on
    return kSettings;
}

const Setting *find_setting(const std::string &name) {
    for (const auto &s : settings())
        if (name == s.name) return &s;
    return nullptr;
}

std::string accepted_values(const Setting &s) {
    switch (s.kind) {
        case Kind::kString:
            return "text";
        case Kind::kInt:
            return s.max == kNoMax ? "an integer >= " + std::to_string(s.min)
                                   : "an integer from " + std::to_string(s.min) + " to " +
                                         std::to_string(s.max);
        case Kind::kBool:
            return "true, false";
        case Kind::kEnum:
            return join(s.accepted);
        case Kind::kSink:
            return "kafka, stdout, file:/path/to/events.jsonl";
        case Kind::kOps:
            return "a comma-separated list of c, u, d, t, or none";
        case Kind::kName:
            return "lower-case letters, digits and underscores, at most 63 characters";
        case Kind::kTopic:
            return "letters, digits, '.', '_' and '-' (a Kafka topic name)";
        case Kind::kAddress:
            return "host:port or port";
    }
    return "";
}

std::string settings_help(unsigned command) {
    std::string out =
        "Settings (properties file, WALCAST_<KEY> environment variables, --set key=value;\n"
        "docs/configuration.md has the full table):\n";
    for (Group g : kGroups) {
        std::string lines;
        for (const auto &s : settings()) {
            if (s.group != g || !(s.commands & command)) continue;
            lines += "  " + std::string(s.name);
            std::string facts;
            if (!default_text(s).empty()) facts = "default " + default_text(s);
            if (s.kind != Kind::kString) facts += (facts.empty() ? "" : "; ") + accepted_values(s);
            if (!facts.empty()) lines += " (" + facts + ")";
            lines += "\n      " + std::string(s.description) + "\n";
        }
        if (g == Group::kSink && (command & (kRun | kStatus | kVerify)))
            lines += "  kafka.*\n      librdkafka properties, without the prefix\n";
        if (!lines.empty()) out += std::string("\n") + group_title(g) + ":\n" + lines;
    }
    out +=
        "\nEnvironment: WALCAST_<KEY> with '.' as '_', upper case (WALCAST_DATABASE_PORT).\n"
        "Secrets (database.password, database.sslpassword, kafka.*password*) are refused on the "
        "command line: use the file, database.password.file, the environment or ~/.pgpass.\n";
    return out;
}

namespace {

// A table cell: '|' would end the cell.
std::string cell(const std::string &s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

}  // namespace

std::string settings_markdown() {
    std::string out =
        "# walcast sidecar configuration\n\n"
        "<!-- Generated by `walcast config-doc` (make config-doc) from "
        "sidecar/src/config/settings.cpp;\n"
        "     a unit test fails when this file and the table disagree. Do not edit by hand. -->\n\n"
        "Settings come from a `.properties` file (`-c`), overridden by `WALCAST_<KEY>` "
        "environment\n"
        "variables (`.` as `_`, upper case: `WALCAST_DATABASE_PORT`), overridden by\n"
        "`--set key=value`. Unknown keys and bad values stop walcast with exit code 2.\n"
        "Booleans and enum values are accepted in any case and lower-cased. Keys marked *plugin*\n"
        "are passed to the output plugin in `START_REPLICATION` (only when set). `kafka.*` keys "
        "go\n"
        "to librdkafka without the prefix (`WALCAST_KAFKA_BOOTSTRAP_SERVERS` sets\n"
        "`kafka.bootstrap.servers`).\n\n"
        "The file follows `java.util.Properties`, so a Debezium file can be pasted: `key=value`,\n"
        "`key: value` or `key value`; `#` and `!` start comment lines; a line ending in an odd\n"
        "number of backslashes continues on the next (whose leading blanks are dropped); escapes\n"
        "`\\t \\n \\r \\f \\\\ \\uXXXX`, and `\\=`, `\\:`, `\\ ` inside keys. Unlike Java, the "
        "file is\n"
        "read as UTF-8 and blanks at the end of a value are dropped (write `\\ ` to keep one).\n\n"
        "*Debezium* is empty where the name and meaning are those of Debezium's PostgreSQL\n"
        "connector. *Used by* names the subcommands that read the setting.\n\n"
        "A Debezium connector configuration (`.properties`, or Kafka Connect's REST JSON) is\n"
        "read as it is: [debezium-keys.md](debezium-keys.md) lists the Debezium and Kafka "
        "Connect\n"
        "keys that are not settings here and what walcast does with each.\n";
    for (Group g : kGroups) {
        out += std::string("\n## ") + group_title(g) + "\n\n";
        out += "| Key | Default | Accepted | Used by | Debezium | Description |\n";
        out += "|---|---|---|---|---|---|\n";
        for (const auto &s : settings()) {
            if (s.group != g) continue;
            out += "| `" + std::string(s.name) + "`" + (s.plugin_option ? " *plugin*" : "") +
                   " | " + cell(default_text(s)) + " | " + cell(accepted_values(s)) + " | " +
                   commands_text(s.commands) + " | " + cell(s.debezium ? s.debezium : "") + " | " +
                   cell(s.description) + " |\n";
        }
        if (g == Group::kSink)
            out +=
                "| `kafka.*` | | librdkafka properties | run, status, verify | "
                "Debezium Server: debezium.sink.kafka.producer.* | "
                "librdkafka properties, without the prefix |\n";
    }
    return out;
}

}  // namespace walcast
