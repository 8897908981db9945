// What `walcast run` does with the initial snapshot, from snapshot.mode, the slot as
// the server shows it and the snapshot on record in walcast.snapshot_runs. Pure logic,
// so that every combination is tested.
//
// The record is written in steps around the slot's creation, so that every crash
// leaves a state with one right answer:
//   1. record "pending" (consistent point 0/0)    crash: no slot, or a slot nothing read
//   2. CREATE_REPLICATION_SLOT                    from -> drop it and start over
//   3. record the consistent point and the plan   crash: resume the unfinished chunks
//   4. chunks recorded as the sink confirms them
//   5. record completion                          from here on: stream
// A slot without any record was not made by a walcast snapshot: walcast cannot snapshot
// at the consistent point of a slot it did not create, so it refuses (when_needed:
// replaces the slot). snapshot.mode=always snapshots on every start: a slot that exists
// keeps its position and streams from it after the new snapshot.
#pragma once

#include <string>

namespace walcast {

enum class SnapshotRecord {
    kNone,       // no row for the slot (or no walcast extension)
    kPending,    // step 1 done, no consistent point yet: nothing was read
    kStarted,    // plan recorded, not complete
    kCompleted,  // every chunk confirmed by the sink
};

enum class SlotCondition { kMissing, kHealthy, kLost };

enum class SnapshotAction {
    kStream,            // no snapshot: stream (modes without snapshots, or completed)
    kCreate,            // create the slot with a new snapshot
    kResume,            // finish the recorded snapshot, then stream
    kReplaceSlot,       // drop the slot (nothing of it was delivered, or when_needed) and
                        // create a new one with a new snapshot
    kDropCompleted,     // initial_only: snapshot already complete, drop the slot
    kResnapshot,        // always: a new snapshot of every table under a fresh snapshot,
                        // then stream from the slot's position (changes after it may
                        // come again: at least once)
    kRefuseUnrecorded,  // slot exists without a snapshot on record
    kRefuseLost,        // slot invalidated by the server
};

SnapshotAction decide_snapshot(const std::string &mode, SlotCondition slot, SnapshotRecord record);

const char *describe(SnapshotAction action);

}  // namespace walcast
