#include "app/request_snapshot.h"

#include "pg/pg_conn.h"
#include "pg/pg_query.h"

namespace walcast {

std::string text_array_literal(const std::vector<std::string> &items) {
    std::string out = "{";
    for (const auto &item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : item) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

int request_snapshot(const Config &config, const std::vector<std::string> &tables,
                     std::ostream &out) {
    PgConnPtr conn = pg_connect(config, false);
    // Committed on return (autocommit), which is when the signal enters the WAL.
    std::string lsn = pg_scalar(conn.get(), "SELECT walcast.execute_snapshot($1::text[])",
                                {text_array_literal(tables)});
    out << "requested an incremental snapshot of " << tables.size()
        << (tables.size() == 1 ? " table" : " tables") << " (signal at " << lsn
        << "); the sidecar streaming database " << PQdb(conn.get())
        << " reads it while it streams\n";
    return 0;
}

}  // namespace walcast
