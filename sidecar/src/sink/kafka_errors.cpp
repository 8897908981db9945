#include "sink/kafka_errors.h"

#include <simdjson.h>

#include <stdexcept>

#include "common/json_text.h"
#include "pg/lsn.h"

namespace walcast {

KafkaErrorClass classify_kafka_error(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:  // does not exist and is not auto-created
        case RD_KAFKA_RESP_ERR__INVALID_ARG:
        case RD_KAFKA_RESP_ERR__BAD_MSG:
            return KafkaErrorClass::kPermanentEvent;
        case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR__SSL:
            return KafkaErrorClass::kRefused;
        case RD_KAFKA_RESP_ERR__FATAL:
            return KafkaErrorClass::kFatal;
        default:
            return KafkaErrorClass::kTransient;
    }
}

EventFailureMode parse_event_failure_mode(const std::string &mode) {
    if (mode.empty() || mode == "fail") return EventFailureMode::kFail;
    if (mode == "warn") return EventFailureMode::kWarn;
    if (mode == "skip") return EventFailureMode::kSkip;
    throw std::invalid_argument("invalid value '" + mode +
                                "' for event.processing.failure.handling.mode; accepted: fail, "
                                "warn, skip");
}

namespace {

struct EventSource {
    std::string table;  // schema.table, empty when the value has no source block
    std::string lsn;
};

// source.schema, source.table and source.lsn of a Debezium value (on demand: the
// parser skips over the before/after images without materialising them).
EventSource event_source(std::string_view value) {
    EventSource out;
    if (value.empty()) return out;
    simdjson::padded_string padded(value);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return out;
    simdjson::ondemand::object source;
    if (doc.find_field_unordered("source").get_object().get(source) != simdjson::SUCCESS)
        return out;
    std::string_view schema, table;
    for (auto field : source) {
        std::string_view name;
        if (field.unescaped_key().get(name) != simdjson::SUCCESS) break;
        if (name == "schema") {
            if (field.value().get_string().get(schema) != simdjson::SUCCESS) break;
            out.table = std::string(schema) + (table.empty() ? "" : "." + std::string(table));
        } else if (name == "table") {
            if (field.value().get_string().get(table) != simdjson::SUCCESS) break;
            out.table = (schema.empty() ? "" : std::string(schema) + ".") + std::string(table);
        } else if (name == "lsn") {
            std::int64_t lsn = 0;
            if (field.value().get_int64().get(lsn) == simdjson::SUCCESS)
                out.lsn = format_lsn(static_cast<Lsn>(lsn));
        }
    }
    return out;
}

std::string human_size(std::size_t bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%zu bytes (%.1f MB)", bytes, static_cast<double>(bytes) / 1e6);
    return buf;
}

std::string shortened(std::string_view s, std::size_t max) {
    if (s.size() <= max) return std::string(s);
    return std::string(s.substr(0, max)) + "...";
}

}  // namespace

std::string describe_rejected_event(std::string_view topic, std::string_view key,
                                    std::string_view value, std::size_t value_size,
                                    rd_kafka_resp_err_t err) {
    const EventSource src = event_source(value);
    std::string d = "topic " + std::string(topic);
    if (!src.table.empty()) d += ", table " + src.table;
    d += ", key " + (key.empty() ? std::string("null") : shortened(key, 200));
    d += ", value " + human_size(value_size);
    if (!src.lsn.empty()) d += ", LSN " + src.lsn;
    d += ": " + std::string(rd_kafka_err2name(err)) + " (" + rd_kafka_err2str(err) + ")";
    return d;
}

std::string dead_letter_description(std::string_view topic, std::string_view key,
                                    std::string_view value, std::size_t value_size,
                                    rd_kafka_resp_err_t err) {
    const EventSource src = event_source(value);
    std::string j = "{\"topic\":";
    append_json_string(j, topic);
    j += ",\"table\":";
    append_json_string(j, src.table);
    j += ",\"key\":";
    if (key.empty()) {
        j += "null";
    } else {
        append_json_string(j, key);
    }
    j += ",\"value_bytes\":" + std::to_string(value_size);
    j += ",\"lsn\":";
    if (src.lsn.empty()) {
        j += "null";
    } else {
        append_json_string(j, src.lsn);
    }
    j += ",\"error\":";
    append_json_string(j, rd_kafka_err2name(err));
    j += ",\"reason\":";
    append_json_string(j, rd_kafka_err2str(err));
    j += "}";
    return j;
}

}  // namespace walcast
