#include "config/connector_keys.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace walcast {

namespace {

constexpr ForeignKind kIgnored = ForeignKind::kIgnored;
constexpr ForeignKind kAlias = ForeignKind::kAlias;
constexpr ForeignKind kDefaultOnly = ForeignKind::kDefaultOnly;
constexpr ForeignKind kUnsupported = ForeignKind::kUnsupported;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool is_prefix_pattern(const char *pattern) {
    const std::size_t n = std::strlen(pattern);
    return n > 0 && pattern[n - 1] == '*';
}

// How specific a match is: an exact key beats every prefix, a longer prefix a shorter one.
std::size_t match_length(const ForeignKey &entry, const std::string &key) {
    if (!is_prefix_pattern(entry.pattern)) return key == entry.pattern ? SIZE_MAX : 0;
    const std::string prefix(entry.pattern, std::strlen(entry.pattern) - 1);
    return key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 ? prefix.size()
                                                                                    : 0;
}

const char *kind_text(ForeignKind kind) {
    switch (kind) {
        case ForeignKind::kIgnored:
            return "ignored";
        case ForeignKind::kAlias:
            return "read as";
        case ForeignKind::kDefaultOnly:
            return "accepted only as";
        case ForeignKind::kUnsupported:
            return "refused";
    }
    return "";
}

std::string cell(const std::string &s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string(", ") : std::string(1, c);
    return out;
}

}  // namespace

const std::vector<ForeignKey> &foreign_keys() {
    // clang-format off
    static const std::vector<ForeignKey> kKeys = {
        // Kafka Connect's own keys: walcast is the whole connector. (The JsonConverter's
        // *.converter.schemas.enable are settings: the settings table wins over these.)
        {"name", kIgnored, "", "Kafka Connect's connector name; walcast names nothing after it"},
        {"connector.class", kIgnored, "", "walcast is the connector"},
        {"tasks.max", kIgnored, "", "one slot is one stream: walcast runs a single task, as Debezium's PostgreSQL connector does"},
        {"config.action.reload", kIgnored, "", "Kafka Connect's restart policy; restart walcast to reload its file"},
        {"key.converter", kDefaultOnly, "org.apache.kafka.connect.json.JsonConverter", "walcast writes what Kafka Connect's JsonConverter writes; other converters (Avro, Protobuf) are not supported"},
        {"value.converter", kDefaultOnly, "org.apache.kafka.connect.json.JsonConverter", "walcast writes what Kafka Connect's JsonConverter writes; other converters (Avro, Protobuf) are not supported"},
        {"key.converter.*", kIgnored, "", "options of the converter class (schema registry...), which walcast does not load"},
        {"value.converter.*", kIgnored, "", "options of the converter class (schema registry...), which walcast does not load"},
        {"header.converter", kIgnored, "", "walcast writes no Kafka Connect headers"},
        {"header.converter.*", kIgnored, "", "walcast writes no Kafka Connect headers"},
        {"transforms", kIgnored, "", "single message transforms run inside Kafka Connect: walcast does NOT apply them, consumers see the untransformed events"},
        {"transforms.*", kIgnored, "", "single message transforms run inside Kafka Connect: walcast does NOT apply them"},
        {"predicates", kIgnored, "", "predicates of single message transforms, which walcast does not apply"},
        {"predicates.*", kIgnored, "", "predicates of single message transforms, which walcast does not apply"},
        {"errors.*", kIgnored, "", "Kafka Connect's handling of converter and transform errors (walcast: event.processing.failure.handling.mode, errors.deadletterqueue.topic.name)"},
        {"topic.creation.*", kIgnored, "", "Kafka Connect creates topics with these; walcast's topics are created by the broker (auto.create.topics.enable) or in advance"},
        {"producer.override.*", kIgnored, "", "producer settings of Kafka Connect; set librdkafka properties with kafka.*"},
        {"consumer.override.*", kIgnored, "", "consumer settings of Kafka Connect; walcast consumes nothing"},
        {"admin.override.*", kIgnored, "", "admin client settings of Kafka Connect"},
        {"offset.storage*", kIgnored, "", "the embedded engine's offset store; walcast keeps its position in the replication slot"},
        {"offset.flush.*", kIgnored, "", "the embedded engine's offset flushing; walcast confirms positions every status.update.interval.ms"},

        // The pgoutput plugin's publication: the walcast plugin reads no publication.
        {"publication.name", kIgnored, "", "pgoutput's publication; the walcast output plugin filters with table.include.list and friends"},
        {"publication.autocreate.mode", kIgnored, "", "pgoutput's publication; the walcast output plugin needs none"},
        {"slot.stream.params", kIgnored, "", "options for another output plugin; walcast passes its own settings to its plugin"},

        // Names of Debezium 1.x, read under today's names.
        {"database.server.name", kAlias, "topic.prefix", "Debezium 1.x name of topic.prefix; used only when topic.prefix is not set"},
        {"table.whitelist", kAlias, "table.include.list", "Debezium 1.x name"},
        {"table.blacklist", kAlias, "table.exclude.list", "Debezium 1.x name"},
        {"schema.whitelist", kAlias, "schema.include.list", "Debezium 1.x name"},
        {"schema.blacklist", kAlias, "schema.exclude.list", "Debezium 1.x name"},
        {"column.whitelist", kAlias, "column.include.list", "Debezium 1.x name"},
        {"column.blacklist", kAlias, "column.exclude.list", "Debezium 1.x name"},
        {"schema.history.internal*", kIgnored, "", "PostgreSQL needs no schema history topic: events carry the schema at their WAL position"},
        {"database.history*", kIgnored, "", "PostgreSQL needs no schema history topic (Debezium 1.x name)"},

        // Tuning of Debezium's internal queue and of JDBC.
        {"max.batch.size", kIgnored, "", "Debezium's batches between its queue and Kafka Connect; walcast hands each event to librdkafka, which batches (kafka.batch.num.messages, kafka.linger.ms)"},
        {"max.queue.size", kIgnored, "", "Debezium's in-memory queue; walcast's in-flight events are bounded by librdkafka's queue (kafka.queue.buffering.max.messages)"},
        {"max.queue.size.in.bytes", kIgnored, "", "Debezium's in-memory queue; walcast's in-flight bytes are bounded by librdkafka's queue (kafka.queue.buffering.max.kbytes)"},
        {"poll.interval.ms", kIgnored, "", "Kafka Connect polls Debezium's queue; walcast sends each event as it is decoded"},
        {"snapshot.fetch.size", kIgnored, "", "JDBC fetch size; walcast's snapshot reads CTID ranges of snapshot.chunk.bytes"},
        {"snapshot.locking.mode", kIgnored, "", "walcast's snapshot reads under the slot's exported snapshot and locks nothing beyond what a SELECT takes"},
        {"snapshot.lock.timeout.ms", kIgnored, "", "see snapshot.locking.mode"},
        {"snapshot.delay.ms", kIgnored, "", "walcast starts its snapshot at once"},
        {"snapshot.query.mode", kDefaultOnly, "select_all", "walcast reads every column of every row"},
        {"database.sslfactory", kIgnored, "", "Java's socket factory; libpq does TLS (database.sslmode and friends)"},
        {"database.tcpKeepAlive", kDefaultOnly, "true", "libpq keeps TCP keepalives on"},
        {"database.query.timeout.ms", kIgnored, "", "JDBC query timeout; walcast's queries are stopped by its own stop handling"},
        {"slot.max.retries", kIgnored, "", "walcast exits on a lost connection and its supervisor restarts it"},
        {"slot.retry.delay.ms", kIgnored, "", "walcast exits on a lost connection and its supervisor restarts it"},
        {"retriable.restart.connector.wait.ms", kIgnored, "", "walcast exits on a retriable error and its supervisor restarts it"},
        {"schema.refresh.mode", kIgnored, "", "the walcast plugin reads each table's shape from the catalog at the change's WAL position"},
        {"include.unknown.datatypes", kIgnored, "", "walcast always includes columns of types it does not know, as their text (docs/types.md)"},
        {"custom.metric.tags", kIgnored, "", "JMX tags; walcast's metrics are Prometheus (metrics.address)"},
        {"lsn.flush.timeout.ms", kIgnored, "", "walcast confirms positions from its own status updates"},
        {"lsn.flush.timeout.action", kIgnored, "", "walcast confirms positions from its own status updates"},
        {"flush.lsn.source", kDefaultOnly, "true", "walcast confirms to the slot what the sink holds"},
        {"offset.mismatch.strategy", kIgnored, "", "walcast keeps no offsets besides the slot's position"},
        {"extended.headers.enabled", kIgnored, "", "walcast writes no Kafka Connect headers"},
        {"guardrail.*", kIgnored, "", "walcast captures every table its filters include"},
        {"xmin.fetch.interval.ms", kDefaultOnly, "0", "walcast does not track the slot's xmin"},
        {"slot.failover", kDefaultOnly, "false", "walcast creates slots without failover"},

        // Ad-hoc and incremental snapshots: not supported.
        {"signal.*", kIgnored, "", "walcast reads signals from signal.data.collection and walcast.signals through its slot (Debezium's source channel); other channels (Kafka, JMX, file) and their settings do not apply"},
        {"incremental.snapshot.*", kIgnored, "", "walcast takes no incremental snapshots"},
        {"notification.*", kIgnored, "", "walcast sends no snapshot notifications"},
        {"read.only", kIgnored, "", "walcast writes no signals"},

        // Names and formats that walcast produces only one way.
        {"topic.naming.strategy", kDefaultOnly, "io.debezium.schema.DefaultTopicNamingStrategy", "walcast names topics <topic.prefix>.<schema>.<table>"},
        {"topic.delimiter", kDefaultOnly, ".", "walcast joins topic name parts with '.'"},
        {"topic.transaction", kDefaultOnly, "transaction", "walcast's transaction topic is <topic.prefix>.transaction"},
        {"topic.heartbeat.prefix", kDefaultOnly, "__debezium-heartbeat", "walcast's heartbeat topic is __debezium-heartbeat.<topic.prefix>"},
        {"heartbeat.topics.prefix", kDefaultOnly, "__debezium-heartbeat", "Debezium 1.x name of topic.heartbeat.prefix"},
        {"topic.cache.size", kIgnored, "", "walcast caches topic names per relation in its plugin"},
        {"schema.name.adjustment.mode", kDefaultOnly, "none", "walcast keeps names as they are"},
        {"field.name.adjustment.mode", kDefaultOnly, "none", "walcast keeps names as they are"},
        {"skip.messages.without.change", kDefaultOnly, "false", "walcast sends every update"},
        {"money.fraction.digits", kDefaultOnly, "2", "walcast encodes money with two fraction digits"},
        {"snapshot.mode.custom.name", kDefaultOnly, "", "walcast has no custom snapshot modes"},
        {"include.schema.comments", kDefaultOnly, "false", "walcast writes no schema comments"},
        {"streaming.delay.ms", kIgnored, "", "walcast streams as soon as its snapshot is done"},
        {"snapshot.tables.order.by.row.count", kIgnored, "", "walcast's snapshot reads the largest tables first, in parallel chunks"},

        // Meanings walcast does not implement: silently dropping them would change what
        // consumers receive (a masked column would arrive in clear).
        {"column.mask.*", kUnsupported, "", "masking column values is not implemented; leave the column out with column.exclude.list"},
        {"column.truncate.to.*", kUnsupported, "", "truncating column values is not implemented; leave the column out with column.exclude.list"},
        {"column.propagate.source.type", kUnsupported, "", "source type parameters in schemas are not implemented"},
        {"datatype.propagate.source.type", kUnsupported, "", "source type parameters in schemas are not implemented"},
        {"replica.identity.autoset.values", kUnsupported, "", "walcast does not change REPLICA IDENTITY; set it with ALTER TABLE ... REPLICA IDENTITY"},
        {"snapshot.include.collection.list", kUnsupported, "", "the snapshot reads every captured table; narrow table.include.list, or use snapshot.mode=no_data"},
        {"snapshot.select.statement.overrides*", kUnsupported, "", "the snapshot reads whole tables"},
        {"database.initial.statements", kUnsupported, "", "walcast runs no statements of the user's on its connections (session settings: database.url options)"},
        {"converters", kUnsupported, "", "custom converters are Java classes"},
        {"converters.*", kUnsupported, "", "custom converters are Java classes"},
        {"post.processors", kUnsupported, "", "post processors are Java classes"},
        {"post.processors.*", kUnsupported, "", "post processors are Java classes"},
    };
    // clang-format on
    return kKeys;
}

const ForeignKey *find_foreign_key(const std::string &key) {
    const ForeignKey *best = nullptr;
    std::size_t best_length = 0;
    for (const auto &entry : foreign_keys()) {
        const std::size_t length = match_length(entry, key);
        if (length > best_length) best = &entry, best_length = length;
    }
    return best;
}

bool default_only_accepts(const ForeignKey &entry, const std::string &value) {
    std::string accepted = entry.target;
    std::size_t start = 0;
    for (;;) {
        std::size_t bar = accepted.find('|', start);
        if (lower(accepted.substr(start, bar - start)) == lower(value)) return true;
        if (bar == std::string::npos) return false;
        start = bar + 1;
    }
}

std::string foreign_keys_markdown() {
    std::string out =
        "# Debezium keys that are not walcast settings\n\n"
        "<!-- Generated by `walcast config-doc --debezium-keys` (make config-doc) from\n"
        "     sidecar/src/config/connector_keys.cpp. Do not edit by hand. -->\n\n"
        "A Debezium PostgreSQL connector configuration, as a `.properties` file or as the JSON\n"
        "of a Kafka Connect REST request (`{\"name\": ..., \"config\": {...}}` or the `config`\n"
        "object alone), can be given to `walcast run --config` unchanged. Keys that are walcast\n"
        "settings ([configuration.md](configuration.md)) keep their meaning. The keys below are\n"
        "accepted as well and listed in one warning at startup:\n\n"
        "- *ignored*: no meaning for walcast (the reason says why, or what replaces it);\n"
        "- *read as*: an older Debezium name, read as the setting named (the setting wins when\n"
        "  both are set);\n"
        "- *accepted only as*: walcast behaves as this value says; any other value is an error;\n"
        "- *refused*: a meaning walcast does not implement; set to anything but an empty value,\n"
        "  the key stops walcast (the reason says what to do instead).\n\n"
        "A key ending in `*` stands for every key with that prefix. A key that is in neither\n"
        "table stops walcast (exit code 2) before anything starts; every such key is named in\n"
        "one message, with the nearest known key when one is close.\n\n"
        "| Key | walcast | Why |\n"
        "|---|---|---|\n";
    for (const auto &e : foreign_keys()) {
        std::string what = kind_text(e.kind);
        if (e.kind == ForeignKind::kAlias) what += " `" + std::string(e.target) + "`";
        if (e.kind == ForeignKind::kDefaultOnly)
            what += *e.target ? " `" + cell(e.target) + "`" : " unset";
        out += "| `" + std::string(e.pattern) + "` | " + what + " | " + cell(e.reason) + " |\n";
    }
    return out;
}

}  // namespace walcast
