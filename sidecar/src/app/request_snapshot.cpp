#include "app/request_snapshot.h"

#include "pg/pg_conn.h"
#include "pg/pg_query.h"

namespace walcast {

int request_snapshot(const Config &config, const std::vector<std::string> &tables,
                     const std::string &where, std::ostream &out) {
    PgConnPtr conn = pg_connect(config, false);
    // Committed on return (autocommit), which is when the signal enters the WAL.
    std::string conditions;  // NULL: no condition
    if (!where.empty())
        conditions = text_array_literal(std::vector<std::string>(tables.size(), where));
    PgResultPtr r = pg_query(
        conn.get(),
        "SELECT walcast.execute_snapshot($1::text[], 'incremental', NULLIF($2, '')::text[])",
        {text_array_literal(tables), conditions}, "requesting a snapshot");
    out << "requested an incremental snapshot of " << tables.size()
        << (tables.size() == 1 ? " table" : " tables")
        << (where.empty() ? "" : " (where " + where + ")") << " (signal "
        << PQgetvalue(r.get(), 0, 0) << "); the sidecar streaming database " << PQdb(conn.get())
        << " reads it while it streams\n";
    return 0;
}

}  // namespace walcast
