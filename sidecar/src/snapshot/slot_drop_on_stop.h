// slot.drop.on.stop: after a clean stop the slot goes, and with it walcast's record of
// its snapshot, so that the next run starts over as with a new slot.
#pragma once

#include "config/config.h"

namespace walcast {

// Drops the slot once the server has released it (the walsender lets go a moment after
// the stream's connection closed). Runs after the stop request, so it uses blocking
// libpq calls bounded by timeouts, not the stop-aware ones. Logs instead of throwing:
// the stop itself succeeded.
void drop_slot_on_stop(const Config &config);

}  // namespace walcast
