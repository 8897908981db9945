// Which tables a slot's sink received, or was asked to receive, the rows of
// (walcast.snapshot_tables, next to walcast.snapshot_runs): the initial snapshot's tables,
// recorded with its plan, and the tables queued for an incremental snapshot by
// snapshot.new.tables=incremental or an incremental first load. A table the filters
// select that is not on record is new: its rows before the slot's position never
// reached the sink (docs/incremental-snapshots.md, "New tables").
#pragma once

#include <string>
#include <vector>

#include "pg/pg_conn.h"
#include "snapshot/snapshot_plan.h"

namespace walcast {

class CapturedTables {
public:
    CapturedTables(PGconn *conn, std::string slot_name)
        : conn_(conn), slot_(std::move(slot_name)) {}

    // Whether the slot has a run on record (the table list needs one: without it,
    // snapshot.mode=no_data or never, nothing says what the sink has).
    bool has_run();
    // The tables `filter` selects that are not on record, "schema.table", sorted. Tables
    // of a run recorded before walcast.snapshot_tables existed count through its chunks.
    std::vector<std::string> missing(const TableFilter &filter);
    // In the caller's transaction: records `tables` as queued and asks for their
    // incremental snapshot with walcast.execute_snapshot(), so that the signal reaches
    // the stream exactly when the record commits.
    void record_and_signal(const std::vector<std::string> &tables);
    // missing() then record_and_signal() in one transaction. Returns the tables queued.
    std::vector<std::string> queue_missing(const TableFilter &filter);

private:
    PGconn *conn_;
    std::string slot_;
};

}  // namespace walcast
