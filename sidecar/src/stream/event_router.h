// Debezium routing: which messages (topic, key, value) a decoded frame becomes.
// An event becomes itself, plus a tombstone after a delete when tombstones.on.delete;
// a walcast heartbeat message becomes Debezium's heartbeat record; a transaction's
// begin and commit become its BEGIN/END record on <prefix>.transaction when
// provide.transaction.metadata, and nothing otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
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
    bool tombstone = false;
    char op = 0;  // the event's op; 0 for transaction records (not counted as events)

    std::string_view message_key() const { return owned_key.empty() ? key : owned_key; }
    std::string_view message_value() const { return owned_value.empty() ? value : owned_value; }
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
};

class EventRouter {
public:
    using WallClockMs = std::function<std::int64_t()>;
    // now_ms: the heartbeat record's ts_ms (the wall clock unless a test sets it).
    explicit EventRouter(RouterOptions options, WallClockMs now_ms = nullptr);

    // A begin or commit frame: its BEGIN/END record, or nothing.
    Routes route_boundary(const Frame &frame);
    // An event frame: the event (a heartbeat re-addressed), then its tombstone if any.
    Routes route_event(const Frame &frame);

    const std::string &heartbeat_topic() const { return heartbeat_topic_; }
    const std::string &transaction_topic() const { return transaction_topic_; }

private:
    bool is_heartbeat(const Frame &frame);

    RouterOptions options_;
    WallClockMs now_ms_;
    const std::string heartbeat_topic_;
    const std::string message_topic_;
    const std::string transaction_topic_;
    const std::string heartbeat_key_;
    JsonFieldReader json_;  // one parser for the router's life
};

}  // namespace walcast
