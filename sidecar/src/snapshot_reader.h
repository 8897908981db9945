// One snapshot reader: a connection that imports the exported snapshot and streams
// chunks of rows, already encoded as frames by walcast.snapshot_rows() inside Postgres.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pg_conn.h"
#include "snapshot_plan.h"

namespace walcast {

class SnapshotReader {
public:
    // Opens the connection and imports snapshot_name (empty: a snapshot of its own) in
    // a REPEATABLE READ READ ONLY transaction. Timeouts are switched off for this
    // session only. Throws PgError.
    SnapshotReader(const Config &config, const std::string &snapshot_name);

    // Streams the frames of one chunk to on_frame (the view is valid during the call).
    // options: name/value pairs for snapshot_rows (format=frames is added).
    // Returns the number of rows. Throws PgError (e.g. a table rewritten under the snapshot).
    std::uint64_t read_chunk(const SnapshotChunk &chunk,
                             const std::vector<std::pair<std::string, std::string>> &options,
                             const std::function<void(std::string_view frame)> &on_frame);

private:
    PgConnPtr conn_;
};

// The SQL array literal of name/value options.
std::string options_array_sql(const std::vector<std::pair<std::string, std::string>> &options);

}  // namespace walcast
