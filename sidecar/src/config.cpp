#include "config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

extern char **environ;

namespace walcast {

namespace {

enum class Kind { kString, kInt, kBool, kEnum, kSink, kOps, kName, kTopic };

struct KeySpec {
    const char *name;
    const char *def;  // default ("" = unset)
    Kind kind;
    std::vector<std::string> accepted;  // enums
    bool plugin_option;                 // forwarded to START_REPLICATION
    std::int64_t min = 0, max = INT64_MAX;
};

const std::vector<KeySpec> &specs() {
    static const std::vector<KeySpec> kSpecs = {
        {"database.hostname", "", Kind::kString, {}, false},
        {"database.port", "", Kind::kInt, {}, false, 1, 65535},
        {"database.user", "", Kind::kString, {}, false},
        {"database.password", "", Kind::kString, {}, false},
        {"database.dbname", "", Kind::kString, {}, false},
        {"database.url", "", Kind::kString, {}, false},
        {"database.sslmode", "", Kind::kString, {}, false},
        {"slot.name", "walcast", Kind::kName, {}, false},
        {"slot.create", "true", Kind::kBool, {}, false},
        {"plugin.name", "walcast", Kind::kEnum, {"walcast"}, false},
        {"topic.prefix", "walcast", Kind::kTopic, {}, true},
        {"table.include.list", "", Kind::kString, {}, true},
        {"table.exclude.list", "", Kind::kString, {}, true},
        {"column.exclude.list", "", Kind::kString, {}, true},
        {"skipped.operations", "", Kind::kOps, {}, true},
        {"provide.transaction.metadata", "false", Kind::kBool, {}, true},
        {"message.prefix.include.list", "", Kind::kString, {}, true},
        {"message.prefix.exclude.list", "", Kind::kString, {}, true},
        {"decimal.handling.mode", "precise", Kind::kEnum, {"precise", "string", "double"}, true},
        {"time.precision.mode",
         "adaptive",
         Kind::kEnum,
         {"adaptive", "adaptive_time_microseconds", "connect"},
         true},
        {"binary.handling.mode",
         "bytes",
         Kind::kEnum,
         {"bytes", "base64", "base64-url-safe", "hex"},
         true},
        {"interval.handling.mode", "numeric", Kind::kEnum, {"numeric", "string"}, true},
        {"hstore.handling.mode", "json", Kind::kEnum, {"json", "map"}, true},
        {"unavailable.value.placeholder", "", Kind::kString, {}, true},
        {"publish.via.partition.root", "false", Kind::kBool, {}, true},
        {"tombstones.on.delete", "true", Kind::kBool, {}, false},
        {"heartbeat.interval.ms", "0", Kind::kInt, {}, false, 0},
        {"heartbeat.action.query", "", Kind::kString, {}, false},
        {"sink", "", Kind::kSink, {}, false},
        {"metrics.address", "", Kind::kString, {}, false},
        {"status.update.interval.ms", "10000", Kind::kInt, {}, false, 1},
        {"retained.wal.warn.bytes", "1073741824", Kind::kInt, {}, false, 0},
        {"log.level",
         "info",
         Kind::kEnum,
         {"trace", "debug", "info", "warn", "error", "critical", "off"},
         false},
        {"snapshot.mode",
         "initial",
         Kind::kEnum,
         {"no_data", "never", "initial", "initial_only", "when_needed"},
         false},
        {"snapshot.max.threads", "2", Kind::kInt, {}, false, 1},
        {"snapshot.chunk.bytes", "67108864", Kind::kInt, {}, false, 1},
        {"snapshot.throttle.rows.per.second", "0", Kind::kInt, {}, false, 0},
        {"snapshot.throttle.bytes.per.second", "0", Kind::kInt, {}, false, 0},
        {"slot.create.timeout.ms", "300000", Kind::kInt, {}, false, 1},
        {"event.processing.failure.handling.mode",
         "fail",
         Kind::kEnum,
         {"fail", "warn", "skip"},
         false},
        {"errors.deadletterqueue.topic.name", "", Kind::kString, {}, false},
    };
    return kSpecs;
}

const KeySpec *find_spec(const std::string &key) {
    for (const auto &s : specs())
        if (key == s.name) return &s;
    return nullptr;
}

std::string trim(const std::string &s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

bool is_kafka_key(const std::string &key) { return key.rfind("kafka.", 0) == 0 && key.size() > 6; }

[[noreturn]] void bad_value(const std::string &key, const std::string &value,
                            const std::string &accepted) {
    throw ConfigError("invalid value '" + value + "' for " + key + "; accepted: " + accepted);
}

bool parse_bool(const std::string &key, const std::string &value) {
    std::string v = lower(value);
    if (v == "true") return true;
    if (v == "false") return false;
    bad_value(key, value, "true, false");
}

std::int64_t parse_int(const KeySpec &spec, const std::string &value) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v < spec.min ||
        v > spec.max) {
        std::string range = spec.max == INT64_MAX ? "an integer >= " + std::to_string(spec.min)
                                                  : "an integer from " + std::to_string(spec.min) +
                                                        " to " + std::to_string(spec.max);
        bad_value(spec.name, value, range);
    }
    return v;
}

void validate(const KeySpec &spec, const std::string &value) {
    if (value.empty()) return;  // unset: libpq or plugin defaults apply
    switch (spec.kind) {
        case Kind::kString:
            return;
        case Kind::kInt:
            parse_int(spec, value);
            return;
        case Kind::kBool:
            parse_bool(spec.name, value);
            return;
        case Kind::kEnum:
            for (const auto &a : spec.accepted)
                if (lower(value) == a) return;
            bad_value(spec.name, value, join(spec.accepted));
        case Kind::kSink:
            if (value == "kafka" || value == "stdout" ||
                (value.rfind("file:", 0) == 0 && value.size() > 5))
                return;
            bad_value(spec.name, value, "kafka, stdout, file:/path/to/events.jsonl");
        case Kind::kOps: {
            std::stringstream ss(value);
            std::string tok;
            while (std::getline(ss, tok, ',')) {
                tok = trim(tok);
                if (tok != "c" && tok != "u" && tok != "d" && tok != "t" && tok != "none")
                    bad_value(spec.name, value, "a comma-separated list of c, u, d, t, or none");
            }
            return;
        }
        case Kind::kName:
            // Postgres slot names: lower-case letters, digits, underscore, at most 63.
            if (value.size() > 63 ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
                    std::string::npos)
                bad_value(spec.name, value,
                          "lower-case letters, digits and underscores, at most 63 characters");
            return;
        case Kind::kTopic:
            if (value.size() > 200 ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-") != std::string::npos)
                bad_value(spec.name, value,
                          "letters, digits, '.', '_' and '-' (a Kafka topic name)");
            return;
    }
}

// Adds key=value to `into`, rejecting unknown keys (kafka.* passes through).
void put(std::map<std::string, std::string> &into, const std::string &key, const std::string &value,
         const std::string &origin) {
    if (!is_kafka_key(key) && find_spec(key) == nullptr)
        throw ConfigError("unknown configuration key '" + key + "' (" + origin +
                          "); see 'walcast run --help' for the known keys");
    into[key] = value;
}

}  // namespace

std::map<std::string, std::string> parse_properties(const std::string &text,
                                                    const std::string &origin) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == '!') continue;
        auto sep = line.find_first_of("=:");
        if (sep == std::string::npos)
            throw ConfigError(origin + ":" + std::to_string(lineno) +
                              ": expected key=value, got '" + line + "'");
        std::string key = trim(line.substr(0, sep));
        if (key.empty()) throw ConfigError(origin + ":" + std::to_string(lineno) + ": empty key");
        put(out, key, trim(line.substr(sep + 1)), origin + ":" + std::to_string(lineno));
    }
    return out;
}

std::string env_name(const std::string &key) {
    std::string out = "WALCAST_";
    for (char c : key)
        out += (c == '.' || c == '-')
                   ? '_'
                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e) {
        std::string kv = *e;
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return env;
}

const std::string &Config::get(const std::string &key) const {
    static const std::string kEmpty;
    auto it = values.find(key);
    return it == values.end() ? kEmpty : it->second;
}

std::string Config::conninfo_redacted() const {
    std::string out;
    for (const auto &[k, v] : conn_params) {
        if (k == "password") continue;
        std::string shown = v;
        if (k == "dbname" && (v.rfind("postgres://", 0) == 0 || v.rfind("postgresql://", 0) == 0)) {
            // Hide a password inside a URL: scheme://user:secret@host -> user:***@host.
            auto scheme_end = v.find("://") + 3;
            auto at = v.find('@', scheme_end);
            auto colon = v.find(':', scheme_end);
            if (at != std::string::npos && colon != std::string::npos && colon < at)
                shown = v.substr(0, colon + 1) + "***" + v.substr(at);
        }
        out += (out.empty() ? "" : " ") + k + "=" + shown;
    }
    return out.empty() ? "(libpq defaults)" : out;
}

Config load_config(const ConfigSources &sources) {
    std::map<std::string, std::string> merged;  // explicitly set values
    if (sources.file) {
        std::ifstream f(*sources.file);
        if (!f) throw ConfigError("cannot read config file " + *sources.file);
        std::stringstream ss;
        ss << f.rdbuf();
        merged = parse_properties(ss.str(), *sources.file);
    }
    for (const auto &spec : specs()) {
        auto it = sources.env.find(env_name(spec.name));
        if (it != sources.env.end()) merged[spec.name] = it->second;
    }
    for (const auto &[name, value] : sources.env) {
        // WALCAST_KAFKA_BOOTSTRAP_SERVERS -> kafka.bootstrap.servers
        if (name.rfind("WALCAST_KAFKA_", 0) != 0 || name.size() <= 14) continue;
        std::string key = "kafka." + lower(name.substr(14));
        std::replace(key.begin(), key.end(), '_', '.');
        merged[key] = value;
    }
    for (const auto &s : sources.sets) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            throw ConfigError("--set expects key=value, got '" + s + "'");
        put(merged, trim(s.substr(0, eq)), trim(s.substr(eq + 1)), "--set");
    }

    Config c;
    for (const auto &spec : specs()) c.values[spec.name] = spec.def;
    for (const auto &[k, v] : merged) {
        if (is_kafka_key(k)) {
            c.kafka_props[k.substr(6)] = v;
            c.values[k] = v;
        } else {
            validate(*find_spec(k), v);
            c.values[k] = v;
        }
    }
    for (const auto &spec : specs())
        if (spec.kind == Kind::kEnum && !c.values[spec.name].empty())
            c.values[spec.name] = lower(c.values[spec.name]);
    if (c.values["sink"].empty())
        c.values["sink"] = c.kafka_props.count("bootstrap.servers") ? "kafka" : "stdout";
    if (c.values["sink"] == "kafka" && !c.kafka_props.count("bootstrap.servers"))
        throw ConfigError("sink=kafka needs kafka.bootstrap.servers (host:port[,host:port...])");
    if (c.values["topic.prefix"].empty()) throw ConfigError("topic.prefix must not be empty");
    if (c.values["slot.name"].empty()) throw ConfigError("slot.name must not be empty");

    // libpq keywords; the URL goes first as dbname so that libpq expands it and
    // the explicit keys override its parts.
    const std::pair<const char *, const char *> conn_keys[] = {
        {"database.url", "dbname"},        {"database.hostname", "host"},
        {"database.port", "port"},         {"database.user", "user"},
        {"database.password", "password"}, {"database.dbname", "dbname"},
        {"database.sslmode", "sslmode"}};
    for (const auto &[key, kw] : conn_keys)
        if (!c.values[key].empty()) c.conn_params.emplace_back(kw, c.values[key]);

    c.slot_name = c.values["slot.name"];
    c.slot_create = parse_bool("slot.create", c.values["slot.create"]);
    c.topic_prefix = c.values["topic.prefix"];
    c.tombstones_on_delete = parse_bool("tombstones.on.delete", c.values["tombstones.on.delete"]);
    c.provide_transaction_metadata =
        parse_bool("provide.transaction.metadata", c.values["provide.transaction.metadata"]);
    c.heartbeat_interval_ms =
        parse_int(*find_spec("heartbeat.interval.ms"), c.values["heartbeat.interval.ms"]);
    c.heartbeat_action_query = c.values["heartbeat.action.query"];
    c.sink = c.values["sink"];
    c.metrics_address = c.values["metrics.address"];
    c.status_update_interval_ms =
        parse_int(*find_spec("status.update.interval.ms"), c.values["status.update.interval.ms"]);
    c.retained_wal_warn_bytes =
        parse_int(*find_spec("retained.wal.warn.bytes"), c.values["retained.wal.warn.bytes"]);
    c.log_level = c.values["log.level"];
    c.snapshot_mode = c.values["snapshot.mode"];

    c.plugin_options.emplace_back("format", "frames");
    for (const auto &spec : specs()) {
        if (!spec.plugin_option) continue;
        // Only what the user set (plus the prefix): the plugin owns its defaults.
        std::string value = c.values[spec.name];
        bool user_set = merged.count(spec.name) > 0 || std::string(spec.name) == "topic.prefix";
        if (std::string(spec.name) == "message.prefix.include.list" && !value.empty() &&
            c.heartbeat_interval_ms > 0)
            value += ",walcast\\.heartbeat";  // heartbeats must pass the user's filter
        if (user_set && !value.empty()) c.plugin_options.emplace_back(spec.name, value);
    }
    return c;
}

std::string describe_keys() {
    std::string out;
    for (const auto &s : specs()) {
        if (s.kind == Kind::kSink) continue;  // described below
        out += "  " + std::string(s.name);
        if (*s.def) out += " (default " + std::string(s.def) + ")";
        if (!s.accepted.empty()) out += " [" + join(s.accepted) + "]";
        out += "\n";
    }
    out +=
        "  sink (default kafka when kafka.bootstrap.servers is set, else stdout) "
        "[kafka, stdout, file:/path]\n";
    out += "  kafka.* : passed to librdkafka without the prefix\n";
    out += "Environment: WALCAST_<KEY> with '.' as '_', upper case (WALCAST_DATABASE_PORT).\n";
    return out;
}

}  // namespace walcast
