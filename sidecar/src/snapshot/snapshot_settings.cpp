#include "snapshot/snapshot_settings.h"

namespace walcast {

SnapshotSettings snapshot_settings_from(const Config &config) {
    SnapshotSettings s;
    s.config = &config;
    s.threads = config.snapshot_max_threads;
    s.max_rows_per_second = static_cast<double>(config.snapshot_throttle_rows_per_second);
    s.max_bytes_per_second = static_cast<double>(config.snapshot_throttle_bytes_per_second);
    // The encoder's options are the plugin's, minus the stream-only framing.
    for (const auto &[k, v] : config.plugin_options)
        if (k != "format" && k != "provide.transaction.metadata" && k != "skipped.operations" &&
            k != "message.prefix.include.list" && k != "message.prefix.exclude.list")
            s.encoder_options.emplace_back(k, v);
    return s;
}

TableFilter table_filter_from(const Config &config) {
    TableFilter f;
    f.include_list = config.get("table.include.list");
    f.exclude_list = config.get("table.exclude.list");
    f.schema_include_list = config.get("schema.include.list");
    f.schema_exclude_list = config.get("schema.exclude.list");
    f.via_partition_root = config.publish_via_partition_root;
    return f;
}

}  // namespace walcast
