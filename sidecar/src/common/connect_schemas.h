// Kafka Connect's JSON with schemas (JsonConverter, schemas.enable=true): every key or
// value is {"schema":<schema>,"payload":<the schemaless JSON>}. The schemas of data and
// message topics come from the plugin (R frames, docs/framing.md); the ones of the
// records the sidecar makes itself (heartbeats, transaction metadata) are here, as
// Debezium declares them.
#pragma once

#include <string>
#include <string_view>

namespace walcast {

// `{"schema":<schema>,"payload":`: what goes before the payload; a "}" closes it.
std::string schema_envelope_head(std::string_view schema);
// The whole {"schema":..,"payload":..}.
std::string with_schema(std::string_view schema, std::string_view payload);

// io.debezium.connector.common.ServerNameKey / Heartbeat.
extern const char kHeartbeatKeySchema[];
extern const char kHeartbeatValueSchema[];
// io.debezium.connector.common.TransactionMetadataKey / TransactionMetadataValue.
extern const char kTransactionKeySchema[];
extern const char kTransactionValueSchema[];

}  // namespace walcast
