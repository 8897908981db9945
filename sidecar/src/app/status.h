// `walcast status` and `walcast slot drop`: the slot as the server sees it.
#pragma once

#include <ostream>

#include "config/config.h"

namespace walcast {

// Prints the slot's positions, retained WAL and the sink kind. Returns the exit
// code: 0 (a retained-WAL warning is printed but is not an error), 1 when the
// slot does not exist, kExitSlotLost (3) when the server invalidated it. Throws PgError.
int print_status(const Config &config, std::ostream &out);

// Drops the slot; refuses while it is active. Returns the exit code.
int drop_slot(const Config &config, std::ostream &out);

}  // namespace walcast
