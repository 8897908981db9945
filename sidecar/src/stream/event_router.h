// Debezium routing: which messages (topic, key, value) a decoded frame becomes.
// An event becomes itself, plus a tombstone after a delete when tombstones.on.delete;
// a walcast heartbeat message becomes Debezium's heartbeat record; a transaction's
// begin and commit become its BEGIN/END record on <prefix>.transaction when
// provide.transaction.metadata, and nothing otherwise. With key/value schemas on, keys
// and values become {"schema":..,"payload":..} (JsonConverter's layout): the schemas of
// a topic come from its R frame, those of heartbeats and transaction records are fixed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>

#include "stream/frame.h"
#include "common/json_text.h"

namespace walcast {

// The prefix of heartbeat messages (pg_logical_emit_message); they are routed to
// Debezium's heartbeat topic.
inline constexpr const char *kHeartbeatPrefix = "walcast.heartbeat";

struct RoutedMessage {
    std::string_view topic, key, value;  // views into the frame or the router's topics
    std::string owned_key, owned_value;  // when not empty, replace key / value
    // Set when the value goes out as value_head + message_value() + "}": the frame's
    // value is not copied (the head is shared by all events of the topic).
    std::shared_ptr<const std::string> value_head;
    bool tombstone = false;
    char op = 0;  // the event's op; 0 for transaction records (not counted as events)

    std::string_view message_key() const { return owned_key.empty() ? key : owned_key; }
    std::string_view message_value() const { return owned_value.empty() ? value : owned_value; }
    // The value as the sink stores it (for tests and logs: it copies).
    std::string full_value() const {
        if (!value_head) return std::string(message_value());
        return *value_head + std::string(message_value()) + "}";
    }
};

// The messages one frame becomes, in production order.
struct Routes {
    RoutedMessage message[2];
    int count = 0;
};

struct RouterOptions {
    std::string topic_prefix;
    bool tombstones_on_delete = true;
    bool transaction_metadata = false;
    bool key_schemas = false;    // key.converter.schemas.enable
    bool value_schemas = false;  // value.converter.schemas.enable
};

class EventRouter {
public:
    using WallClockMs = std::function<std::int64_t()>;
    // now_ms: the heartbeat record's ts_ms (the wall clock unless a test sets it).
    explicit EventRouter(RouterOptions options, WallClockMs now_ms = nullptr);

    // A begin or commit frame: its BEGIN/END record, or nothing.
    Routes route_boundary(const Frame &frame);
    // An event frame: the event (a heartbeat re-addressed), then its tombstone if any.
    // Throws FrameError when schemas are on and the topic had no R frame.
    Routes route_event(const Frame &frame);
    // An R frame: the schemas of the topic's next events.
    void set_schemas(const Frame &frame);

    // The schemas an R frame announces, kept apart from the stream's (incremental
    // snapshot rows carry the schemas of their read, not of the stream's position).
    struct TopicSchemas {
        std::string key_head;  // empty: keys of the topic stay as they are (no key schema)
        std::shared_ptr<const std::string> value_head;
    };
    TopicSchemas schemas_from(const Frame &schema_frame) const;
    // route_event with those schemas (no heartbeat routing: data events only).
    Routes route_event_with(const Frame &frame, const TopicSchemas &schemas) const;

    const std::string &heartbeat_topic() const { return heartbeat_topic_; }
    const std::string &transaction_topic() const { return transaction_topic_; }

private:
    bool is_heartbeat(const Frame &frame);
    bool schemas_on() const { return options_.key_schemas || options_.value_schemas; }
    const TopicSchemas &schemas_of(std::string_view topic);
    void wrap(RoutedMessage &m, const TopicSchemas &schemas) const;
    static RoutedMessage &add_event(const Frame &frame, Routes &routes);
    void add_tombstone(const Frame &frame, Routes &routes) const;

    RouterOptions options_;
    WallClockMs now_ms_;
    const std::string heartbeat_topic_;
    const std::string message_topic_;
    const std::string transaction_topic_;
    const std::string heartbeat_key_;
    JsonFieldReader json_;  // one parser for the router's life
    std::unordered_map<std::string, TopicSchemas> schemas_;
    // The last topic looked up, so consecutive events of one table skip the hash.
    std::string last_topic_;
    const TopicSchemas *last_schemas_ = nullptr;
};

}  // namespace walcast
