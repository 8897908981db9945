// Checks, before walcast creates a slot or starts a snapshot, that the role has every
// right the snapshot uses and that the server has the connections its readers need.
// A snapshot that fails half-way after creating its slot leaves state behind; one
// clear error up front, with the statements that fix it, leaves nothing.
#pragma once

#include <string>
#include <vector>

#include "pg/pg_conn.h"
#include "snapshot/snapshot_plan.h"

namespace walcast {

// What is missing, and the statements that fix it.
struct PreflightReport {
    std::string role;                  // quoted for SQL
    std::vector<std::string> missing;  // one line each
    std::vector<std::string> fixes;    // SQL statements, in order (no duplicates)
    std::vector<std::string> notes;    // other remedies (connection limits)

    bool ok() const { return missing.empty(); }
    void add(const std::string &what, const std::string &fix);
    // The whole report as one error message.
    std::string message() const;
};

struct PreflightNeeds {
    int readers = 2;  // snapshot.max.threads
};

// Queries the server (ordinary connection, the walcast extension installed).
PreflightReport check_snapshot_preflight(PGconn *conn, const TableFilter &filter,
                                         const PreflightNeeds &needs);

// Throws a fatal PgError with the report unless everything is in place.
void require_snapshot_preflight(PGconn *conn, const TableFilter &filter,
                                const PreflightNeeds &needs);

}  // namespace walcast
