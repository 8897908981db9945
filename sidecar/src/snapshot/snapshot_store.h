// Durable record of an initial snapshot in the source database (tables
// walcast.snapshot_runs and walcast.snapshot_chunks of the extension).
//
// Kept there, not in a local file, because it must survive the sidecar's host,
// belongs with the slot it describes (same database, same backups), and is written
// transactionally. A chunk is recorded only after the sink confirmed every one of
// its events, so a recorded chunk never needs reading again.
#pragma once

#include <optional>
#include <string>

#include "pg/lsn.h"
#include "pg/pg_conn.h"
#include "snapshot/snapshot_plan.h"

namespace walcast {

struct SnapshotRun {
    Lsn consistent_point = 0;  // 0: pending, the slot may exist but nothing was read
    bool completed = false;
    bool pending() const { return consistent_point == 0; }
};

class SnapshotStore {
public:
    // record_chunks=false: a snapshot outside the slot's run (a blocking snapshot) whose
    // chunks are not kept: chunk_finished() records nothing.
    SnapshotStore(PGconn *conn, std::string slot_name, bool record_chunks = true)
        : conn_(conn), slot_(std::move(slot_name)), record_chunks_(record_chunks) {}

    // Whether this role may read the record at all (else load_run fails).
    bool readable();
    std::optional<SnapshotRun> load_run();
    // Records, before the slot is created, that a walcast snapshot is about to create
    // it: a slot found later with only this record had nothing read from it.
    void record_pending();
    // Records a new run with its full chunk plan (replacing any earlier one), and its
    // tables in walcast.snapshot_tables (snapshot/captured_tables.h).
    void start_run(Lsn consistent_point, const SnapshotPlan &plan);
    // The chunk plan of the recorded run. A chunk counts as finished only if its
    // table still has the storage it had when planned: block ranges of a rewritten
    // table mean nothing any more. Chunks of dropped tables are left out.
    std::vector<SnapshotChunk> load_chunks();
    void chunk_finished(const SnapshotChunk &chunk, std::uint64_t rows);
    void complete_run();
    void forget_run();
    // WAL the slot keeps on disk now (0 if the slot is gone).
    std::int64_t retained_wal_bytes();

private:
    PGconn *conn_;
    std::string slot_;
    bool record_chunks_;
};

}  // namespace walcast
