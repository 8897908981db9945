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

// slot.drop.on.stop: drops the slot (and its snapshot record) after a clean stop, once
// the server has released it. Logs instead of throwing: the stop itself succeeded.
void drop_slot_on_stop(const Config &config);

}  // namespace walcast
