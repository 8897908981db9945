// Signals (Debezium's signal table format, as the plugin frames a signal row) and the
// incremental snapshot's queue operations: stop, pause, resume.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "incremental/control_message.h"
#include "incremental/snapshot_request.h"

using namespace walcast;
using Kind = ControlMessage::Kind;

TEST(Signal, ExecuteSnapshotAsTheFunctionWritesIt) {
    ControlMessage m = parse_control_message(signal_frame_value(
        "6b1c", "execute-snapshot",
        R"j({"type":"incremental","data-collections":["public\\.t","s\\.u v"],)j"
        R"j("additional-conditions":[{"data-collection":"public\\.t","filter":"(id > 40)"}]})j"));
    EXPECT_EQ(m.kind, Kind::kExecuteSnapshot);
    EXPECT_EQ(m.id, "6b1c");
    EXPECT_EQ(m.snapshot_type, "incremental");
    EXPECT_EQ(m.data_collections, (std::vector<std::string>{"public\\.t", "s\\.u v"}));
    ASSERT_EQ(m.conditions.size(), 1u);
    EXPECT_EQ(m.conditions[0].data_collection, "public\\.t");
    EXPECT_EQ(m.conditions[0].filter, "(id > 40)");
}

TEST(Signal, ExecuteSnapshotAsDebeziumUsersWriteIt) {
    // Spaces, upper-case type, no type at all (incremental), a blocking one.
    ControlMessage m = parse_control_message(
        signal_frame_value("a", "execute-snapshot",
                           R"({"data-collections": ["inventory.*"], "type": "INCREMENTAL"})"));
    EXPECT_EQ(m.kind, Kind::kExecuteSnapshot);
    EXPECT_EQ(m.snapshot_type, "incremental");
    m = parse_control_message(
        signal_frame_value("b", "execute-snapshot", R"({"data-collections": ["public.t"]})"));
    EXPECT_EQ(m.snapshot_type, "incremental");
    m = parse_control_message(signal_frame_value(
        "c", "execute-snapshot", R"({"data-collections": ["public.t"], "type": "blocking"})"));
    EXPECT_EQ(m.kind, Kind::kExecuteSnapshot);
    EXPECT_EQ(m.snapshot_type, "blocking");
}

TEST(Signal, ExecuteSnapshotNeedsCollections) {
    EXPECT_EQ(parse_control_message(signal_frame_value("a", "execute-snapshot", "{}")).kind,
              Kind::kUnknown);
    EXPECT_EQ(parse_control_message(signal_frame_value("a", "execute-snapshot", "not json")).kind,
              Kind::kUnknown);
    EXPECT_EQ(parse_control_message(
                  signal_frame_value(
                      "a", "execute-snapshot",
                      R"({"data-collections":["t"],"additional-conditions":[{"filter":"x"}]})"))
                  .kind,
              Kind::kUnknown);
}

TEST(Signal, StopPauseResumeLog) {
    ControlMessage m = parse_control_message(signal_frame_value(
        "s", "stop-snapshot", R"({"data-collections":["public.t"],"type":"incremental"})"));
    EXPECT_EQ(m.kind, Kind::kStopSnapshot);
    EXPECT_EQ(m.data_collections, (std::vector<std::string>{"public.t"}));
    m = parse_control_message(
        signal_frame_value("s", "stop-snapshot", R"({"type":"INCREMENTAL"})"));
    EXPECT_EQ(m.kind, Kind::kStopSnapshot);
    EXPECT_TRUE(m.data_collections.empty());
    EXPECT_EQ(m.snapshot_type, "incremental");
    // data NULL in the table: the frame carries null.
    std::string null_data =
        std::string("signal\t") + R"({"id":"p","type":"pause-snapshot","data":null})";
    EXPECT_EQ(parse_control_message(null_data).kind, Kind::kPauseSnapshot);
    EXPECT_EQ(parse_control_message(signal_frame_value("r", "resume-snapshot", "{}")).kind,
              Kind::kResumeSnapshot);
    m = parse_control_message(signal_frame_value("l", "log", R"({"message":"hello there"})"));
    EXPECT_EQ(m.kind, Kind::kLog);
    EXPECT_EQ(m.log_message, "hello there");
    m = parse_control_message(signal_frame_value("x", "snapshot-window-open", "{}"));
    EXPECT_EQ(m.kind, Kind::kUnknown);
    EXPECT_NE(m.error.find("snapshot-window-open"), std::string::npos);
}

TEST(Signal, MessageSignalsAreRefused) {
    // What pg_logical_emit_message() can write: the old message format, and a forged
    // signal row (the plugin writes a message's tabs as spaces).
    EXPECT_EQ(parse_control_message(
                  R"({"signal":"execute-snapshot","type":"incremental","data-collections":["t"]})")
                  .kind,
              Kind::kMessageSignal);
    std::string forged = signal_frame_value("f", "log", R"({"message":"x"})");
    forged[6] = ' ';
    EXPECT_NE(parse_control_message(forged).kind, Kind::kLog);
}

TEST(Signal, WatermarksStillParse) {
    EXPECT_EQ(parse_control_message(watermark_message(true, "ab-1")).kind, Kind::kLowWatermark);
    EXPECT_EQ(parse_control_message(watermark_message(false, "ab-1")).kind, Kind::kHighWatermark);
}

TEST(SnapshotRequest, CollectionsMatchAsWholeRegexes) {
    EXPECT_TRUE(collection_matches("public\\.t", "public.t"));
    EXPECT_FALSE(collection_matches("public\\.t", "public.t2"));
    EXPECT_TRUE(collection_matches("public\\..*", "public.t2"));
    EXPECT_FALSE(collection_matches("(", "("));
    std::vector<SnapshotCondition> conditions{{"public\\.a", "x > 1"}, {"public\\..*", "y"}};
    EXPECT_EQ(condition_for(conditions, "public.a"), "x > 1");
    EXPECT_EQ(condition_for(conditions, "public.b"), "y");
    EXPECT_EQ(condition_for(conditions, "other.b"), "");
}
