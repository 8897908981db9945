// A blocking snapshot (Debezium's execute-snapshot of type blocking): the streamed tables
// whose "schema.table" a data-collections regex matches whole, read with the initial snapshot's
// parallel reader under a fresh exported snapshot, their rows marked as an initial snapshot's. The
// caller holds the stream meanwhile (app/signalled_snapshots.h; docs/incremental-snapshots.md,
// "Blocking snapshots").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/metrics.h"
#include "snapshot/snapshot_runner.h"

namespace walcast {

// A table's condition (Debezium's additional-conditions) as the reader applies it: empty
// for the whole table; none when it was refused (the table is skipped).
using TableCondition =
    std::function<std::optional<std::string>(PGconn *conn, const SnapshotTable &table)>;

// Returns once the sink confirmed every row. A regex that matches no streamed table is
// reported with an error in the log. Throws on failure, Stopped on a stop.
SnapshotResult run_blocking_snapshot(const Config &config,
                                     const std::vector<std::string> &collections,
                                     const TableCondition &condition_of,
                                     const SinkFactory &make_sink, Registry *metrics);

}  // namespace walcast
