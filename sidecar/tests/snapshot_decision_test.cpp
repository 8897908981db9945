// Every combination of snapshot.mode, slot and snapshot record has one answer, and
// "stream without a snapshot" comes only from a completed record or a stream-only mode.
#include "snapshot/snapshot_decision.h"

#include <gtest/gtest.h>

#include "pg/slot_health.h"
#include "snapshot/snapshot_preflight.h"

namespace walcast {
namespace {

using A = SnapshotAction;
using R = SnapshotRecord;
using S = SlotCondition;

const char *kSnapshotModes[] = {"initial", "initial_only", "when_needed", "always"};

TEST(SnapshotDecision, MissingSlotIsCreatedWithASnapshot) {
    for (const char *mode : kSnapshotModes)
        for (R r : {R::kNone, R::kPending, R::kStarted, R::kCompleted})
            EXPECT_EQ(decide_snapshot(mode, S::kMissing, r), A::kCreate) << mode;
}

TEST(SnapshotDecision, StreamsOnlyWithACompletedSnapshotOnRecord) {
    for (const char *mode : {"initial", "when_needed"}) {
        EXPECT_EQ(decide_snapshot(mode, S::kHealthy, R::kCompleted), A::kStream) << mode;
        EXPECT_EQ(decide_snapshot(mode, S::kHealthy, R::kStarted), A::kResume) << mode;
    }
    EXPECT_EQ(decide_snapshot("initial_only", S::kHealthy, R::kCompleted), A::kDropCompleted);
    for (const char *mode : kSnapshotModes)
        for (R r : {R::kNone, R::kPending, R::kStarted})
            EXPECT_NE(decide_snapshot(mode, S::kHealthy, r), A::kStream) << mode;
}

TEST(SnapshotDecision, SlotOfARunThatNeverStartedReadingIsReplaced) {
    for (const char *mode : kSnapshotModes)
        EXPECT_EQ(decide_snapshot(mode, S::kHealthy, R::kPending), A::kReplaceSlot) << mode;
}

TEST(SnapshotDecision, SlotWithoutRecordIsRefusedUnlessWhenNeeded) {
    EXPECT_EQ(decide_snapshot("initial", S::kHealthy, R::kNone), A::kRefuseUnrecorded);
    EXPECT_EQ(decide_snapshot("initial_only", S::kHealthy, R::kNone), A::kRefuseUnrecorded);
    EXPECT_EQ(decide_snapshot("when_needed", S::kHealthy, R::kNone), A::kReplaceSlot);
}

TEST(SnapshotDecision, StreamOnlyModesIgnoreTheRecord) {
    for (const char *mode : {"no_data", "never"})
        for (R r : {R::kNone, R::kPending, R::kStarted, R::kCompleted}) {
            EXPECT_EQ(decide_snapshot(mode, S::kHealthy, r), A::kStream) << mode;
            EXPECT_EQ(decide_snapshot(mode, S::kMissing, r), A::kStream) << mode;
        }
}

TEST(SnapshotDecision, LostSlotIsFatalUnlessWhenNeeded) {
    for (R r : {R::kNone, R::kPending, R::kStarted, R::kCompleted}) {
        for (const char *mode : {"initial", "initial_only", "no_data", "never"})
            EXPECT_EQ(decide_snapshot(mode, S::kLost, r), A::kRefuseLost) << mode;
        EXPECT_EQ(decide_snapshot("when_needed", S::kLost, r), A::kReplaceSlot);
    }
}

TEST(SnapshotDecision, AlwaysSnapshotsOnEveryStart) {
    // An existing slot keeps its position: a new snapshot, then the stream from there.
    for (R r : {R::kNone, R::kStarted, R::kCompleted})
        EXPECT_EQ(decide_snapshot("always", S::kHealthy, r), A::kResnapshot);
    // A lost slot is replaced: its snapshot covers the lost WAL.
    for (R r : {R::kNone, R::kPending, R::kStarted, R::kCompleted})
        EXPECT_EQ(decide_snapshot("always", S::kLost, r), A::kReplaceSlot);
    EXPECT_STREQ(describe(A::kResnapshot), "snapshot again");
}

TEST(SlotHealth, RecognisesTheServersInvalidatedSlotError) {
    EXPECT_TRUE(is_slot_invalidated_error(
        "55000",
        "ERROR:  can no longer get changes from replication slot \"s\" DETAIL:  This slot has "
        "been invalidated because it exceeded the maximum reserved size."));
    EXPECT_TRUE(is_slot_invalidated_error(
        "55000",
        "ERROR:  cannot read from logical replication slot \"s\" DETAIL:  This slot has been "
        "invalidated because it exceeded the maximum reserved size."));
    EXPECT_FALSE(is_slot_invalidated_error("55006", "replication slot \"s\" is active for PID 1"));
    EXPECT_FALSE(is_slot_invalidated_error("08006", "This slot has been invalidated"));
}

TEST(SlotHealth, LostSlotMessageSaysWhatHappenedAndWhatToDo) {
    SlotInfo info;
    info.wal_status = "lost";
    info.max_slot_wal_keep_size = "64MB";
    std::string m = describe_lost_slot("s1", info);
    EXPECT_NE(m.find("max_slot_wal_keep_size (64MB)"), std::string::npos) << m;
    EXPECT_NE(m.find("walcast slot drop"), std::string::npos) << m;
    EXPECT_NE(m.find("snapshot.mode=when_needed"), std::string::npos) << m;
}

TEST(PreflightReport, ListsEverythingMissingWithOneFixEach) {
    PreflightReport r;
    r.role = "\"Bob\"";
    EXPECT_TRUE(r.ok());
    r.add("USAGE on schema walcast", "GRANT USAGE ON SCHEMA walcast TO \"Bob\";");
    r.add("USAGE on schema s (table s.a)", "GRANT USAGE ON SCHEMA s TO \"Bob\";");
    r.add("USAGE on schema s (table s.b)", "GRANT USAGE ON SCHEMA s TO \"Bob\";");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.missing.size(), 3u);
    EXPECT_EQ(r.fixes.size(), 2u) << "the same statement once";
    std::string m = r.message();
    EXPECT_NE(m.find("role \"Bob\"; nothing was created"), std::string::npos) << m;
    EXPECT_NE(m.find("\n  - USAGE on schema s (table s.b)"), std::string::npos) << m;
    EXPECT_NE(m.find("\n  GRANT USAGE ON SCHEMA s TO \"Bob\";"), std::string::npos) << m;
}

}  // namespace
}  // namespace walcast
