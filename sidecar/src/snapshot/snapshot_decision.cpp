#include "snapshot/snapshot_decision.h"

namespace walcast {

SnapshotAction decide_snapshot(const std::string &mode, SlotCondition slot, SnapshotRecord record) {
    const bool recover = mode == "when_needed";
    if (mode == "always") {
        // Every start reads every table: a lost slot is replaced at no further cost, and
        // a slot that was never read from (pending) is started over.
        if (slot == SlotCondition::kLost || record == SnapshotRecord::kPending)
            return slot == SlotCondition::kMissing ? SnapshotAction::kCreate
                                                   : SnapshotAction::kReplaceSlot;
        return slot == SlotCondition::kMissing ? SnapshotAction::kCreate
                                               : SnapshotAction::kResnapshot;
    }
    if (slot == SlotCondition::kLost)
        // Even a stream-only mode cannot go on: the slot's WAL is gone.
        return recover ? SnapshotAction::kReplaceSlot : SnapshotAction::kRefuseLost;
    if (mode == "no_data" || mode == "never") return SnapshotAction::kStream;
    if (slot == SlotCondition::kMissing) return SnapshotAction::kCreate;
    switch (record) {
        case SnapshotRecord::kCompleted:
            return mode == "initial_only" ? SnapshotAction::kDropCompleted
                                          : SnapshotAction::kStream;
        case SnapshotRecord::kStarted:
            return SnapshotAction::kResume;
        case SnapshotRecord::kPending:
            // Created by a walcast run that stopped before its first chunk was planned:
            // nothing was read from it, nothing is lost by starting over.
            return SnapshotAction::kReplaceSlot;
        case SnapshotRecord::kNone:
            break;
    }
    return recover ? SnapshotAction::kReplaceSlot : SnapshotAction::kRefuseUnrecorded;
}

const char *describe(SnapshotAction action) {
    switch (action) {
        case SnapshotAction::kStream:
            return "stream";
        case SnapshotAction::kCreate:
            return "create";
        case SnapshotAction::kResume:
            return "resume";
        case SnapshotAction::kReplaceSlot:
            return "replace slot";
        case SnapshotAction::kDropCompleted:
            return "drop completed";
        case SnapshotAction::kResnapshot:
            return "snapshot again";
        case SnapshotAction::kRefuseUnrecorded:
            return "refuse unrecorded";
        case SnapshotAction::kRefuseLost:
            return "refuse lost";
    }
    return "?";
}

}  // namespace walcast
