// What an execute-snapshot signal asks for, resolved against the database when the signal
// is read (before its transaction is acknowledged): its data-collections regexes become
// the streamed tables they match, and a table's condition is checked by the extension
// (walcast.check_snapshot_condition()) before any query uses it.
#pragma once

#include <string>
#include <vector>

#include <libpq-fe.h>

#include "config/config.h"
#include "incremental/control_message.h"

namespace walcast {

struct SnapshotRequest {
    // A regex on "schema.table" as the signal gave it, or (resolved) one table's name.
    std::string collection;
    bool resolved = false;
    std::vector<SnapshotCondition> conditions;  // the signal's additional-conditions
};

// True when pattern (a regex, Debezium's data-collections) matches all of name. A
// malformed pattern matches nothing.
bool collection_matches(const std::string &pattern, const std::string &name);

// The filter of the first condition whose data-collection matches table, or empty.
std::string condition_for(const std::vector<SnapshotCondition> &conditions,
                          const std::string &table);

// The tables the configured filters stream whose "schema.table" the request's regex
// matches whole, in name order, as resolved requests carrying the signal's conditions.
std::vector<SnapshotRequest> resolve_collections(PGconn *conn, const Config &config,
                                                 const SnapshotRequest &request);

// The reader's session resolves unqualified names in pg_catalog only: a condition's
// functions and operators (built-in, checked) then name the built-ins whatever objects
// a user creates in other schemas meanwhile. Every other name in the reader's queries
// is schema-qualified.
void pin_catalog_search_path(PGconn *conn);

// The condition as the chunk query uses it, or false (logged: why it was refused).
bool checked_condition(PGconn *conn, const std::string &table_oid, const std::string &table,
                       const std::string &filter, std::string &out);

}  // namespace walcast
