#include "common/connect_schemas.h"

namespace walcast {

const char kHeartbeatKeySchema[] =
    R"({"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],)"
    R"("optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1})";

const char kHeartbeatValueSchema[] =
    R"({"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],)"
    R"("optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1})";

const char kTransactionKeySchema[] =
    R"({"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],)"
    R"("optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey",)"
    R"("version":1})";

const char kTransactionValueSchema[] =
    R"({"type":"struct","fields":[{"type":"string","optional":false,"field":"status"},)"
    R"({"type":"string","optional":false,"field":"id"},)"
    R"({"type":"int64","optional":true,"field":"event_count"},)"
    R"({"type":"array","items":{"type":"struct","fields":[)"
    R"({"type":"string","optional":false,"field":"data_collection"},)"
    R"({"type":"int64","optional":false,"field":"event_count"}],)"
    R"("optional":true,"name":"event.collection","version":1},)"
    R"("optional":true,"field":"data_collections"},)"
    R"({"type":"int64","optional":false,"field":"ts_ms"}],)"
    R"("optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue",)"
    R"("version":1})";

std::string schema_envelope_head(std::string_view schema) {
    std::string head;
    head.reserve(schema.size() + 22);
    head += "{\"schema\":";
    head += schema;
    head += ",\"payload\":";
    return head;
}

std::string with_schema(std::string_view schema, std::string_view payload) {
    std::string out = schema_envelope_head(schema);
    out += payload;
    out += '}';
    return out;
}

}  // namespace walcast
