// Folding a change topic into table state, as `walcast verify` does.
#include "verify/topic_fold.h"

#include <gtest/gtest.h>

namespace walcast {
namespace {

std::string event(const char *op, const char *after) {
    return std::string("{\"before\":null,\"after\":") + after + ",\"op\":\"" + op + "\"}";
}

TEST(TopicFold, LastValuePerKeyDeletesAndTombstonesRemove) {
    TopicFold f("__debezium_unavailable_value");
    f.apply("{\"id\":1}", event("r", "{\"id\":1,\"v\":\"a\"}"), false);
    f.apply("{\"id\":2}", event("r", "{\"id\":2,\"v\":\"b\"}"), false);
    f.apply("{\"id\":1}", event("u", "{\"id\":1,\"v\":\"c\"}"), false);
    f.apply("{\"id\":2}", "{\"before\":{\"id\":2},\"after\":null,\"op\":\"d\"}", false);
    f.apply("{\"id\":2}", "", true);
    ASSERT_EQ(f.rows().size(), 1u);
    EXPECT_EQ(f.rows().at("{\"id\":1}").at("v"), "\"c\"");
    EXPECT_EQ(f.records(), 5u);
    EXPECT_EQ(f.net_rows(), 1);
}

TEST(TopicFold, PlaceholderKeepsThePreviousValue) {
    TopicFold f("__debezium_unavailable_value");
    f.apply("{\"id\":1}", event("c", "{\"id\":1,\"t\":\"long\"}"), false);
    f.apply("{\"id\":1}", event("u", "{\"id\":1,\"t\":\"__debezium_unavailable_value\"}"), false);
    EXPECT_EQ(f.rows().at("{\"id\":1}").at("t"), "\"long\"");
}

// Keyless tables fold onto one null key; their row count comes from the events.
TEST(TopicFold, NetRowsOfAKeylessTopic) {
    TopicFold f("__debezium_unavailable_value");
    for (int i = 0; i < 5; i++) f.apply("", event("r", "{\"a\":1}"), false);
    f.apply("", event("c", "{\"a\":2}"), false);
    f.apply("", event("u", "{\"a\":3}"), false);
    f.apply("", "{\"before\":{\"a\":3},\"after\":null,\"op\":\"d\"}", false);
    EXPECT_TRUE(f.rows().empty()) << "the delete removed the one null key";
    EXPECT_EQ(f.net_rows(), 5);
    f.apply("", "{\"before\":null,\"after\":null,\"op\":\"t\"}", false);
    EXPECT_EQ(f.net_rows(), 0);
    EXPECT_TRUE(f.rows().empty());
}

// A record that is not JSON is a finding for the caller, not the end of the fold.
TEST(TopicFold, InvalidRecordIsRejectedAndTheFoldGoesOn) {
    TopicFold f("__debezium_unavailable_value");
    std::string why;
    EXPECT_FALSE(f.apply("{\"id\":1}", "{\"op\":\"c\",\"after\":{\"id\":", false, &why));
    EXPECT_EQ(why, "value is not valid JSON");
    EXPECT_FALSE(f.apply("{\"id\":", "", true, &why));
    EXPECT_EQ(why, "key is not valid JSON");
    EXPECT_TRUE(f.apply("{\"id\":2}", event("c", "{\"id\":2}"), false));
    EXPECT_EQ(f.damaged(), 2u);
    EXPECT_EQ(f.records(), 1u);
    EXPECT_EQ(f.rows().size(), 1u);
}

}  // namespace
}  // namespace walcast
