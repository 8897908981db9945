// The regular-expression lists of the configuration (table.include.list and every other
// *.include.list / *.exclude.list) compiled by the server before anything is created, so
// that a typo is a usage error (exit 2) naming the setting, not a failed slot start.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace walcast {

// The items of a comma-separated pattern list, split at commas as the plugin and Debezium
// split them, blanks and tabs trimmed, empty items dropped.
std::vector<std::string> pattern_list_items(const std::string &list);

// Throws ConfigError naming `setting` and the item of the comma-separated `list` that
// PostgreSQL's regular-expression engine (the plugin's) rejects.
void check_pattern_list(PGconn *conn, const std::string &setting, const std::string &list);

// check_pattern_list for every *.include.list / *.exclude.list setting that is set.
void check_filter_patterns(PGconn *conn, const Config &config);

}  // namespace walcast
