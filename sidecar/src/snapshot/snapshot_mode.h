// snapshot.mode (Debezium's names): whether and how an initial snapshot runs before
// streaming, and resuming one that was interrupted.
#pragma once

#include "config/config.h"
#include "metrics/metrics.h"
#include "snapshot/snapshot_runner.h"

namespace walcast {

// Runs (or resumes) the initial snapshot when the mode and the slot's state call
// for it, creating the slot with an exported snapshot. Returns whether streaming
// should follow (false for initial_only). Throws PgError / std::runtime_error.
bool run_initial_snapshot(const Config &config, const SinkFactory &make_sink, Registry *metrics);

}  // namespace walcast
