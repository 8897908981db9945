#include "snapshot/snapshot_store.h"

#include <cstdlib>

#include <utility>

#include "pg/pg_query.h"

namespace walcast {

bool SnapshotStore::readable() {
    return pg_scalar(conn_,
                     "SELECT has_schema_privilege(n.oid, 'USAGE') "
                     "       AND has_table_privilege(c.oid, 'SELECT') "
                     "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = 'walcast' AND c.relname = 'snapshot_runs'") == "t";
}

std::optional<SnapshotRun> SnapshotStore::load_run() {
    PgResultPtr res = pg_query(
        conn_,
        "SELECT consistent_point::text, completed_at IS NOT NULL FROM walcast.snapshot_runs "
        "WHERE slot_name = $1",
        {slot_});
    if (PQntuples(res.get()) == 0) return std::nullopt;
    SnapshotRun run;
    run.consistent_point = parse_lsn(PQgetvalue(res.get(), 0, 0)).value_or(0);
    run.completed = PQgetvalue(res.get(), 0, 1)[0] == 't';
    return run;
}

void SnapshotStore::record_pending() {
    pg_query(conn_, "BEGIN", {});
    try {
        pg_query(conn_, "DELETE FROM walcast.snapshot_runs WHERE slot_name = $1", {slot_});
        pg_query(conn_,
                 "INSERT INTO walcast.snapshot_runs (slot_name, consistent_point) "
                 "VALUES ($1, '0/0')",
                 {slot_});
        pg_query(conn_, "COMMIT", {});
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
}

void SnapshotStore::start_run(Lsn consistent_point, const SnapshotPlan &plan) {
    pg_query(conn_, "BEGIN", {});
    try {
        pg_query(conn_, "DELETE FROM walcast.snapshot_runs WHERE slot_name = $1", {slot_});
        pg_query(conn_,
                 "INSERT INTO walcast.snapshot_runs (slot_name, consistent_point) VALUES ($1, $2)",
                 {slot_, format_lsn(consistent_point)});
        for (const auto &c : plan.chunks) {
            pg_query(
                conn_,
                "INSERT INTO walcast.snapshot_chunks (slot_name, rel, relname, filenode, chunk, "
                "block_from, block_to) VALUES ($1, $2, $3, $7, $4, $5, nullif($6, '')::bigint)",
                {slot_, std::to_string(c.rel), c.relname, std::to_string(c.chunk),
                 std::to_string(c.block_from), c.block_to ? std::to_string(*c.block_to) : "",
                 std::to_string(c.filenode)});
        }
        std::string oids = "{";
        for (const auto &t : plan.tables)
            oids += (oids.size() > 1 ? "," : "") + std::to_string(t.rel);
        oids += "}";
        pg_query(conn_,
                 "INSERT INTO walcast.snapshot_tables (slot_name, table_name, method) "
                 "SELECT $1, format('%s.%s', n.nspname, c.relname), 'initial' "
                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.oid = ANY($2::oid[]) ON CONFLICT DO NOTHING",
                 {slot_, oids});
        pg_query(conn_, "COMMIT", {});
    } catch (...) {
        PQclear(PQexec(conn_, "ROLLBACK"));
        throw;
    }
}

std::vector<SnapshotChunk> SnapshotStore::load_chunks() {
    PgResultPtr res =
        pg_query(conn_,
                 "SELECT c.rel, c.relname, pg_relation_filenode(c.rel), c.chunk, c.block_from, "
                 "coalesce(c.block_to::text, ''), "
                 "       c.finished_at IS NOT NULL AND pg_relation_filenode(c.rel) = c.filenode "
                 "FROM walcast.snapshot_chunks c "
                 "WHERE c.slot_name = $1 AND pg_relation_filenode(c.rel) IS NOT NULL "
                 "ORDER BY pg_table_size(c.rel) DESC, c.rel, c.chunk",
                 {slot_});
    std::vector<SnapshotChunk> chunks;
    for (int i = 0; i < PQntuples(res.get()); i++) {
        SnapshotChunk c;
        c.rel = static_cast<std::uint32_t>(std::strtoul(PQgetvalue(res.get(), i, 0), nullptr, 10));
        c.relname = PQgetvalue(res.get(), i, 1);
        c.filenode =
            static_cast<std::uint32_t>(std::strtoul(PQgetvalue(res.get(), i, 2), nullptr, 10));
        c.chunk = std::atoi(PQgetvalue(res.get(), i, 3));
        c.block_from = std::strtoll(PQgetvalue(res.get(), i, 4), nullptr, 10);
        if (PQgetvalue(res.get(), i, 5)[0] != '\0')
            c.block_to = std::strtoll(PQgetvalue(res.get(), i, 5), nullptr, 10);
        c.finished = PQgetvalue(res.get(), i, 6)[0] == 't';
        chunks.push_back(std::move(c));
    }
    return chunks;
}

void SnapshotStore::chunk_finished(const SnapshotChunk &chunk, std::uint64_t rows) {
    if (!record_chunks_) return;
    pg_query(conn_,
             "UPDATE walcast.snapshot_chunks SET finished_at = now(), rows = $4, filenode = $5 "
             "WHERE slot_name = $1 AND rel = $2 AND chunk = $3",
             {slot_, std::to_string(chunk.rel), std::to_string(chunk.chunk), std::to_string(rows),
              std::to_string(chunk.filenode)});
}

void SnapshotStore::complete_run() {
    pg_query(conn_, "UPDATE walcast.snapshot_runs SET completed_at = now() WHERE slot_name = $1",
             {slot_});
}

void SnapshotStore::forget_run() {
    pg_query(conn_, "DELETE FROM walcast.snapshot_runs WHERE slot_name = $1", {slot_});
}

std::int64_t SnapshotStore::retained_wal_bytes() {
    std::string v = pg_scalar(conn_,
                              "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
                              "FROM pg_replication_slots "
                              "WHERE slot_name = $1",
                              {slot_});
    return v.empty() ? 0 : std::strtoll(v.c_str(), nullptr, 10);
}

}  // namespace walcast
