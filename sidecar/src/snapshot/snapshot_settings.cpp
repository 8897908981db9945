#include "snapshot/snapshot_settings.h"

#include <string_view>

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
    // The signal table's rows are signals, never events: no snapshot reads it either.
    const std::string signal_table = config.get("signal.data.collection");
    if (!signal_table.empty()) {
        std::string quoted;
        for (char c : signal_table) {
            if (std::string_view(".^$*+?()[]{}|\\").find(c) != std::string_view::npos)
                quoted += '\\';
            quoted += c;
        }
        f.exclude_list += (f.exclude_list.empty() ? "" : ",") + quoted;
    }
    f.schema_include_list = config.get("schema.include.list");
    f.schema_exclude_list = config.get("schema.exclude.list");
    f.via_partition_root = config.publish_via_partition_root;
    return f;
}

}  // namespace walcast
