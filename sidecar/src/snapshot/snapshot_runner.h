// Reads the chunks of an initial snapshot with N parallel readers against one
// exported snapshot and hands the rows to a sink; records each chunk as finished
// once the sink has confirmed all of its events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pg/lsn.h"
#include "metrics/metrics.h"
#include "sink/sink.h"
#include "snapshot/snapshot_export.h"
#include "snapshot/snapshot_plan.h"
#include "snapshot/snapshot_store.h"

namespace walcast {

struct SnapshotSettings {
    // snapshot_settings_from() fills these from the parsed Config.
    const Config *config = nullptr;
    int threads = 0;                       // snapshot.max.threads
    double max_rows_per_second = 0;        // 0: unlimited
    double max_bytes_per_second = 0;       // 0: unlimited
    std::size_t buffer_bytes = 32u << 20;  // rows read but not yet handed to the sink
    // snapshot_rows options: the plugin options (topic.prefix, type modes, ...),
    // snapshot.lsn is added.
    std::vector<std::pair<std::string, std::string>> encoder_options;
    int progress_interval_ms = 10000;  // log lines when stderr is not a terminal
};

using SinkFactory = std::function<std::unique_ptr<Sink>(DeliveryCallback)>;

struct SnapshotResult {
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    double seconds = 0;
};

// Runs until every unfinished chunk is durably delivered. Throws on any reader or
// sink error; chunks finished so far stay recorded for the next attempt.
SnapshotResult run_snapshot(const SnapshotSettings &settings, ExportedSnapshot &snapshot,
                            Lsn consistent_point, const std::vector<SnapshotChunk> &chunks,
                            const std::vector<SnapshotTable> &tables, SnapshotStore &store,
                            const SinkFactory &make_sink, Registry *metrics);

}  // namespace walcast
