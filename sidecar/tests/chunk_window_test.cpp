// The DBLog window of one incremental-snapshot chunk: streamed changes between the
// watermarks drop keys, the rest goes out at the high watermark; also the control
// messages (watermarks, signals) and their W frames.
#include "incremental/chunk_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "incremental/control_message.h"
#include "stream/frame.h"

namespace walcast {
namespace {

const std::string kTopic = "p.public.t";

// A row as the reader reads it (compact layout: `<key>\t<after>`).
std::string row(int id) {
    return "{\"id\":" + std::to_string(id) + "}\t{\"id\":" + std::to_string(id) + "}";
}

std::string key(int id) { return "{\"id\":" + std::to_string(id) + "}"; }

std::vector<std::string> rows(std::initializer_list<int> ids) {
    std::vector<std::string> out;
    for (int id : ids) out.push_back(row(id));
    return out;
}

RowViews views(std::initializer_list<int> ids) { return RowViews(rows(ids)); }

std::vector<std::string> strings(const RowViews &v) {
    return std::vector<std::string>(v.rows.begin(), v.rows.end());
}

TEST(ChunkWindow, ChangesBetweenWatermarksDropKeys) {
    ChunkWindow w(kTopic);
    w.load(views({1, 2, 3, 4}));
    w.on_change(kTopic, key(2));  // before the low watermark: the read saw it
    w.open();
    w.on_change(kTopic, key(3));
    w.on_change("p.public.other", key(4));  // another table's key 4
    w.on_change(kTopic, key(99));           // not in the chunk
    EXPECT_EQ(w.rows_held(), 3u);
    EXPECT_EQ(strings(w.close()), rows({1, 2, 4}));
}

TEST(ChunkWindow, ChangesBeforeTheRowsArriveStillCount) {
    // The stream can pass the low watermark while the chunk is still being read.
    ChunkWindow w(kTopic);
    w.open();
    w.on_change(kTopic, key(1));
    w.on_change(kTopic, key(1));
    w.load(views({1, 2}));
    w.on_change(kTopic, key(2));
    EXPECT_TRUE(w.close().empty());
}

TEST(ChunkWindow, KeyChangeDropsBothKeys) {
    // An update of the key arrives as a delete of the old key and a create of the new.
    ChunkWindow w(kTopic);
    w.open();
    w.load(views({5, 6, 7}));
    w.on_change(kTopic, key(5));
    w.on_change(kTopic, key(7));
    EXPECT_EQ(strings(w.close()), rows({6}));
}

TEST(ChunkWindow, TruncateEmptiesTheChunk) {
    ChunkWindow loaded(kTopic);
    loaded.load(views({1, 2}));
    loaded.open();
    loaded.on_change(kTopic, "");
    EXPECT_TRUE(loaded.close().empty());

    ChunkWindow unloaded(kTopic);
    unloaded.open();
    unloaded.on_change(kTopic, "");
    unloaded.load(views({1, 2}));
    EXPECT_EQ(unloaded.rows_held(), 0u);
    EXPECT_TRUE(unloaded.close().empty());
}

TEST(ChunkWindow, NothingDroppedBeforeTheLowWatermark) {
    ChunkWindow w(kTopic);
    w.on_change(kTopic, key(1));
    w.load(views({1}));
    w.on_change(kTopic, key(1));
    EXPECT_EQ(strings(w.close()), rows({1}));
}

TEST(ChunkWindow, RowsStayInTheBufferTheyWereReadInto) {
    // A reader's rows are views into its query result, which the window keeps alive until
    // the rows it hands back are gone: no row is copied on the way.
    auto buffer = std::make_shared<const std::string>(row(1) + "\n" + row(2) + "\n" + row(3));
    std::vector<std::string_view> read;
    for (std::size_t start = 0; start <= buffer->size();) {
        std::size_t end = std::min(buffer->find('\n', start), buffer->size());
        read.emplace_back(buffer->data() + start, end - start);
        start = end + 1;
    }
    std::weak_ptr<const std::string> alive = buffer;
    ChunkWindow w(kTopic);
    w.open();
    w.load(RowViews(std::move(buffer), read));
    w.on_change(kTopic, key(2));
    RowViews out = w.close();
    EXPECT_EQ(strings(out), rows({1, 3}));
    EXPECT_EQ(out.rows[1].data(), read[2].data());
    EXPECT_FALSE(alive.expired());
    out = RowViews();
    EXPECT_TRUE(alive.expired());
}

TEST(ChunkWindow, CompactRowKey) {
    EXPECT_EQ(compact_row_key(row(42)), key(42));
    EXPECT_EQ(compact_row_key("\t{}"), "");
    EXPECT_EQ(compact_row_key("{\"id\":1}"), "{\"id\":1}");
}

TEST(ControlMessage, Watermarks) {
    ControlMessage low = parse_control_message(watermark_message(true, "ab-1"));
    EXPECT_EQ(low.kind, ControlMessage::Kind::kLowWatermark);
    EXPECT_EQ(low.chunk, "ab-1");
    ControlMessage high = parse_control_message(watermark_message(false, "ab-\"2"));
    EXPECT_EQ(high.kind, ControlMessage::Kind::kHighWatermark);
    EXPECT_EQ(high.chunk, "ab-\"2");
}

TEST(Frame, ControlFrame) {
    std::string data = "W\t22112088\t{\"watermark\":\"low\",\"chunk\":\"x-0\"}";
    Frame f = parse_frame(data);
    EXPECT_EQ(f.type, FrameType::kControl);
    EXPECT_EQ(f.end_lsn, 22112088u);
    EXPECT_EQ(f.value, "{\"watermark\":\"low\",\"chunk\":\"x-0\"}");
}

}  // namespace
}  // namespace walcast
