// Schema-ful JSON (key/value.converter.schemas.enable): R frames, the router wrapping
// keys and values of data, message, heartbeat and transaction records, snapshot
// templates with schemas, verify unwrapping payloads, and the plugin option.
#include <gtest/gtest.h>

#include "common/connect_schemas.h"
#include "common/frame_error.h"
#include "config/config.h"
#include "snapshot/snapshot_batch.h"
#include "stream/event_router.h"
#include "test_frames.h"
#include "stream/frame.h"
#include "verify/topic_fold.h"

namespace walcast {
namespace {

const char kKeySchema[] =
    R"({"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],)"
    R"("optional":false,"name":"shop.public.t.Key"})";
const char kValueSchema[] = R"({"type":"struct","fields":[],"optional":false,"name":"E"})";

Frame schema_frame(std::string_view topic, std::string_view key, std::string_view value) {
    Frame f;
    f.type = FrameType::kSchema;
    f.topic = topic;
    f.key = key;
    f.value = value;
    return f;
}

using test_frames::event;

EventRouter router(bool keys, bool values, bool metadata = false) {
    return EventRouter(RouterOptions{"shop", true, metadata, keys, values}, [] { return 1234; });
}

TEST(Schemas, SchemaFrameCarriesTopicAndBothSchemas) {
    std::string data = std::string("R\tshop.public.t\t") + kKeySchema + "\t" + kValueSchema;
    Frame f = parse_frame(data);
    EXPECT_EQ(f.type, FrameType::kSchema);
    EXPECT_EQ(f.topic, "shop.public.t");
    EXPECT_EQ(f.key, kKeySchema);
    EXPECT_EQ(f.value, kValueSchema);
    // A keyless table: empty key schema.
    f = parse_frame(std::string("R\tshop.public.k\t\t") + kValueSchema);
    EXPECT_TRUE(f.key.empty());
    EXPECT_THROW(parse_frame("R\tshop.public.t\t{}\t"), FrameError);
    EXPECT_THROW(parse_frame("R\t\t{}\t{}"), FrameError);
}

TEST(Schemas, EventKeyAndValueAreWrappedWithTheTopicsSchemas) {
    auto r = router(true, true);
    r.set_schemas(schema_frame("shop.public.t", kKeySchema, kValueSchema));
    Routes routes = r.route_event(event('c', "shop.public.t", "{\"id\":1}", "{\"op\":\"c\"}"));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].message_key(),
              std::string("{\"schema\":") + kKeySchema + ",\"payload\":{\"id\":1}}");
    EXPECT_EQ(routes.message[0].full_value(),
              std::string("{\"schema\":") + kValueSchema + ",\"payload\":{\"op\":\"c\"}}");
    // The payload itself is not copied: the frame's bytes follow the shared head.
    EXPECT_EQ(routes.message[0].message_value(), "{\"op\":\"c\"}");
}

TEST(Schemas, OnlyTheEnabledSideIsWrapped) {
    auto values_only = router(false, true);
    values_only.set_schemas(schema_frame("shop.public.t", kKeySchema, kValueSchema));
    Routes routes =
        values_only.route_event(event('c', "shop.public.t", "{\"id\":1}", "{\"op\":\"c\"}"));
    EXPECT_EQ(routes.message[0].message_key(), "{\"id\":1}");
    EXPECT_NE(routes.message[0].full_value().find("\"payload\":{\"op\":\"c\"}}"),
              std::string::npos);

    auto keys_only = router(true, false);
    keys_only.set_schemas(schema_frame("shop.public.t", kKeySchema, kValueSchema));
    routes = keys_only.route_event(event('c', "shop.public.t", "{\"id\":1}", "{\"op\":\"c\"}"));
    EXPECT_EQ(routes.message[0].full_value(), "{\"op\":\"c\"}");
    EXPECT_EQ(routes.message[0].message_key().substr(0, 10), "{\"schema\":");
}

TEST(Schemas, TombstoneKeepsTheWrappedKeyAndANullValue) {
    auto r = router(true, true);
    r.set_schemas(schema_frame("shop.public.t", kKeySchema, kValueSchema));
    Routes routes = r.route_event(event('d', "shop.public.t", "{\"id\":1}", "{\"op\":\"d\"}"));
    ASSERT_EQ(routes.count, 2);
    const RoutedMessage &t = routes.message[1];
    EXPECT_TRUE(t.tombstone);
    EXPECT_EQ(t.message_key(), routes.message[0].message_key());
    EXPECT_EQ(t.message_key().substr(0, 10), "{\"schema\":");
    EXPECT_FALSE(t.value_head) << "a tombstone's value stays null";
}

TEST(Schemas, KeylessEventsKeepANullKey) {
    auto r = router(true, true);
    r.set_schemas(schema_frame("shop.public.k", "", kValueSchema));
    Routes routes = r.route_event(event('c', "shop.public.k", "", "{\"op\":\"c\"}"));
    EXPECT_TRUE(routes.message[0].message_key().empty());
    EXPECT_TRUE(routes.message[0].value_head);
}

TEST(Schemas, ANewSchemaFrameReplacesTheTopicsSchemas) {
    auto r = router(false, true);
    r.set_schemas(schema_frame("shop.public.t", kKeySchema, "{\"v\":1}"));
    r.route_event(event('c', "shop.public.t", "{\"id\":1}", "{}"));
    r.set_schemas(schema_frame("shop.public.t", kKeySchema, "{\"v\":2}"));
    Routes routes = r.route_event(event('c', "shop.public.t", "{\"id\":1}", "{}"));
    EXPECT_EQ(routes.message[0].full_value(), "{\"schema\":{\"v\":2},\"payload\":{}}");
}

TEST(Schemas, EventBeforeItsSchemaFrameIsAnError) {
    auto r = router(true, true);
    EXPECT_THROW(r.route_event(event('c', "shop.public.t", "{\"id\":1}", "{}")), FrameError);
    // Without schemas, no R frame is needed.
    auto off = router(false, false);
    EXPECT_EQ(off.route_event(event('c', "shop.public.t", "{\"id\":1}", "{}")).count, 1);
}

TEST(Schemas, HeartbeatsCarryDebeziumsHeartbeatSchemas) {
    auto r = router(true, true);
    Routes routes = r.route_event(
        event('m', "shop.message", "{\"prefix\":\"walcast.heartbeat\"}", "{\"op\":\"m\"}"));
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].topic, "__debezium-heartbeat.shop");
    EXPECT_EQ(routes.message[0].message_key(),
              with_schema(kHeartbeatKeySchema, "{\"serverName\":\"shop\"}"));
    EXPECT_EQ(routes.message[0].full_value(),
              with_schema(kHeartbeatValueSchema, "{\"ts_ms\":1234}"));
    EXPECT_NE(std::string(kHeartbeatValueSchema).find("io.debezium.connector.common.Heartbeat"),
              std::string::npos);
}

TEST(Schemas, TransactionRecordsCarryTheMetadataSchemas) {
    auto r = router(true, true, true);
    const std::string begin = "{\"status\":\"BEGIN\",\"id\":\"771:24023128\",\"ts_ms\":1}";
    Frame b;
    b.type = FrameType::kBegin;
    b.metadata = begin;
    Routes routes = r.route_boundary(b);
    ASSERT_EQ(routes.count, 1);
    EXPECT_EQ(routes.message[0].message_key(),
              with_schema(kTransactionKeySchema, "{\"id\":\"771:24023128\"}"));
    EXPECT_EQ(routes.message[0].full_value(), with_schema(kTransactionValueSchema, begin));
}

TEST(Schemas, SnapshotTemplateWithSchemasWrapsKeysAndValues) {
    std::string frame =
        std::string("S\tshop.public.t\t{\"before\":null,\"after\":\t,\"op\":\"r\"\t") + kKeySchema +
        "\t" + kValueSchema;
    ChunkTemplate t = ChunkTemplate::parse(frame);
    EXPECT_EQ(t.key_schema, kKeySchema);
    EXPECT_EQ(t.value_schema, kValueSchema);
    t.wrap_with_schemas(true, true);
    RowBatch b;
    b.add_rows("{\"id\":1}\t{\"id\":1}\n");
    std::string times = envelope_times(1700000000123456) + t.value_close;
    Message m = snapshot_message(t, b.row(0), t.tail, times, 1);
    std::string scratch;
    EXPECT_EQ(t.key_of(b.row(0).key, scratch),
              std::string("{\"schema\":") + kKeySchema + ",\"payload\":{\"id\":1}}");
    std::string value;
    m.append_value(value);
    EXPECT_EQ(value, std::string("{\"schema\":") + kValueSchema +
                         ",\"payload\":{\"before\":null,\"after\":{\"id\":1},\"op\":\"r\"" +
                         envelope_times(1700000000123456) + "}");
    // Keyless rows stay keyless.
    EXPECT_EQ(t.key_of("", scratch), "");
}

TEST(Schemas, SnapshotTemplateWithoutSchemasCannotBeWrapped) {
    ChunkTemplate t = ChunkTemplate::parse("S\tt\th\tt");
    t.wrap_with_schemas(false, false);  // nothing asked: fine
    EXPECT_THROW(t.wrap_with_schemas(false, true), FrameError);
}

TEST(Schemas, VerifyFoldsThePayloads) {
    TopicFold f("__debezium_unavailable_value", true, true);
    auto wrap = [](const std::string &payload) { return with_schema("{}", payload); };
    EXPECT_TRUE(
        f.apply(wrap("{\"id\":1}"), wrap("{\"after\":{\"id\":1,\"v\":2},\"op\":\"c\"}"), false));
    ASSERT_EQ(f.rows().size(), 1u);
    EXPECT_EQ(f.rows().begin()->first, "{\"id\":1}");
    EXPECT_EQ(f.rows().begin()->second.at("v"), "2");
    EXPECT_TRUE(f.apply(wrap("{\"id\":1}"), "", true));
    EXPECT_TRUE(f.rows().empty());
    std::string why;
    EXPECT_FALSE(f.apply("{\"id\":1}", "{\"op\":\"c\"}", false, &why));
}

TEST(Schemas, EitherSettingAsksThePluginForSchemas) {
    for (const char *key : {"key.converter.schemas.enable", "value.converter.schemas.enable"}) {
        ConfigSources src;
        src.sets.push_back(std::string(key) + "=true");
        Config c = load_config(src);
        std::map<std::string, std::string> opts(c.plugin_options.begin(), c.plugin_options.end());
        EXPECT_EQ(opts["schemas"], "true") << key;
    }
    Config off = load_config({});
    for (const auto &[k, v] : off.plugin_options) EXPECT_NE(k, "schemas");
    EXPECT_FALSE(off.key_schemas);
    EXPECT_FALSE(off.value_schemas);
}

}  // namespace
}  // namespace walcast
