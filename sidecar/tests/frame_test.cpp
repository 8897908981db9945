// The frame reader: docs/framing.md layouts, views into the input, and clear
// errors for malformed frames.
#include "stream/frame.h"

#include <gtest/gtest.h>

#include "pg/lsn.h"

namespace walcast {
namespace {

TEST(Frame, Begin) {
    std::string data = "B\t731\t22112088\t22112136\t";
    Frame f = parse_frame(data);
    EXPECT_EQ(f.type, FrameType::kBegin);
    EXPECT_EQ(f.xid, 731u);
    EXPECT_EQ(f.commit_lsn, 22112088u);
    EXPECT_EQ(f.end_lsn, 22112136u);
    EXPECT_TRUE(f.metadata.empty());
}

TEST(Frame, BeginWithMetadataAndMaxLsn) {
    std::string data = "B\t0\t18446744073709551615\t18446744073709551615\t{\"status\":\"BEGIN\"}";
    Frame f = parse_frame(data);
    EXPECT_EQ(f.end_lsn, 18446744073709551615u);
    EXPECT_EQ(f.metadata, "{\"status\":\"BEGIN\"}");
}

TEST(Frame, EventViewsPointIntoInput) {
    std::string data = "E\tc\twalcast.public.t\t{\"id\":1}\t{\"before\":null,\"a\":\"x\\ty\"}";
    Frame f = parse_frame(data);
    EXPECT_EQ(f.type, FrameType::kEvent);
    EXPECT_EQ(f.op, 'c');
    EXPECT_EQ(f.topic, "walcast.public.t");
    EXPECT_EQ(f.key, "{\"id\":1}");
    EXPECT_EQ(f.value, "{\"before\":null,\"a\":\"x\\ty\"}");
    EXPECT_GE(f.value.data(), data.data());
    EXPECT_LT(f.value.data(), data.data() + data.size()) << "no copy";
}

TEST(Frame, EventWithNullKeyAndTabInValue) {
    // The value is the rest of the frame, even if it contained a raw tab.
    Frame f = parse_frame("E\tt\twalcast.public.t\t\t{\"op\":\"t\"}\textra");
    EXPECT_EQ(f.op, 't');
    EXPECT_TRUE(f.key.empty());
    EXPECT_EQ(f.value, "{\"op\":\"t\"}\textra");
}

TEST(Frame, Commit) {
    Frame f = parse_frame("C\t22112136\t");
    EXPECT_EQ(f.type, FrameType::kCommit);
    EXPECT_EQ(f.end_lsn, 22112136u);
    EXPECT_TRUE(f.metadata.empty());
    Frame g = parse_frame("C\t5\t{\"status\":\"END\"}");
    EXPECT_EQ(g.metadata, "{\"status\":\"END\"}");
}

void expect_error(const std::string &data, const std::string &fragment) {
    try {
        parse_frame(data);
        ADD_FAILURE() << "no error for: " << data;
    } catch (const FrameError &e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
            << e.what() << " (wanted '" << fragment << "')";
    }
}

TEST(Frame, Malformed) {
    expect_error("", "no frame type");
    expect_error("B", "no frame type");
    expect_error("Bx", "no frame type");
    expect_error("X\t1", "unknown frame type 'X'");
    expect_error("B\t1\t2", "missing field");
    expect_error("B\tabc\t2\t3\t", "bad xid");
    expect_error("B\t1\t-2\t3\t", "bad commit_lsn");
    expect_error("B\t1\t2\t99999999999999999999\t", "bad end_lsn");
    expect_error("B\t1\t2\t3", "missing field");
    expect_error("E\tc\twalcast.public.t", "missing field");
    expect_error("E\tx\tt\t\t{}", "unknown op 'x'");
    expect_error("E\tcu\tt\t\t{}", "unknown op");
    expect_error("E\tc\t\t\t{}", "empty topic");
    expect_error("E\tc\tt\t{}\t", "empty value");
    expect_error("C\t\t", "bad end_lsn");
    expect_error("C\t12", "missing field");
}

TEST(Frame, ErrorQuotesTheFrame) {
    try {
        parse_frame("E\tz\tsome.topic\t\t{}");
        FAIL();
    } catch (const FrameError &e) {
        EXPECT_NE(std::string(e.what()).find("E z some.topic"), std::string::npos) << e.what();
    }
}

TEST(Lsn, FormatAndParse) {
    EXPECT_EQ(format_lsn(0), "0/0");
    EXPECT_EQ(format_lsn(0x16B374D848ULL), "16/B374D848");
    EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848ULL);
    EXPECT_EQ(parse_lsn("0/1516570"), 0x1516570ULL);
    EXPECT_FALSE(parse_lsn("16B374D848").has_value());
    EXPECT_FALSE(parse_lsn("/1").has_value());
    EXPECT_FALSE(parse_lsn("1/123456789").has_value());
    EXPECT_FALSE(parse_lsn("g/1").has_value());
}

}  // namespace
}  // namespace walcast
