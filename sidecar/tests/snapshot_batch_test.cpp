// The compact snapshot layout on the reader's side: template frames, newline-separated
// rows, and the event values put together from them (docs/framing.md).
#include "snapshot/snapshot_batch.h"

#include <gtest/gtest.h>

#include "common/frame_error.h"

namespace walcast {
namespace {

const char kTemplate[] =
    "S\twalcast.public.t\t{\"before\":null,\"after\":\t,\"source\":{\"snapshot\":\"true\","
    "\"lsn\":42},\"transaction\":null,\"op\":\"r\"";

TEST(SnapshotBatch, TemplateSplitsIntoTopicHeadAndTail) {
    ChunkTemplate t = ChunkTemplate::parse(kTemplate);
    EXPECT_EQ(t.topic, "walcast.public.t");
    EXPECT_EQ(t.head, "{\"before\":null,\"after\":");
    EXPECT_EQ(t.tail,
              ",\"source\":{\"snapshot\":\"true\",\"lsn\":42},\"transaction\":null,\"op\":\"r\"");
}

TEST(SnapshotBatch, MalformedTemplatesAreRejected) {
    EXPECT_THROW(ChunkTemplate::parse("E\tr\tt\t{}\t{}"), FrameError);
    EXPECT_THROW(ChunkTemplate::parse("S\tt\tonly-head"), FrameError);
    EXPECT_THROW(ChunkTemplate::parse("S\tt\th\tt\textra"), FrameError);
}

TEST(SnapshotBatch, RowsOfSeveralValuesKeepTheirKeysAndAfters) {
    RowBatch b;
    b.add_rows("{\"id\":1}\t{\"id\":1,\"s\":\"a\\tb\"}\n{\"id\":2}\t{\"id\":2,\"s\":null}\n");
    b.add_rows("\t{\"x\":3}\n");  // a table without a key
    ASSERT_EQ(b.rows(), 3u);
    EXPECT_EQ(b.row(0).key, "{\"id\":1}");
    EXPECT_EQ(b.row(0).after, "{\"id\":1,\"s\":\"a\\tb\"}");
    EXPECT_EQ(b.row(1).after, "{\"id\":2,\"s\":null}");
    EXPECT_EQ(b.row(2).key, "");
    EXPECT_EQ(b.row(2).after, "{\"x\":3}");
}

TEST(SnapshotBatch, UnterminatedOrKeylessSeparatorRowsAreErrors) {
    RowBatch b;
    EXPECT_THROW(b.add_rows("{\"id\":1}\t{}"), FrameError);
    b.add_rows("no separator\n");
    EXPECT_THROW(b.row(0), FrameError);
}

TEST(SnapshotBatch, MessageValueIsTheFullEnvelope) {
    ChunkTemplate t = ChunkTemplate::parse(kTemplate);
    std::string times = envelope_times(1700000000123456);
    EXPECT_EQ(times,
              ",\"ts_ms\":1700000000123,\"ts_us\":1700000000123456,\"ts_ns\":1700000000123456000}");
    RowBatch b;
    b.add_rows("{\"id\":1}\t{\"id\":1}\n");
    Message m = snapshot_message(t, b.row(0), t.tail, times, 7);
    std::string value;
    m.append_value(value);
    EXPECT_EQ(m.topic, "walcast.public.t");
    EXPECT_EQ(m.key, "{\"id\":1}");
    EXPECT_EQ(m.token, 7u);
    EXPECT_EQ(m.value_size(), value.size());
    EXPECT_EQ(value,
              "{\"before\":null,\"after\":{\"id\":1},\"source\":{\"snapshot\":\"true\","
              "\"lsn\":42},\"transaction\":null,\"op\":\"r\"" +
                  times);
}

TEST(SnapshotBatch, MarkerReplacesOnlyTheSnapshotField) {
    ChunkTemplate t = ChunkTemplate::parse(kTemplate);
    std::string marked = with_snapshot_marker(t.tail, "last_in_data_collection");
    EXPECT_EQ(marked,
              ",\"source\":{\"snapshot\":\"last_in_data_collection\",\"lsn\":42},"
              "\"transaction\":null,\"op\":\"r\"");
}

}  // namespace
}  // namespace walcast
