#include "config.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdio>
#include <memory>
#include <sstream>

#include "bounded_file.h"
#include "listen_address.h"
#include "redact.h"

extern char **environ;

namespace walcast {

namespace {

// A configuration file is a few dozen lines; anything larger is a wrong path.
constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr std::size_t kMaxPasswordFileBytes = 64 << 10;
// Intervals and timeouts end up in int-sized waits.
constexpr std::int64_t kMaxMillis = INT_MAX;

enum class Kind { kString, kInt, kBool, kEnum, kSink, kOps, kName, kTopic, kAddress };

struct KeySpec {
    const char *name;
    const char *def;  // default ("" = unset)
    Kind kind;
    std::vector<std::string> accepted;  // enums
    bool plugin_option;                 // forwarded to START_REPLICATION
    std::int64_t min = 0, max = INT64_MAX;
};

const std::vector<KeySpec> &specs() {
    // One key per line.
    // clang-format off
    static const std::vector<KeySpec> kSpecs = {
        {"database.hostname", "", Kind::kString, {}, false},
        {"database.port", "", Kind::kInt, {}, false, 1, 65535},
        {"database.user", "", Kind::kString, {}, false},
        {"database.password", "", Kind::kString, {}, false},
        {"database.password.file", "", Kind::kString, {}, false},
        {"database.dbname", "", Kind::kString, {}, false},
        {"database.url", "", Kind::kString, {}, false},
        {"database.sslmode", "", Kind::kEnum, {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, false},
        {"database.sslrootcert", "", Kind::kString, {}, false},
        {"database.sslcert", "", Kind::kString, {}, false},
        {"database.sslkey", "", Kind::kString, {}, false},
        {"database.sslpassword", "", Kind::kString, {}, false},
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
        {"time.precision.mode", "adaptive", Kind::kEnum, {"adaptive", "adaptive_time_microseconds", "connect"}, true},
        {"binary.handling.mode", "bytes", Kind::kEnum, {"bytes", "base64", "base64-url-safe", "hex"}, true},
        {"interval.handling.mode", "numeric", Kind::kEnum, {"numeric", "string"}, true},
        {"hstore.handling.mode", "json", Kind::kEnum, {"json", "map"}, true},
        {"unavailable.value.placeholder", "", Kind::kString, {}, true},
        {"event.max.bytes", "", Kind::kInt, {}, true, 0, 1073741822},
        {"publish.via.partition.root", "false", Kind::kBool, {}, true},
        {"tombstones.on.delete", "true", Kind::kBool, {}, false},
        {"heartbeat.interval.ms", "0", Kind::kInt, {}, false, 0, kMaxMillis},
        {"heartbeat.action.query", "", Kind::kString, {}, false},
        {"sink", "", Kind::kSink, {}, false},
        {"metrics.address", "", Kind::kAddress, {}, false},
        {"status.update.interval.ms", "10000", Kind::kInt, {}, false, 1, kMaxMillis},
        {"retained.wal.warn.bytes", "1073741824", Kind::kInt, {}, false, 0},
        {"log.level", "info", Kind::kEnum, {"trace", "debug", "info", "warn", "error", "critical", "off"}, false},
        {"snapshot.mode", "initial", Kind::kEnum, {"no_data", "never", "initial", "initial_only", "when_needed"}, false},
        {"snapshot.max.threads", "2", Kind::kInt, {}, false, 1, 64},
        {"snapshot.chunk.bytes", "67108864", Kind::kInt, {}, false, 8192, 1LL << 40},
        {"snapshot.throttle.rows.per.second", "0", Kind::kInt, {}, false, 0},
        {"snapshot.throttle.bytes.per.second", "0", Kind::kInt, {}, false, 0},
        {"slot.create.timeout.ms", "300000", Kind::kInt, {}, false, 1, kMaxMillis},
        {"event.processing.failure.handling.mode", "fail", Kind::kEnum, {"fail", "warn", "skip"}, false},
        {"errors.deadletterqueue.topic.name", "", Kind::kString, {}, false},
    };
    // clang-format on
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

// A key as the user typed it, with invisible bytes (a BOM, a tab) made visible.
std::string printable(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

std::size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// "; did you mean 'slot.name'?" when a known key is a few typos away.
std::string suggestion(const std::string &key) {
    const KeySpec *best = nullptr;
    std::size_t best_distance = std::min<std::size_t>(3, key.size() / 3) + 1;
    for (const auto &s : specs()) {
        std::size_t d = edit_distance(lower(key), s.name);
        if (d < best_distance) best = &s, best_distance = d;
    }
    return best ? std::string("; did you mean '") + best->name + "'?" : "";
}

[[noreturn]] void bad_value(const std::string &key, const std::string &value,
                            const std::string &accepted) {
    const std::string shown = is_secret_key(key) ? "***" : value;
    throw ConfigError("invalid value '" + shown + "' for " + key + "; accepted: " + accepted);
}

// The one boolean parser: true or false in any case, nothing else.
bool parse_bool(const std::string &key, const std::string &value) {
    std::string v = lower(value);
    if (v == "true") return true;
    if (v == "false") return false;
    bad_value(key, value, "true, false");
}

// Decimal integers only: no exponent, sign '+', fraction, trailing text or overflow.
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

// Checks a value and returns its canonical spelling (what the sidecar compares
// and what the plugin receives): booleans, enums and operations in lower case,
// integers without leading zeros, metrics.address with its host.
std::string normalize(const KeySpec &spec, const std::string &value) {
    if (value.empty()) return value;  // unset: libpq or plugin defaults apply
    switch (spec.kind) {
        case Kind::kString:
            return value;
        case Kind::kInt:
            return std::to_string(parse_int(spec, value));
        case Kind::kBool:
            return parse_bool(spec.name, value) ? "true" : "false";
        case Kind::kEnum:
            for (const auto &a : spec.accepted)
                if (lower(value) == a) return a;
            bad_value(spec.name, value, join(spec.accepted));
        case Kind::kSink:
            if (value == "kafka" || value == "stdout" ||
                (value.rfind("file:", 0) == 0 && value.size() > 5))
                return value;
            bad_value(spec.name, value, "kafka, stdout, file:/path/to/events.jsonl");
        case Kind::kOps: {
            std::stringstream ss(value);
            std::string tok, out;
            while (std::getline(ss, tok, ',')) {
                tok = lower(trim(tok));
                if (tok != "c" && tok != "u" && tok != "d" && tok != "t" && tok != "none")
                    bad_value(spec.name, value, "a comma-separated list of c, u, d, t, or none");
                out += (out.empty() ? "" : ",") + tok;
            }
            return out;
        }
        case Kind::kName:
            // Postgres slot names: lower-case letters, digits, underscore, at most 63.
            if (value.size() > 63 ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
                    std::string::npos)
                bad_value(spec.name, value,
                          "lower-case letters, digits and underscores, at most 63 characters");
            return value;
        case Kind::kTopic:
            if (value.size() > 200 ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-") != std::string::npos)
                bad_value(spec.name, value,
                          "letters, digits, '.', '_' and '-' (a Kafka topic name)");
            return value;
        case Kind::kAddress:
            try {
                return parse_listen_address(value).to_string();
            } catch (const std::invalid_argument &e) {
                bad_value(spec.name, value,
                          std::string("host:port or port (") + e.what() +
                              "; without a host only 127.0.0.1 is served)");
            }
    }
    return value;
}

// Adds key=value to `into`, rejecting unknown keys (kafka.* passes through).
void put(std::map<std::string, std::string> &into, const std::string &key, const std::string &value,
         const std::string &origin) {
    if (!is_kafka_key(key) && find_spec(key) == nullptr)
        throw ConfigError("unknown configuration key '" + printable(key) + "' (" + origin + ")" +
                          suggestion(key) + "; see 'walcast run --help' for the known keys");
    into[key] = value;
}

struct ConninfoOptionsDeleter {
    void operator()(PQconninfoOption *o) const { PQconninfoFree(o); }
};

// database.url is a URL or a conninfo string when libpq expands it as one.
bool is_expandable(const std::string &url) {
    return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0 ||
           url.find('=') != std::string::npos;
}

// The libpq keywords of database.url; ConfigError when libpq cannot parse it.
std::map<std::string, std::string> url_options(const std::string &url) {
    std::map<std::string, std::string> out;
    if (!is_expandable(url)) return out;
    char *err = nullptr;
    std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> opts(
        PQconninfoParse(url.c_str(), &err));
    if (!opts) {
        std::string msg = err ? err : "out of memory";
        PQfreemem(err);
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        // libpq quotes the token it could not read, which may be the password itself.
        for (const auto &secret : password_shaped_values(url))
            for (auto pos = msg.find(secret); pos != std::string::npos;
                 pos = msg.find(secret, pos + 3))
                msg.replace(pos, secret.size(), "***");
        throw ConfigError("database.url is not a valid libpq URL or connection string: " +
                          redact(msg));
    }
    for (PQconninfoOption *o = opts.get(); o->keyword; ++o)
        if (o->val) out[o->keyword] = o->val;
    return out;
}

// Values given on the command line are visible to every local user (ps, /proc).
void refuse_secret_on_command_line(const std::string &key, const std::string &value) {
    const bool url_secret = key == "database.url" && [&] {
        auto opts = url_options(value);
        return opts.count("password") || opts.count("sslpassword");
    }();
    if (!is_secret_key(key) && !url_secret) return;
    std::vector<std::string> places = {"the configuration file (readable only by walcast's user)",
                                       "the " + env_name(key) + " environment variable"};
    if (key == "database.password" || url_secret) {
        places.push_back("a file named by database.password.file");
        places.push_back("PGPASSWORD / ~/.pgpass");
    }
    std::string where;
    for (std::size_t i = 0; i < places.size(); ++i)
        where += (i == 0 ? "" : i + 1 == places.size() ? ", or " : ", ") + places[i];
    throw ConfigError("refusing " + key + (url_secret ? " with a password" : "") +
                      " on the command line: every local user can read it with ps; put it in " +
                      where);
}

// A configuration that holds secrets must not be readable by every local user.
std::vector<std::string> secret_keys_in(const std::map<std::string, std::string> &props) {
    std::vector<std::string> out;
    for (const auto &[k, v] : props) {
        if (v.empty()) continue;
        if (is_secret_key(k)) {
            out.push_back(k);
        } else if (k == "database.url") {
            auto opts = url_options(v);
            if (opts.count("password") || opts.count("sslpassword")) out.push_back(k);
        }
    }
    return out;
}

}  // namespace

std::map<std::string, std::string> parse_properties(const std::string &text,
                                                    const std::string &origin) {
    std::map<std::string, std::string> out;
    // A UTF-8 byte order mark (some Windows editors write one) is not part of the first key.
    const bool bom = text.rfind("\xEF\xBB\xBF", 0) == 0;
    std::istringstream in(bom ? text.substr(3) : text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == '!') continue;
        auto sep = line.find_first_of("=:");
        if (sep == std::string::npos)
            throw ConfigError(origin + ":" + std::to_string(lineno) +
                              ": expected key=value, got '" + printable(line) + "'");
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
        if (k == "password" || k == "sslpassword") continue;
        out += (out.empty() ? "" : " ") + k + "=" + redact(v);
    }
    return out.empty() ? "(libpq defaults)" : out;
}

std::string Config::describe_redacted() const {
    std::string out;
    for (const auto &[k, v] : values) {
        if (v.empty()) continue;
        out += (out.empty() ? "" : " ") + k + "=" + (is_secret_key(k) ? "***" : redact(v));
    }
    return out;
}

Config load_config(const ConfigSources &sources) {
    Config c;
    std::map<std::string, std::string> merged;  // explicitly set values
    if (sources.file) {
        BoundedFile file;
        try {
            file = read_bounded_file(*sources.file, kMaxConfigBytes);
        } catch (const std::runtime_error &e) {
            throw ConfigError(std::string("cannot read config file ") + e.what());
        }
        merged = parse_properties(file.text, *sources.file);
        auto secrets = secret_keys_in(merged);
        if (!secrets.empty() && world_readable(file.mode))
            c.warnings.push_back("config file " + *sources.file + " holds " + join(secrets) +
                                 " and every local user can read it: chmod o-r " + *sources.file);
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
            throw ConfigError("--set expects key=value, got '" + redact(s) + "'");
        const std::string key = trim(s.substr(0, eq)), value = trim(s.substr(eq + 1));
        put(merged, key, value, "--set");
        refuse_secret_on_command_line(key, value);
    }

    for (const auto &spec : specs()) c.values[spec.name] = spec.def;
    for (const auto &[k, v] : merged) {
        if (is_kafka_key(k)) {
            c.kafka_props[k.substr(6)] = v;
            c.values[k] = v;
        } else {
            c.values[k] = normalize(*find_spec(k), v);
        }
    }
    if (c.values["sink"].empty())
        c.values["sink"] = c.kafka_props.count("bootstrap.servers") ? "kafka" : "stdout";
    if (c.values["sink"] == "kafka" && !c.kafka_props.count("bootstrap.servers"))
        throw ConfigError("sink=kafka needs kafka.bootstrap.servers (host:port[,host:port...])");
    if (c.values["topic.prefix"].empty()) throw ConfigError("topic.prefix must not be empty");
    if (c.values["slot.name"].empty()) throw ConfigError("slot.name must not be empty");

    // The password from a file of its own (kept out of the main configuration).
    const std::string password_file = c.values["database.password.file"];
    if (!password_file.empty()) {
        if (!c.values["database.password"].empty())
            throw ConfigError("set database.password or database.password.file, not both");
        BoundedFile file;
        try {
            file = read_bounded_file(password_file, kMaxPasswordFileBytes);
        } catch (const std::runtime_error &e) {
            throw ConfigError(std::string("cannot read database.password.file ") + e.what());
        }
        std::string pw = file.text.substr(0, file.text.find_first_of("\r\n"));
        if (pw.empty())
            throw ConfigError("database.password.file " + password_file +
                              ": the first line is empty");
        if (world_readable(file.mode))
            c.warnings.push_back("database.password.file " + password_file +
                                 " can be read by every local user: chmod o-r " + password_file);
        c.values["database.password"] = pw;
    }

    // Every secret value, for redact(): the settings, and passwords inside the URL.
    for (const auto &[k, v] : c.values)
        if (is_secret_key(k) && !v.empty()) c.secrets.push_back(v);
    for (const auto &[kw, v] : url_options(c.values["database.url"]))
        if (kw == "password" || kw == "sslpassword") c.secrets.push_back(v);

    // libpq keywords; the URL goes first as dbname so that libpq expands it and
    // the explicit keys override its parts.
    const std::pair<const char *, const char *> conn_keys[] = {
        {"database.url", "dbname"},
        {"database.hostname", "host"},
        {"database.port", "port"},
        {"database.user", "user"},
        {"database.password", "password"},
        {"database.dbname", "dbname"},
        {"database.sslmode", "sslmode"},
        {"database.sslrootcert", "sslrootcert"},
        {"database.sslcert", "sslcert"},
        {"database.sslkey", "sslkey"},
        {"database.sslpassword", "sslpassword"},
    };
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
        if (s.kind == Kind::kInt && s.max != INT64_MAX)
            out += " [" + std::to_string(s.min) + ".." + std::to_string(s.max) + "]";
        out += "\n";
    }
    out +=
        "  sink (default kafka when kafka.bootstrap.servers is set, else stdout) "
        "[kafka, stdout, file:/path]\n";
    out += "  kafka.* : passed to librdkafka without the prefix\n";
    out += "Environment: WALCAST_<KEY> with '.' as '_', upper case (WALCAST_DATABASE_PORT).\n";
    out +=
        "Secrets (database.password, database.sslpassword, kafka.*password*) are refused on the "
        "command line: use the file, database.password.file, the environment or ~/.pgpass.\n";
    return out;
}

}  // namespace walcast
