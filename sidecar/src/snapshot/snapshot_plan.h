// Which tables an initial snapshot reads and how they are cut into CTID chunks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/pg_conn.h"

namespace walcast {

struct SnapshotChunk {
    std::uint32_t rel = 0;  // table oid
    std::string relname;    // schema-qualified, quoted for SQL
    std::uint32_t filenode = 0;
    int chunk = 0;  // index within the table
    std::int64_t block_from = 0;
    std::optional<std::int64_t> block_to;  // none: open ended (relpages can be stale)
    bool finished = false;                 // durably delivered in an earlier run
    // Only the rows that satisfy it are read (a blocking snapshot's additional-condition,
    // checked by walcast.check_snapshot_condition()); empty: every row.
    std::string condition = {};
};

struct SnapshotTable {
    std::uint32_t rel = 0;
    std::string relname;         // schema-qualified, quoted for SQL
    std::string published;       // schema.table as named in events (root with via-root)
    std::uint32_t filenode = 0;  // storage at planning time: a rewrite is detected
    std::int64_t bytes = 0;      // heap + TOAST
    double estimated_rows = 0;   // reltuples
};

struct SnapshotPlan {
    std::vector<SnapshotTable> tables;  // largest first
    std::vector<SnapshotChunk> chunks;  // grouped by table, largest table first
};

struct TableFilter {
    std::string include_list;  // Debezium comma-separated regex lists on schema.table
    std::string exclude_list;
    std::string schema_include_list;  // the same on the schema of that name
    std::string schema_exclude_list;
    bool via_partition_root = false;
};

// One anchored regular expression for a comma-separated list, as the plugin builds it.
std::string anchored_list_regex(const std::string &list);

// The tables a snapshot with this filter reads, largest first. sizes=false: bytes
// stay 0 and no table is locked (pg_table_size takes a lock on each).
std::vector<SnapshotTable> list_snapshot_tables(PGconn *conn, const TableFilter &filter,
                                                bool sizes = true);

// Reads the catalog inside the caller's (snapshot) transaction. Chunks are about
// chunk_bytes, smaller where a table would otherwise make fewer than min_chunks, so
// that parallel readers of one big table finish together.
SnapshotPlan plan_snapshot(PGconn *conn, const TableFilter &filter, std::int64_t chunk_bytes,
                           int min_chunks = 1);

}  // namespace walcast
