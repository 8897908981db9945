// The snapshot settings and table selection a configuration asks for: read by the
// initial snapshot (snapshot_mode) and by `walcast verify`, which reads the source
// the same way without running the snapshot policy.
#pragma once

#include "config/config.h"
#include "snapshot/snapshot_plan.h"
#include "snapshot/snapshot_runner.h"

namespace walcast {

SnapshotSettings snapshot_settings_from(const Config &config);
TableFilter table_filter_from(const Config &config);

}  // namespace walcast
