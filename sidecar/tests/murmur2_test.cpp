// Parity of the partition walcast's Kafka sink picks for a key with the Kafka Java
// client's default partitioner: the sink uses librdkafka's murmur2_random partitioner,
// checked here against values computed by the Java client.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>

#include "sink/kafka_sink.h"

namespace walcast {
namespace {

struct JavaCase {
    std::string key;  // UTF-8 bytes, as Java's String.getBytes(UTF_8)
    std::int32_t hash;
    std::int32_t p3, p6, p12;  // toPositive(hash) % 3, % 6, % 12
};

// Produced by a small Java 17 program against kafka-clients 3.7.0 (Maven Central):
//   Utils.murmur2(key.getBytes(UTF_8)) and Utils.toPositive(h) % n for n in {3, 6, 12}.
// Covers every tail length (0-3), keys shaped like walcast's JSON keys and non-ASCII UTF-8;
// "21" .. "abc" are also the vectors of Kafka's own UtilsTest.testMurmur2.
const JavaCase kJavaCases[] = {
    {"", 275646681, 0, 3, 9},
    {"a", -1563381124, 1, 4, 4},
    {"ab", 316155434, 2, 2, 2},
    {"abc", 479470107, 0, 3, 3},
    {"abcd", -1323649548, 2, 2, 8},
    {"21", -973932308, 0, 0, 0},
    {"foobar", -790332482, 0, 0, 6},
    {"a-little-bit-long-string", -985981536, -1, -1, -1},
    {"a-little-bit-longer-string", -1486304829, -1, -1, -1},
    {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, -1, -1, -1},
    {R"({"id":1})", -56768732, 0, 0, 0},
    {R"({"id":2})", -1705675864, 1, 4, 4},
    {R"({"id":42})", 486015037, 1, 1, 1},
    {R"({"id":1000000})", -14095689, 2, 5, 11},
    {R"({"tenant":"acme","id":7})", 304744278, 0, 0, 6},
    {"{\"name\":\"Zo\xc3\xab \xe2\x98\x83\"}", -1675886963, 0, 3, 9},
};

// Utils.toPositive: clears the sign bit (not abs(), which overflows on INT_MIN).
std::int32_t to_positive(std::int32_t n) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(n) & 0x7fffffffu);
}

// A producer and a topic handle, which the partitioner function needs (no broker).
class KafkaPartitioner : public ::testing::Test {
protected:
    void SetUp() override {
        char err[256];
        rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err));
        ASSERT_TRUE(rk_) << err;
        rkt_.reset(rd_kafka_topic_new(rk_.get(), "t", nullptr));
        ASSERT_TRUE(rkt_);
    }
    void TearDown() override {
        rkt_.reset();  // before the producer
        rk_.reset();
    }
    // What the sink's partitioner gives a key (nullptr: a null key) with n partitions.
    std::int32_t partition(const char *key, std::size_t len, std::int32_t n) const {
        return rd_kafka_msg_partitioner_murmur2_random(rkt_.get(), key, len, n, nullptr, nullptr);
    }

    std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk_{nullptr, &rd_kafka_destroy};
    std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> rkt_{
        nullptr, &rd_kafka_topic_destroy};
};

TEST_F(KafkaPartitioner, TheSinkUsesMurmur2Random) {
    EXPECT_EQ(kafka_default_props().at("partitioner"), "murmur2_random");
}

TEST_F(KafkaPartitioner, MatchesTheJavaClientForEveryKey) {
    constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
    for (const auto &c : kJavaCases) {
        SCOPED_TRACE(c.key);
        // With 2^31-1 partitions the partition is toPositive(hash) itself (no vector
        // hashes to exactly 2^31-1): 31 of the hash's 32 bits are compared.
        EXPECT_EQ(partition(c.key.data(), c.key.size(), kMax), to_positive(c.hash));
        if (c.p3 < 0) continue;  // hash-only vector
        EXPECT_EQ(partition(c.key.data(), c.key.size(), 3), c.p3);
        EXPECT_EQ(partition(c.key.data(), c.key.size(), 6), c.p6);
        EXPECT_EQ(partition(c.key.data(), c.key.size(), 12), c.p12);
    }
}

TEST_F(KafkaPartitioner, AllByteValues) {
    // Same Java program: bytes 0..255 in order (high bytes are negative in Java).
    std::string bin;
    for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
    EXPECT_EQ(partition(bin.data(), bin.size(), std::numeric_limits<std::int32_t>::max()),
              to_positive(-1948347274));
}

// A null key (truncate, tables without a key) is not hashed: walcast sends it as a
// null key, which librdkafka spreads over the partitions (sticky per batch in the
// producer, like the Java client's default), never a fixed partition.
TEST_F(KafkaPartitioner, NullKeyIsNotHashed) {
    std::set<std::int32_t> seen;
    for (int i = 0; i < 200; ++i) {
        const std::int32_t p = partition(nullptr, 0, 12);
        ASSERT_GE(p, 0);
        ASSERT_LT(p, 12);
        seen.insert(p);
    }
    EXPECT_GT(seen.size(), 1u) << "null keys must not all land on one partition";
}

}  // namespace
}  // namespace walcast
