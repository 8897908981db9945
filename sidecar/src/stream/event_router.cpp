#include "stream/event_router.h"

#include "common/connect_schemas.h"

#include <chrono>
#include <utility>

namespace walcast {

namespace {

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string server_name_key(const std::string &topic_prefix) {
    std::string key = "{\"serverName\":";
    append_json_string(key, topic_prefix);
    key += "}";
    return key;
}

}  // namespace

EventRouter::EventRouter(RouterOptions options, WallClockMs now_ms)
    : options_(std::move(options)),
      now_ms_(now_ms ? std::move(now_ms) : WallClockMs(wall_clock_ms)),
      heartbeat_topic_("__debezium-heartbeat." + options_.topic_prefix),
      message_topic_(options_.topic_prefix + ".message"),
      transaction_topic_(options_.topic_prefix + ".transaction"),
      heartbeat_key_(server_name_key(options_.topic_prefix)) {}

Routes EventRouter::route_boundary(const Frame &frame) {
    Routes routes;
    if (!options_.transaction_metadata || frame.metadata.empty()) return routes;
    // Debezium keys the record by the transaction id: {"id":"<id>"}.
    RoutedMessage &m = routes.message[routes.count++];
    m.topic = transaction_topic_;
    m.owned_key = "{\"id\":";
    append_json_string(m.owned_key, json_.string_field(frame.metadata, "id"));
    m.owned_key += "}";
    m.value = frame.metadata;
    if (options_.key_schemas) m.owned_key = with_schema(kTransactionKeySchema, m.owned_key);
    if (options_.value_schemas) m.owned_value = with_schema(kTransactionValueSchema, m.value);
    return routes;
}

void EventRouter::set_schemas(const Frame &frame) {
    if (!schemas_on()) return;
    schemas_[std::string(frame.topic)] = schemas_from(frame);
    last_schemas_ = nullptr;  // the map may have rehashed
}

EventRouter::TopicSchemas EventRouter::schemas_from(const Frame &frame) const {
    TopicSchemas s;
    s.key_head = frame.key.empty() ? std::string() : schema_envelope_head(frame.key);
    s.value_head = std::make_shared<const std::string>(schema_envelope_head(frame.value));
    return s;
}

// The event as the frame carries it: the first message of its routes.
RoutedMessage &EventRouter::add_event(const Frame &frame, Routes &routes) {
    RoutedMessage &m = routes.message[routes.count++];
    m.topic = frame.topic;
    m.key = frame.key;
    m.value = frame.value;
    m.op = frame.op;
    return m;
}

Routes EventRouter::route_event_with(const Frame &frame, const TopicSchemas &schemas) const {
    Routes routes;
    RoutedMessage &m = add_event(frame, routes);
    if (schemas_on()) wrap(m, schemas);
    add_tombstone(frame, routes);
    return routes;
}

void EventRouter::add_tombstone(const Frame &frame, Routes &routes) const {
    if (frame.op != 'd' || !options_.tombstones_on_delete || frame.key.empty()) return;
    RoutedMessage &t = routes.message[routes.count++];
    t.topic = frame.topic;
    t.key = frame.key;
    t.tombstone = true;
    t.op = 'd';
    t.owned_key = routes.message[0].owned_key;  // the key as the delete's (with its schema)
}

const EventRouter::TopicSchemas &EventRouter::schemas_of(std::string_view topic) {
    if (last_schemas_ && topic == last_topic_) return *last_schemas_;
    auto it = schemas_.find(std::string(topic));
    if (it == schemas_.end())
        throw FrameError("malformed stream: event for topic " + std::string(topic) +
                         " before its schema frame (R)");
    last_topic_.assign(topic);
    last_schemas_ = &it->second;
    return it->second;
}

void EventRouter::wrap(RoutedMessage &m, const TopicSchemas &schemas) const {
    if (options_.key_schemas && !schemas.key_head.empty() && !m.key.empty()) {
        m.owned_key = schemas.key_head;
        m.owned_key += m.key;
        m.owned_key += '}';
    }
    if (options_.value_schemas && !m.tombstone) m.value_head = schemas.value_head;
}

bool EventRouter::is_heartbeat(const Frame &frame) {
    // The cheap checks first: only a logical message whose key mentions the prefix
    // is parsed.
    return frame.op == 'm' && frame.topic == message_topic_ &&
           frame.key.find(kHeartbeatPrefix) != std::string_view::npos &&
           json_.string_field(frame.key, "prefix") == kHeartbeatPrefix;
}

Routes EventRouter::route_event(const Frame &frame) {
    Routes routes;
    RoutedMessage &m = add_event(frame, routes);
    if (is_heartbeat(frame)) {
        // Debezium's heartbeat record: key {"serverName":..}, value {"ts_ms":..}.
        m.topic = heartbeat_topic_;
        m.owned_key = heartbeat_key_;
        m.owned_value = "{\"ts_ms\":" + std::to_string(now_ms_()) + "}";
        if (options_.key_schemas) m.owned_key = with_schema(kHeartbeatKeySchema, m.owned_key);
        if (options_.value_schemas)
            m.owned_value = with_schema(kHeartbeatValueSchema, m.owned_value);
    } else if (schemas_on()) {
        wrap(m, schemas_of(frame.topic));
    }
    add_tombstone(frame, routes);
    return routes;
}

}  // namespace walcast
