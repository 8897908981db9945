// The Debezium routing rules: what each kind of frame becomes.
#include <gtest/gtest.h>

#include "stream/event_router.h"
#include "test_frames.h"

namespace walcast {
namespace {

RouterOptions options(bool tombstones, bool transaction_metadata) {
    return RouterOptions{"shop", tombstones, transaction_metadata};
}

EventRouter router(bool tombstones = true, bool transaction_metadata = false) {
    return EventRouter(options(tombstones, transaction_metadata), [] { return 1234; });
}

using test_frames::event;

Frame boundary(FrameType type, std::string_view metadata) {
    Frame f;
    f.type = type;
    f.metadata = metadata;
    return f;
}

TEST(EventRouter, ChangeEventKeepsItsTopicKeyAndValue) {
    auto r = router();
    Routes routes = r.route_event(event('u', "shop.public.orders", "{\"id\":1}", "{\"op\":\"u\"}"));
    ASSERT_EQ(routes.count, 1);
    const RoutedMessage &m = routes.message[0];
    EXPECT_EQ(m.topic, "shop.public.orders");
    EXPECT_EQ(m.message_key(), "{\"id\":1}");
    EXPECT_EQ(m.message_value(), "{\"op\":\"u\"}");
    EXPECT_FALSE(m.tombstone);
    EXPECT_EQ(m.op, 'u');
}

TEST(EventRouter, DeleteIsFollowedByATombstoneWithTheSameKey) {
    auto r = router(true);
    Routes routes = r.route_event(event('d', "shop.public.orders", "{\"id\":1}", "{\"op\":\"d\"}"));
    ASSERT_EQ(routes.count, 2);
    EXPECT_FALSE(routes.message[0].tombstone);
    EXPECT_EQ(routes.message[0].message_value(), "{\"op\":\"d\"}");
    const RoutedMessage &t = routes.message[1];
    EXPECT_TRUE(t.tombstone);
    EXPECT_EQ(t.topic, "shop.public.orders");
    EXPECT_EQ(t.message_key(), "{\"id\":1}");
    EXPECT_EQ(t.op, 'd');
}

TEST(EventRouter, NoTombstoneWhenTombstonesOnDeleteIsOff) {
    auto r = router(false);
    Routes routes = r.route_event(event('d', "shop.public.orders", "{\"id\":1}", "{}"));
    EXPECT_EQ(routes.count, 1);
    EXPECT_FALSE(routes.message[0].tombstone);
}

TEST(EventRouter, NoTombstoneForAKeylessDelete) {
    // A tombstone without a key compacts nothing.
    auto r = router(true);
    Routes routes = r.route_event(event('d', "shop.public.logs", "", "{}"));
    EXPECT_EQ(routes.count, 1);
}

TEST(EventRouter, HeartbeatMessageBecomesDebeziumHeartbeatRecord) {
    auto r = router();
    Routes routes = r.route_event(
        event('m', "shop.message", "{\"prefix\":\"walcast.heartbeat\"}", "{\"op\":\"m\"}"));
    ASSERT_EQ(routes.count, 1);
    const RoutedMessage &m = routes.message[0];
    EXPECT_EQ(m.topic, "__debezium-heartbeat.shop");
    EXPECT_EQ(r.heartbeat_topic(), "__debezium-heartbeat.shop");
    EXPECT_EQ(m.message_key(), "{\"serverName\":\"shop\"}");
    EXPECT_EQ(m.message_value(), "{\"ts_ms\":1234}");
    EXPECT_EQ(m.op, 'm');
}

TEST(EventRouter, HeartbeatServerNameIsEscaped) {
    EventRouter r(RouterOptions{"a\"b", true, false}, [] { return 1; });
    Routes routes =
        r.route_event(event('m', "a\"b.message", "{\"prefix\":\"walcast.heartbeat\"}", "{}"));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].message_key(), "{\"serverName\":\"a\\\"b\"}");
}

TEST(EventRouter, OtherLogicalMessagesStayOnTheMessageTopic) {
    auto r = router();
    // Another prefix that merely contains the heartbeat prefix in its text.
    Routes routes = r.route_event(
        event('m', "shop.message", "{\"prefix\":\"app\",\"note\":\"walcast.heartbeat\"}", "{}"));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].topic, "shop.message");
    EXPECT_TRUE(routes.message[0].owned_value.empty());
    // The heartbeat prefix on a message routed to another topic is not a heartbeat.
    routes = r.route_event(event('m', "other.message", "{\"prefix\":\"walcast.heartbeat\"}", "{}"));
    EXPECT_EQ(routes.message[0].topic, "other.message");
    // A row change is never a heartbeat, whatever its key says.
    routes = r.route_event(event('c', "shop.message", "{\"prefix\":\"walcast.heartbeat\"}", "{}"));
    EXPECT_EQ(routes.message[0].topic, "shop.message");
}

TEST(EventRouter, TransactionRecordsWhenMetadataIsOn) {
    auto r = router(true, true);
    const std::string begin = "{\"status\":\"BEGIN\",\"id\":\"771:24023128\"}";
    Routes routes = r.route_boundary(boundary(FrameType::kBegin, begin));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].topic, "shop.transaction");
    EXPECT_EQ(routes.message[0].message_key(), "{\"id\":\"771:24023128\"}");
    EXPECT_EQ(routes.message[0].message_value(), begin);
    EXPECT_EQ(routes.message[0].op, 0);  // not counted as a change event

    const std::string end = "{\"status\":\"END\",\"id\":\"771:24023128\",\"event_count\":2}";
    routes = r.route_boundary(boundary(FrameType::kCommit, end));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].message_key(), "{\"id\":\"771:24023128\"}");
    EXPECT_EQ(routes.message[0].message_value(), end);
}

TEST(EventRouter, TransactionRecordsSkippedWhenMetadataIsOffOrAbsent) {
    auto off = router(true, false);
    EXPECT_EQ(off.route_boundary(boundary(FrameType::kBegin, "{\"id\":\"1:2\"}")).count, 0);
    auto on = router(true, true);
    EXPECT_EQ(on.route_boundary(boundary(FrameType::kCommit, "")).count, 0);
}

TEST(EventRouter, TransactionKeyOfARecordWithoutIdIsEmptyString) {
    auto r = router(true, true);
    Routes routes = r.route_boundary(boundary(FrameType::kBegin, "not json"));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].message_key(), "{\"id\":\"\"}");
}

TEST(JsonFieldReader, ReusedParserReadsSuccessiveDocuments) {
    JsonFieldReader reader;
    EXPECT_EQ(reader.string_field("{\"id\":\"a\"}", "id"), "a");
    // A longer document after a shorter one, then a shorter one again.
    std::string longer = "{\"pad\":\"" + std::string(5000, 'x') + "\",\"id\":\"b\"}";
    EXPECT_EQ(reader.string_field(longer, "id"), "b");
    EXPECT_EQ(reader.string_field("{\"id\":\"c\"}", "id"), "c");
    EXPECT_EQ(reader.string_field("{\"id\":3}", "id"), "");
    EXPECT_EQ(reader.string_field("{\"other\":\"x\"}", "id"), "");
    EXPECT_EQ(reader.string_field("[1,2", "id"), "");
    EXPECT_EQ(reader.string_field("{\"id\":\"a\\\"b\"}", "id"), "a\"b");
}

TEST(JsonText, AppendJsonStringEscapes) {
    std::string out;
    append_json_string(out, std::string("a\"b\\c\n\t\r\x01", 9));
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\"");
}

}  // namespace
}  // namespace walcast

namespace walcast {
namespace {

// Incremental snapshot rows go out with the schemas of their own read (an R frame the
// reader fetched), leaving the schemas the stream announced for the topic alone.
TEST(EventRouter, RowsRoutedWithTheirOwnSchemas) {
    RouterOptions o{"shop", true, false, true, true};
    EventRouter r(o, [] { return 1; });
    std::string schema_text = "R\tshop.public.t\t{\"k\":1}\t{\"v\":1}";
    Frame schema = parse_frame(schema_text);
    std::string row_text = "E\tr\tshop.public.t\t{\"id\":1}\t{\"op\":\"r\"}";
    Frame row = parse_frame(row_text);
    Routes out = r.route_event_with(row, r.schemas_from(schema));
    ASSERT_EQ(out.count, 1);
    EXPECT_EQ(out.message[0].message_key(), "{\"schema\":{\"k\":1},\"payload\":{\"id\":1}}");
    EXPECT_EQ(out.message[0].full_value(), "{\"schema\":{\"v\":1},\"payload\":{\"op\":\"r\"}}");
    // The stream's own schemas for the topic were not set by it.
    EXPECT_THROW(r.route_event(row), FrameError);
}

}  // namespace
}  // namespace walcast
