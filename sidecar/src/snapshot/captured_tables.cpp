#include "snapshot/captured_tables.h"

#include <libpq-fe.h>

#include "pg/pg_query.h"

namespace walcast {

bool CapturedTables::has_run() {
    return !pg_scalar(conn_, "SELECT 1 FROM walcast.snapshot_runs WHERE slot_name = $1", {slot_})
                .empty();
}

std::vector<std::string> CapturedTables::missing(const TableFilter &filter) {
    std::vector<std::string> oids;
    for (const auto &t : list_snapshot_tables(conn_, filter, false))
        oids.push_back(std::to_string(t.rel));
    if (oids.empty()) return {};
    PgResultPtr res =
        pg_query(conn_, R"SQL(
        SELECT name FROM (
            SELECT c.oid, format('%s.%s', n.nspname, c.relname) AS name
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = ANY($2::oid[])) t
        WHERE NOT EXISTS (SELECT FROM walcast.snapshot_tables r
                          WHERE r.slot_name = $1 AND r.table_name = t.name)
          AND NOT EXISTS (SELECT FROM walcast.snapshot_chunks ch
                          WHERE ch.slot_name = $1 AND ch.rel = t.oid)
        ORDER BY name)SQL",
                 {slot_, text_array_literal(oids)}, "listing the tables new to slot " + slot_);
    std::vector<std::string> names;
    for (int i = 0; i < PQntuples(res.get()); i++) names.emplace_back(PQgetvalue(res.get(), i, 0));
    return names;
}

void CapturedTables::record_and_signal(const std::vector<std::string> &tables) {
    if (tables.empty()) return;
    pg_query(conn_,
             "INSERT INTO walcast.snapshot_tables (slot_name, table_name, method) "
             "SELECT $1, unnest($2::text[]), 'incremental' ON CONFLICT DO NOTHING",
             {slot_, text_array_literal(tables)}, "recording the tables queued for slot " + slot_);
    // The signal as any user would send it: walcast.execute_snapshot() (its privilege
    // checks, its signal table) in this transaction.
    pg_query(conn_,
             "SELECT walcast.execute_snapshot(array_agg(format('%I.%I', n.nspname, c.relname))) "
             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE format('%s.%s', n.nspname, c.relname) = ANY($1::text[])",
             {text_array_literal(tables)}, "signalling the incremental snapshot of new tables");
}

std::vector<std::string> CapturedTables::queue_missing(const TableFilter &filter) {
    pg_query(conn_, "BEGIN", {});
    try {
        // One queueing at a time per slot: two starting runs would both find the
        // same tables missing.
        pg_query(conn_,
                 "SELECT pg_advisory_xact_lock(hashtext('walcast.snapshot_tables'), "
                 "hashtext($1))",
                 {slot_});
        std::vector<std::string> tables = missing(filter);
        record_and_signal(tables);
        pg_query(conn_, "COMMIT", {});
        return tables;
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
}

}  // namespace walcast
