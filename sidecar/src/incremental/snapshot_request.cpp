#include "incremental/snapshot_request.h"

#include <spdlog/spdlog.h>

#include <regex>

#include "pg/pg_query.h"
#include "snapshot/snapshot_plan.h"
#include "snapshot/snapshot_settings.h"

namespace walcast {

bool collection_matches(const std::string &pattern, const std::string &name) {
    try {
        return std::regex_match(name, std::regex(pattern, std::regex::ECMAScript));
    } catch (const std::regex_error &) {
        return false;
    }
}

std::string condition_for(const std::vector<SnapshotCondition> &conditions,
                          const std::string &table) {
    for (const auto &c : conditions)
        if (c.data_collection == table || collection_matches(c.data_collection, table))
            return c.filter;
    return {};
}

std::vector<SnapshotRequest> resolve_collections(PGconn *conn, const Config &config,
                                                 const SnapshotRequest &request) {
    // PostgreSQL's regexes (close to the Java ones Debezium matches with), whole name.
    static const char *kTables = R"SQL(
        SELECT n.nspname || '.' || c.relname AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'walcast')
          AND n.nspname || '.' || c.relname ~ ('^(?:' || $1 || ')$')
          AND ($2 = '' OR n.nspname || '.' || c.relname ~ $2)
          AND ($3 = '' OR n.nspname || '.' || c.relname !~ $3)
        ORDER BY 1)SQL";
    const TableFilter filter = table_filter_from(config);  // the signal table left out
    std::vector<SnapshotRequest> out;
    PgResultPtr r;
    try {
        r = pg_query(conn, kTables,
                     {request.collection, anchored_list_regex(filter.include_list),
                      anchored_list_regex(filter.exclude_list)},
                     "finding the tables of " + request.collection);
    } catch (const PgError &e) {
        spdlog::error("incremental snapshot of {}: {}", request.collection, e.what());
        return out;
    }
    for (int i = 0; i < PQntuples(r.get()); i++)
        out.push_back({PQgetvalue(r.get(), i, 0), true, request.conditions});
    if (out.empty())
        spdlog::error("incremental snapshot of {}: no table among those streamed matches",
                      request.collection);
    return out;
}

void pin_catalog_search_path(PGconn *conn) {
    pg_query(conn, "SELECT pg_catalog.set_config('search_path', 'pg_catalog', false)", {},
             "setting the search path");
}

bool checked_condition(PGconn *conn, const std::string &table_oid, const std::string &table,
                       const std::string &filter, std::string &out) {
    try {
        out = pg_scalar(conn, "SELECT walcast.check_snapshot_condition($1::oid::regclass, $2)",
                        {table_oid, filter});
        return !out.empty();
    } catch (const PgError &e) {
        spdlog::error("snapshot of {} refused: its condition '{}' is not accepted: {}", table,
                      filter, e.what());
        return false;
    }
}

}  // namespace walcast
