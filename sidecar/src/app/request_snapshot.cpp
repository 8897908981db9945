#include "app/request_snapshot.h"

#include "pg/pg_conn.h"
#include "pg/pg_query.h"

namespace walcast {

int request_snapshot(const Config &config, const std::vector<std::string> &tables,
                     const std::string &where, bool blocking, std::ostream &out) {
    PgConnPtr conn = pg_connect(config, false);
    // Committed on return (autocommit), which is when the signal enters the WAL.
    std::string conditions;  // NULL: no condition
    if (!where.empty())
        conditions = text_array_literal(std::vector<std::string>(tables.size(), where));
    const std::string kind = blocking ? "blocking" : "incremental";
    PgResultPtr r = pg_query(
        conn.get(), "SELECT walcast.execute_snapshot($1::text[], $2, NULLIF($3, '')::text[])",
        {text_array_literal(tables), kind, conditions}, "requesting a snapshot");
    out << "requested " << (blocking ? "a blocking" : "an incremental") << " snapshot of "
        << tables.size() << (tables.size() == 1 ? " table" : " tables")
        << (where.empty() ? "" : " (where " + where + ")") << " (signal "
        << PQgetvalue(r.get(), 0, 0) << "); the sidecar streaming database " << PQdb(conn.get())
        << (blocking ? " holds its stream while it reads them\n"
                     : " reads them while it streams\n");
    return 0;
}

}  // namespace walcast
