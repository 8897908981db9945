#include "snapshot/snapshot_plan.h"

#include <algorithm>
#include <cstdlib>

#include "pg/filter_patterns.h"
#include "pg/pg_query.h"

namespace walcast {

std::string anchored_list_regex(const std::string &list) {
    std::string alternatives;
    for (const auto &item : pattern_list_items(list))
        alternatives += (alternatives.empty() ? "(?:" : "|(?:") + item + ")";
    return alternatives.empty() ? std::string() : "^(?:" + alternatives + ")$";
}

namespace {

constexpr std::int64_t kSmallestChunk = 1 << 20;

std::int64_t table_chunk_bytes(std::int64_t table_bytes, std::int64_t chunk_bytes, int min_chunks) {
    return std::min(chunk_bytes, std::max(kSmallestChunk, table_bytes / std::max(min_chunks, 1)));
}

}  // namespace

std::vector<SnapshotTable> list_snapshot_tables(PGconn *conn, const TableFilter &filter,
                                                bool sizes) {
    // Leaf tables with storage and WAL (unlogged tables never stream), outside the
    // system schemas and walcast's own; filters apply to the name events carry.
    static const char *kTables = R"SQL(
        WITH candidates AS (
            SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS relname,
                   CASE WHEN $3 AND c.relispartition
                        THEN (SELECT format('%s.%s', rn.nspname, r.relname)
                              FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace
                              WHERE r.oid = pg_partition_root(c.oid))
                        ELSE format('%s.%s', n.nspname, c.relname) END AS published,
                   CASE WHEN $3 AND c.relispartition
                        THEN (SELECT rn.nspname::text
                              FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace
                              WHERE r.oid = pg_partition_root(c.oid))
                        ELSE n.nspname::text END AS published_schema,
                   c.relfilenode AS filenode,
                   CASE WHEN $4 THEN pg_table_size(c.oid) ELSE 0 END AS bytes,
                   greatest(c.reltuples, 0) AS rows
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND c.relpersistence = 'p'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'walcast')
              AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%')
        SELECT oid, relname, published, filenode, bytes, rows FROM candidates
        WHERE ($1 = '' OR published ~ $1) AND ($2 = '' OR published !~ $2)
          AND ($5 = '' OR published_schema ~ $5) AND ($6 = '' OR published_schema !~ $6)
        ORDER BY bytes DESC, relname)SQL";
    PgResultPtr tables = pg_query(
        conn, kTables,
        {anchored_list_regex(filter.include_list), anchored_list_regex(filter.exclude_list),
         filter.via_partition_root ? "true" : "false", sizes ? "true" : "false",
         anchored_list_regex(filter.schema_include_list),
         anchored_list_regex(filter.schema_exclude_list)},
        "listing tables");

    std::vector<SnapshotTable> list;
    for (int i = 0; i < PQntuples(tables.get()); i++) {
        SnapshotTable t;
        t.rel =
            static_cast<std::uint32_t>(std::strtoul(PQgetvalue(tables.get(), i, 0), nullptr, 10));
        t.relname = PQgetvalue(tables.get(), i, 1);
        t.published = PQgetvalue(tables.get(), i, 2);
        t.filenode =
            static_cast<std::uint32_t>(std::strtoul(PQgetvalue(tables.get(), i, 3), nullptr, 10));
        t.bytes = std::strtoll(PQgetvalue(tables.get(), i, 4), nullptr, 10);
        t.estimated_rows = std::strtod(PQgetvalue(tables.get(), i, 5), nullptr);
        list.push_back(t);
    }
    return list;
}

SnapshotPlan plan_snapshot(PGconn *conn, const TableFilter &filter, std::int64_t chunk_bytes,
                           int min_chunks) {
    // Run inside a transaction that imported the snapshot: pg_class is then read as
    // of the snapshot, so relfilenode is the storage the snapshot sees, and a rewrite
    // at any moment after the snapshot is detected by the readers.
    SnapshotPlan plan;
    plan.tables = list_snapshot_tables(conn, filter);
    for (const SnapshotTable &t : plan.tables) {
        PgResultPtr chunks = pg_query(
            conn,
            "SELECT chunk, block_from, block_to FROM walcast.plan_chunks($1::oid, $2::bigint)",
            {std::to_string(t.rel),
             std::to_string(table_chunk_bytes(t.bytes, chunk_bytes, min_chunks))},
            "planning chunks of " + t.relname);
        for (int c = 0; c < PQntuples(chunks.get()); c++) {
            SnapshotChunk chunk;
            chunk.rel = t.rel;
            chunk.relname = t.relname;
            chunk.filenode = t.filenode;
            chunk.chunk = std::atoi(PQgetvalue(chunks.get(), c, 0));
            chunk.block_from = std::strtoll(PQgetvalue(chunks.get(), c, 1), nullptr, 10);
            if (!PQgetisnull(chunks.get(), c, 2))
                chunk.block_to = std::strtoll(PQgetvalue(chunks.get(), c, 2), nullptr, 10);
            plan.chunks.push_back(chunk);
        }
    }
    return plan;
}

}  // namespace walcast
