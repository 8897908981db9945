// Parameterised queries on ordinary (non-replication) connections, for the
// snapshot coordinator and its bookkeeping.
#pragma once

#include <string>
#include <vector>

#include "pg/pg_conn.h"

namespace walcast {

// Runs sql with text parameters $1..$n; throws PgError (not fatal) unless it
// returns rows or completes. `what` prefixes the message.
PgResultPtr pg_query(PGconn *conn, const std::string &sql, const std::vector<std::string> &params,
                     const std::string &what = {});

// The first column of the first row, or empty (also for NULL).
std::string pg_scalar(PGconn *conn, const std::string &sql,
                      const std::vector<std::string> &params = {});

// A PostgreSQL text[] literal of the items ({"a","b"}), for a query parameter; quoted so
// that any item passes whole.
std::string text_array_literal(const std::vector<std::string> &items);

// A PgError with the server's message of a failed result.
PgError pg_result_error(const PGresult *res, PGconn *conn, const std::string &what);

}  // namespace walcast
