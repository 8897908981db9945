// A blocking snapshot (Debezium's execute-snapshot of type blocking): the named tables
// read with the initial snapshot's parallel reader under a fresh exported snapshot, their
// rows marked as an initial snapshot's. The caller holds the stream meanwhile
// (app/signalled_snapshots.h; docs/incremental-snapshots.md, "Blocking snapshots").
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/metrics.h"
#include "snapshot/snapshot_runner.h"

namespace walcast {

// Returns once the sink confirmed every row. Tables the filters do not stream, or that do
// not exist, are skipped with an error in the log. Throws on failure, Stopped on a stop.
SnapshotResult run_blocking_snapshot(const Config &config, const std::vector<std::string> &tables,
                                     const SinkFactory &make_sink, Registry *metrics);

}  // namespace walcast
