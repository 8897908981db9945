// Durable record of incremental snapshots in the source database (the extension's table
// walcast.incremental_snapshots, one row per slot and table), so that a restarted
// sidecar continues a requested snapshot after its last confirmed chunk.
//
// A request is recorded when its signal is read from the slot, before the slot is
// acknowledged past the signal; progress only after the sink confirmed the chunks it
// covers (the high watermark's transaction acknowledged). The signal's LSN identifies
// the request: a signal read again after a reconnect is the same request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "incremental/chunk_planner.h"
#include "pg/lsn.h"
#include "pg/pg_conn.h"

namespace walcast {

struct IncrementalRecord {
    std::string table;         // "schema.table" as the signal named it
    Lsn requested = 0;         // the signal's LSN
    std::uint64_t chunks = 0;  // chunks confirmed (the next chunk's number)
    KeyValues last_key;        // last key they cover (empty: none yet)
    std::uint64_t rows = 0;    // rows those chunks read
    std::string condition;     // the signal's additional condition for it (unchecked), or empty
};

class IncrementalStore {
public:
    IncrementalStore(PGconn *conn, std::string slot) : conn_(conn), slot_(std::move(slot)) {}

    // Whether the extension has the table and this role may write it.
    bool usable();
    // Records a request; false when this request (same table and LSN) is on record
    // already, or the table's snapshot was asked for again later.
    bool request(const IncrementalRecord &request);
    // Requests not completed, oldest first.
    std::vector<IncrementalRecord> unfinished();
    // The confirmed prefix grew (ignored if a newer request replaced this one).
    void advance(const IncrementalRecord &progress);
    void complete(const std::string &table, Lsn requested);

private:
    PGconn *conn_;
    std::string slot_;
};

// A key's values from a JSON array of strings (to_jsonb(text[])); empty when malformed.
KeyValues key_values_from_json(const std::string &json);

}  // namespace walcast
