// Sidecar configuration: Debezium property names in a .properties file,
// overridden by WALCAST_* environment variables, overridden by --set flags.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace walcast {

// A configuration mistake: one line naming the key and what to change.
// The CLI exits with code 2.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Config {
    // Every known key with its effective value (defaults included; empty = unset).
    std::map<std::string, std::string> values;

    // libpq connection keywords (database.url expands first, others override).
    std::vector<std::pair<std::string, std::string>> conn_params;
    // Typed copies of values; load_config fills them from the settings table
    // (sidecar/src/config/settings.cpp), which holds every default.
    std::string slot_name;
    bool slot_create = false;
    bool slot_drop_on_stop = false;
    std::int64_t slot_create_timeout_ms = 0;
    std::string topic_prefix;
    // Forwarded to START_REPLICATION (format=frames first).
    std::vector<std::pair<std::string, std::string>> plugin_options;
    bool tombstones_on_delete = false;
    bool provide_transaction_metadata = false;
    bool key_schemas = false;    // key.converter.schemas.enable
    bool value_schemas = false;  // value.converter.schemas.enable
    bool publish_via_partition_root = false;
    std::int64_t heartbeat_interval_ms = 0;
    std::string heartbeat_action_query;
    std::string sink;                                // "kafka", "stdout" or "file:/path"
    std::map<std::string, std::string> kafka_props;  // without the "kafka." prefix
    std::string metrics_address;
    std::int64_t status_update_interval_ms = 0;
    std::int64_t retained_wal_warn_bytes = 0;
    std::string log_level;
    std::string snapshot_mode;
    int snapshot_max_threads = 0;
    std::int64_t snapshot_chunk_bytes = 0;
    std::int64_t incremental_chunk_size = 0;             // incremental.snapshot.chunk.size
    std::int64_t snapshot_throttle_rows_per_second = 0;  // 0: unlimited
    std::int64_t snapshot_throttle_bytes_per_second = 0;

    // Values of secret settings (passwords, also those inside database.url), for
    // redact(): the CLI registers them before anything is logged.
    std::vector<std::string> secrets;
    // Problems worth a warning once logging is set up (a world-readable file of secrets).
    std::vector<std::string> warnings;

    const std::string &get(const std::string &key) const;
    // The conninfo for messages: every parameter except passwords, URLs redacted.
    std::string conninfo_redacted() const;
    // Every set key=value on one line, secrets as *** (for the debug log).
    std::string describe_redacted() const;
};

struct ConfigSources {
    std::optional<std::string> file;         // a .properties file, or Kafka Connect's REST JSON
    std::vector<std::string> sets;           // "key=value" from --set
    std::map<std::string, std::string> env;  // environment (all variables)
};

// Parses a java.util.Properties file (key=value, key:value or "key value";
// '#'/'!' comment lines; backslash line continuations and escapes), read as
// UTF-8; a leading BOM is skipped. Throws ConfigError naming the line (an
// unknown key names the nearest known one).
std::map<std::string, std::string> parse_properties(const std::string &text,
                                                    const std::string &origin);

// Merges the sources (flag > env > file > default); keys of a Debezium configuration
// that are not settings are sorted by connector_keys.cpp (one warning in `warnings`),
// every unknown key goes into one ConfigError. Validates and normalizes
// (booleans and enums in lower case), derives the typed fields. The file must
// be a regular file of at most 1 MiB. Secrets in --set are refused. Throws ConfigError.
Config load_config(const ConfigSources &sources);

// The environment as a map (for ConfigSources::env).
std::map<std::string, std::string> process_environment();

// Name of the environment variable for a key: database.port -> WALCAST_DATABASE_PORT.
std::string env_name(const std::string &key);

}  // namespace walcast
