// Parity of walcast's murmur2 / partitioner with the Kafka Java client.
#include "sink/murmur2.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>

namespace walcast {
namespace {

// From Apache Kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
// (testMurmur2).
TEST(Murmur2, JavaUtilsTestVectors) {
    EXPECT_EQ(murmur2("21"), -973932308);
    EXPECT_EQ(murmur2("foobar"), -790332482);
    EXPECT_EQ(murmur2("a-little-bit-long-string"), -985981536);
    EXPECT_EQ(murmur2("a-little-bit-longer-string"), -1486304829);
    EXPECT_EQ(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
    EXPECT_EQ(murmur2("abc"), 479470107);
}

struct JavaCase {
    std::string key;  // UTF-8 bytes, as Java's String.getBytes(UTF_8)
    std::int32_t hash;
    std::int32_t p3, p6, p12;  // toPositive(hash) % 3, % 6, % 12
};

// Produced by a small Java 17 program against kafka-clients 3.7.0 (Maven Central):
//   Utils.murmur2(key.getBytes(UTF_8)) and Utils.toPositive(h) % n for n in {3, 6, 12}.
// Covers every tail length (0-3), keys shaped like walcast's JSON keys and non-ASCII UTF-8.
const JavaCase kJavaCases[] = {
    {"", 275646681, 0, 3, 9},
    {"a", -1563381124, 1, 4, 4},
    {"ab", 316155434, 2, 2, 2},
    {"abc", 479470107, 0, 3, 3},
    {"abcd", -1323649548, 2, 2, 8},
    {"21", -973932308, 0, 0, 0},
    {"foobar", -790332482, 0, 0, 6},
    {R"({"id":1})", -56768732, 0, 0, 0},
    {R"({"id":2})", -1705675864, 1, 4, 4},
    {R"({"id":42})", 486015037, 1, 1, 1},
    {R"({"id":1000000})", -14095689, 2, 5, 11},
    {R"({"tenant":"acme","id":7})", 304744278, 0, 0, 6},
    {"{\"name\":\"Zo\xc3\xab \xe2\x98\x83\"}", -1675886963, 0, 3, 9},
};

TEST(Murmur2, MatchesJavaClientHashAndPartition) {
    for (const auto &c : kJavaCases) {
        SCOPED_TRACE(c.key);
        EXPECT_EQ(murmur2(c.key), c.hash);
        EXPECT_EQ(java_partition(c.key, 3), c.p3);
        EXPECT_EQ(java_partition(c.key, 6), c.p6);
        EXPECT_EQ(java_partition(c.key, 12), c.p12);
    }
}

TEST(Murmur2, AllByteValues) {
    // Same Java program: bytes 0..255 in order (high bytes are negative in Java).
    std::string bin;
    for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
    EXPECT_EQ(murmur2(bin), -1948347274);
}

TEST(Murmur2, ToPositiveClearsSignBitOnly) {
    EXPECT_EQ(to_positive(-1), 0x7fffffff);
    EXPECT_EQ(to_positive(INT32_MIN), 0);
    EXPECT_EQ(to_positive(5), 5);
}

// The Kafka sink relies on librdkafka's "murmur2_random" partitioner; it must
// agree with ours (and therefore with Java) for keyed messages.
TEST(Murmur2, LibrdkafkaPartitionerAgrees) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err), &rd_kafka_destroy);
    ASSERT_TRUE(rk) << err;
    std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> rkt(
        rd_kafka_topic_new(rk.get(), "t", nullptr), &rd_kafka_topic_destroy);
    ASSERT_TRUE(rkt);
    for (const auto &c : kJavaCases) {
        if (c.key.empty()) continue;  // empty key is "null key" for murmur2_random
        for (int n : {3, 6, 12}) {
            EXPECT_EQ(rd_kafka_msg_partitioner_murmur2(rkt.get(), c.key.data(), c.key.size(), n,
                                                       nullptr, nullptr),
                      java_partition(c.key, n))
                << c.key << " n=" << n;
        }
    }
}

}  // namespace
}  // namespace walcast
