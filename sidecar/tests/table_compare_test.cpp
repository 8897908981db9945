// `walcast verify`'s bucketed comparison: spill files, the bucket count, and one topic
// compared with its source rows giving the same findings whatever the number of buckets.
#include "verify/table_compare.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "verify/spill_files.h"

namespace walcast {
namespace {

TEST(SpillFiles, RecordsComeBackPerBucketInOrder) {
    SpillFiles spill("", 300, 64);  // tiny buffers: many writes per bucket
    for (int i = 0; i < 3000; i++) spill.append(i % 300, "r" + std::to_string(i));
    spill.flush();
    std::vector<std::string> got;
    spill.read(7, [&](std::string_view r) { got.emplace_back(r); });
    ASSERT_EQ(got.size(), 10u);
    EXPECT_EQ(got.front(), "r7");
    EXPECT_EQ(got.back(), "r2707");
    spill.remove(7);
    got.clear();
    spill.read(7, [&](std::string_view r) { got.emplace_back(r); });
    EXPECT_TRUE(got.empty());
}

TEST(TableCompare, BucketsGrowWithTheTableAndShrinkWithTheBudget) {
    EXPECT_EQ(buckets_for(1000, 100, 256u << 20, 2), 1u);
    const auto small = buckets_for(10e6, 100, 256u << 20, 2);
    EXPECT_GT(small, 1u);
    EXPECT_GT(buckets_for(100e6, 100, 256u << 20, 2), small);
    EXPECT_GT(buckets_for(10e6, 100, 64u << 20, 2), small);
}

std::string event(const char *op, const std::string &after) {
    return std::string("{\"before\":null,\"after\":") + after + ",\"op\":\"" + op + "\"}";
}

struct Fixture {
    std::vector<std::pair<std::string, std::string>> source;  // key, after
    std::vector<std::pair<std::string, std::string>> topic;   // key, value ("" null)
    TopicComparison run(std::uint32_t buckets) {
        CompareSettings s;
        s.buckets = buckets;
        s.threads = 2;
        s.examples = 3;
        s.placeholder = "__debezium_unavailable_value";
        VerifyProgress progress(1 << 30);
        return compare_topic(
            "t", static_cast<double>(source.size()),
            [&](bool, const RowCallback &on_row) {
                for (const auto &[k, a] : source) on_row(k, a);
            },
            [&](const RecordCallback &on_record) {
                for (const auto &[k, v] : topic) on_record(k, v, v.empty(), RecordPosition{});
            },
            s, [](const DamagedRecord &) {}, progress);
    }
};

std::string row(int id, const std::string &v) {
    return "{\"id\":" + std::to_string(id) + ",\"v\":\"" + v + "\"}";
}
std::string key(int id) { return "{\"id\":" + std::to_string(id) + "}"; }

TEST(TableCompare, ManyBucketsFindWhatOneBucketFinds) {
    Fixture f;
    f.topic.emplace_back(key(999), event("c", row(999, "gone")));
    f.topic.emplace_back("", "{\"op\":\"t\"}");  // a truncate: what came before is gone
    for (int i = 1; i <= 500; i++) {
        f.source.emplace_back(key(i), row(i, "v" + std::to_string(i)));
        if (i != 7) f.topic.emplace_back(key(i), event("r", row(i, "v" + std::to_string(i))));
    }
    f.source.emplace_back(key(600), row(600, "long"));
    f.topic.emplace_back(key(600), event("c", row(600, "long")));
    // An unchanged TOASTed value keeps the previous one.
    f.topic.emplace_back(key(600), event("u", row(600, "__debezium_unavailable_value")));
    f.topic.emplace_back(key(8), event("u", row(8, "wrong")));
    f.topic.emplace_back(key(1000), event("c", row(1000, "extra")));
    f.topic.emplace_back(key(9), event("d", "null"));
    f.topic.emplace_back(key(9), "");

    const TopicComparison one = f.run(1), many = f.run(37);
    for (const TopicComparison *c : {&one, &many}) {
        EXPECT_EQ(c->missing, 2u);  // 7 never sent, 9 deleted
        EXPECT_EQ(c->extra, 1u);
        EXPECT_EQ(c->different, 1u);
        EXPECT_EQ(c->truncates, 1u);
        EXPECT_EQ(c->folded_keys, 500u);
        EXPECT_EQ(c->missing_examples, (std::vector<std::string>{key(7), key(9)}));
        EXPECT_EQ(c->extra_examples, (std::vector<std::string>{key(1000)}));
        ASSERT_EQ(c->different_examples.size(), 1u);
        EXPECT_EQ(c->different_examples[0], key(8) + ": v: source \"v8\", topic \"wrong\";");
    }
    EXPECT_EQ(one.source_sum, many.source_sum);
    EXPECT_EQ(one.topic_sum, many.topic_sum);
    EXPECT_EQ(many.buckets, 37u);
    EXPECT_LE(many.differing_buckets, 4u);
}

TEST(TableCompare, ACleanTableIsDecidedByItsSums) {
    Fixture f;
    for (int i = 1; i <= 300; i++) {
        f.source.emplace_back(key(i), row(i, "x"));
        f.topic.emplace_back(key(i), event("r", row(i, "x")));
    }
    const TopicComparison c = f.run(16);
    EXPECT_TRUE(c.ok());
    EXPECT_EQ(c.differing_buckets, 0u);
    EXPECT_EQ(c.source_sum, c.topic_sum);
}

}  // namespace
}  // namespace walcast

namespace walcast {
namespace {

// The progress line: count, estimate, rate, share and ETA (rate only when nothing is known).
TEST(VerifyProgress, LineShowsRateAndEta) {
    VerifyProgress p(1 << 30);
    p.phase("public.t: reading the source", "rows", 1000);
    p.add(500);
    EXPECT_EQ(p.line(2.0),
              "public.t: reading the source: 500 of ~1.0k rows, 250/s, 50%, ETA 0:00:02");
    p.phase("public.t: reading the topic", "records", -1);
    p.add(300);
    EXPECT_EQ(p.line(1.0), "public.t: reading the topic: 300 records, 300/s");
    p.finish();
}

}  // namespace
}  // namespace walcast
