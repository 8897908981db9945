// What an execute-snapshot signal asks for, resolved against the database by a reader
// (the stream thread runs no queries): its data-collections regexes become the streamed
// tables they match, and a table's condition is checked by the extension
// (walcast.check_snapshot_condition()) before any query uses it.
#pragma once

#include <string>
#include <vector>

#include <libpq-fe.h>

#include "config/config.h"
#include "incremental/snapshot_queue.h"

namespace walcast {

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
