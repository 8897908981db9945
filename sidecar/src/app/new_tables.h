// snapshot.new.tables=incremental: on start, before streaming, the tables the filters
// select whose rows this slot never delivered (a table that entered table.include.list
// since the last run) are recorded and queued for an incremental snapshot, in one
// transaction with the signal that queues them (snapshot/captured_tables.h).
#pragma once

#include "config/config.h"

namespace walcast {

void queue_new_tables(const Config &config);

}  // namespace walcast
