// The snapshot every reader imports, held open until all of them have it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pg/lsn.h"
#include "pg/pg_conn.h"

namespace walcast {

class ExportedSnapshot {
public:
    // Creates the slot on a replication connection with SNAPSHOT 'export': the
    // snapshot shows exactly the commits before consistent_point, and the slot
    // streams exactly the commits after it. Creation waits for every running
    // transaction; the backends it waits on are logged, and after timeout_ms it
    // is cancelled with an error naming them.
    static ExportedSnapshot create_slot(const Config &config, const std::string &slot_name,
                                        std::int64_t timeout_ms);

    // A fresh snapshot on an ordinary connection, for resuming an interrupted
    // snapshot: it sees more than the slot's consistent point, which is safe
    // because the stream replays everything after that point (at-least-once).
    static ExportedSnapshot fresh(const Config &config);

    const std::string &name() const { return name_; }
    Lsn consistent_point() const { return consistent_point_; }
    // Every reader has imported the snapshot: the holding connection may go.
    void release() { holder_.reset(); }

private:
    PgConnPtr holder_;
    std::string name_;
    Lsn consistent_point_ = 0;
};

// Creates the slot without a snapshot (snapshot.initial.method=incremental): it streams
// the commits after its consistent point, which it returns. Waits, logs and gives up as
// ExportedSnapshot::create_slot does.
Lsn create_slot_without_snapshot(const Config &config, const std::string &slot_name,
                                 std::int64_t timeout_ms);

}  // namespace walcast
