// Reading the file sink's lines back for `walcast verify`: damaged lines are reported
// with where they are, and the reading goes on.
#include "verify/topic_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <vector>

namespace walcast {
namespace {

struct Read {
    std::vector<std::string> keys;
    std::vector<DamagedRecord> damaged;
};

Read read_back(const std::string &content, const std::string &topic) {
    std::string path = ::testing::TempDir() + "topic_reader.jsonl";
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f << content;
    }
    Read out;
    read_file_topic(
        path, topic,
        [&](std::string_view key, std::string_view, bool, const RecordPosition &) {
            out.keys.emplace_back(key);
        },
        [&](const DamagedRecord &d) { out.damaged.push_back(d); });
    ::unlink(path.c_str());
    return out;
}

const std::string kA1 = "{\"topic\":\"a\",\"key\":{\"id\":1},\"value\":{\"op\":\"c\"}}\n";
const std::string kA2 = "{\"topic\":\"a\",\"key\":{\"id\":2},\"value\":null}\n";
const std::string kB = "{\"topic\":\"b\",\"key\":null,\"value\":{}}\n";

TEST(TopicReader, GarbageLineIsReportedAndReadingGoesOn) {
    const std::string garbage = "{\"topic\":\"a\",\"key\":{\"id\":9},\"val\x01ue\n";
    Read r = read_back(kA1 + kB + garbage + kA2, "a");
    EXPECT_EQ(r.keys, (std::vector<std::string>{"{\"id\":1}", "{\"id\":2}"}));
    ASSERT_EQ(r.damaged.size(), 1u);
    const DamagedRecord &d = r.damaged[0];
    EXPECT_EQ(d.position.line, 3u);
    EXPECT_EQ(d.position.offset, kA1.size() + kB.size());
    EXPECT_EQ(d.reason, "not valid JSON");
    EXPECT_EQ(d.excerpt, "{\"topic\":\"a\",\"key\":{\"id\":9},\"val\\x01ue");
    EXPECT_NE(d.position.describe().find("line 3 (byte "), std::string::npos)
        << d.position.describe();
}

TEST(TopicReader, TornLastLineIsReported) {
    Read r = read_back(kA1 + "{\"topic\":\"a\",\"ke", "a");
    EXPECT_EQ(r.keys.size(), 1u);
    ASSERT_EQ(r.damaged.size(), 1u);
    EXPECT_EQ(r.damaged[0].position.line, 2u);
    EXPECT_NE(r.damaged[0].reason.find("incomplete last line"), std::string::npos);
}

TEST(TopicReader, JsonThatIsNotASinkRecordIsReported) {
    Read r = read_back("{\"hello\":1}\n" + kA1, "a");
    EXPECT_EQ(r.keys.size(), 1u);
    ASSERT_EQ(r.damaged.size(), 1u);
    EXPECT_EQ(r.damaged[0].position.line, 1u);
}

// The key and value are handed on as the line's own JSON text (verify parses them once):
// a scalar key, a null key, nested values; bytes after the record make the line damaged.
TEST(TopicReader, RawKeysAndValuesAndTrailingBytes) {
    std::vector<std::string> values;
    const std::string path = ::testing::TempDir() + "walcast_topic_reader_raw.jsonl";
    {
        std::ofstream f(path, std::ios::binary);
        f << "{\"topic\":\"a\",\"key\":7,\"value\":{\"op\":\"c\",\"after\":[1, 2]}}\n"
          << "{\"value\":\"x\",\"key\":null,\"topic\":\"a\"}\n"
          << "{\"topic\":\"a\",\"key\":1,\"value\":2} junk\n";
    }
    std::vector<DamagedRecord> damaged;
    std::vector<std::string> keys;
    read_file_topic(
        path, "a",
        [&](std::string_view key, std::string_view value, bool, const RecordPosition &) {
            keys.emplace_back(key);
            values.emplace_back(value);
        },
        [&](const DamagedRecord &d) { damaged.push_back(d); });
    ::unlink(path.c_str());
    EXPECT_EQ(keys, (std::vector<std::string>{"7", ""}));
    EXPECT_EQ(values, (std::vector<std::string>{"{\"op\":\"c\",\"after\":[1, 2]}", "\"x\""}));
    ASSERT_EQ(damaged.size(), 1u);
    EXPECT_EQ(damaged[0].position.line, 3u);
    EXPECT_EQ(damaged[0].reason, "not valid JSON");
}

TEST(TopicReader, LongExcerptIsCut) {
    EXPECT_EQ(printable_excerpt(std::string(200, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace walcast

// The plugin's topic naming, as Debezium's sanitizedTopicName: one '_' per UTF-16 code
// unit, the whole name capped at 249.
TEST(DataTopic, MapsPerUtf16CodeUnit) {
    EXPECT_EQ(walcast::data_topic("p", "My Schema", "T\xC3\xA4 ble"), "p.My_Schema.T__ble");
    // U+1F600 (4 UTF-8 bytes) is a surrogate pair in Java: two '_'.
    EXPECT_EQ(walcast::data_topic("p", "s", "a\xF0\x9F\x98\x80z"), "p.s.a__z");
}

TEST(DataTopic, CapsTheWholeNameAt249) {
    std::string table(300, 't');
    EXPECT_EQ(walcast::data_topic("p", "s", table), "p.s." + std::string(245, 't'));
    std::string emoji;
    for (int i = 0; i < 200; i++) emoji += "\xF0\x9F\x98\x80";
    EXPECT_EQ(walcast::data_topic("p", "s", emoji), "p.s." + std::string(245, '_'));
}
