// One snapshot reader: a connection that imports the exported snapshot and streams
// chunks of rows, already encoded as frames by walcast.snapshot_rows() inside Postgres.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pg/pg_conn.h"
#include "snapshot/snapshot_batch.h"
#include "snapshot/snapshot_plan.h"

namespace walcast {

class SnapshotReader {
public:
    // Opens the connection and imports snapshot_name (empty: a snapshot of its own) in
    // a REPEATABLE READ READ ONLY transaction. Timeouts are switched off for this
    // session only. Throws PgError.
    SnapshotReader(const Config &config, const std::string &snapshot_name);

    // Streams the rows of one chunk to on_batch in batches of about batch_bytes; the
    // last batch has end_of_chunk set (and may be empty). options: name/value pairs for
    // snapshot_rows (the compact layout is asked for here). Returns the number of rows.
    // Throws PgError (e.g. a table rewritten under the snapshot) or FrameError.
    std::uint64_t read_chunk(const SnapshotChunk &chunk,
                             const std::vector<std::pair<std::string, std::string>> &options,
                             const std::function<void(RowBatch &&batch)> &on_batch,
                             std::size_t batch_bytes = 256 * 1024);

private:
    PgConnPtr conn_;
    bool key_schemas_, value_schemas_;  // *.converter.schemas.enable
};

// The SQL array literal of name/value options.
std::string options_array_sql(const std::vector<std::pair<std::string, std::string>> &options);

}  // namespace walcast
