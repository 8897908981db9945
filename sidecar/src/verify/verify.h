// `walcast verify`: folds the change topics of chosen tables (last value per key,
// deletes and tombstones remove) and compares the result with the source tables, in
// bounded memory (verify/table_compare.h), reporting missing, extra and different keys
// with examples and how to repair each. With --repair it asks the running sidecar for an
// incremental snapshot of the tables that differ and verifies them again.
#pragma once

#include <ostream>
#include <string>

#include "config/config.h"

namespace walcast {

struct VerifyOptions {
    std::string tables;  // comma-separated regexes on schema.table; empty: the config's lists
    int examples = 5;    // per kind of difference and table
    bool repair = false;
    int repair_timeout_s = 600;  // how long --repair waits for the re-sent rows
};

// Returns the exit code: 0 when every table matches its topic (after the repair, with
// --repair), 1 otherwise. Throws ConfigError (exit 2) for usage errors: a sink it cannot
// read back, a table pattern the server rejects, no table matching.
int run_verify(const Config &config, const VerifyOptions &options, std::ostream &out);

}  // namespace walcast
