// `walcast snapshot TABLE...`: asks the sidecar streaming this database to read tables
// again, incrementally while it streams or (--blocking) with its stream held
// (walcast.execute_snapshot(), which the sidecar receives through its slot).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"

namespace walcast {

// Sends the request; returns the exit code (0). Throws PgError when the server refuses
// (no such table, no SELECT privilege, a condition check_snapshot_condition() refuses,
// the extension missing). where: a condition applied to each table, or empty.
int request_snapshot(const Config &config, const std::vector<std::string> &tables,
                     const std::string &where, bool blocking, std::ostream &out);

}  // namespace walcast
