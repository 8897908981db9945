#include "incremental/control_message.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "common/json_text.h"

namespace walcast {

namespace {

constexpr std::string_view kSignalTag = "signal\t";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// A data-collections value: an array of strings (Debezium), or one string.
bool read_collections(simdjson::dom::element data, std::vector<std::string> &out) {
    simdjson::dom::element v;
    if (data["data-collections"].get(v)) return false;
    std::string_view one;
    if (!v.get(one)) {
        out.emplace_back(one);
        return true;
    }
    simdjson::dom::array items;
    if (v.get(items)) return false;
    for (simdjson::dom::element t : items) {
        std::string_view name;
        if (t.get(name)) return false;
        out.emplace_back(name);
    }
    return true;
}

void read_type(simdjson::dom::element data, ControlMessage &m) {
    std::string_view type = "incremental";
    if (data["type"].get(type)) type = "incremental";
    m.snapshot_type = lower(type);
}

ControlMessage unknown(std::string why) {
    ControlMessage m;
    m.error = std::move(why);
    return m;
}

// {"id":..,"type":..,"data":"<json text or null>"}, as the plugin frames a signal row.
ControlMessage parse_signal_row(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(json.data(), json.size()).get(root)) return unknown("malformed signal frame");
    ControlMessage m;
    std::string_view text;
    if (!root["id"].get(text)) m.id = std::string(text);
    std::string_view type;
    if (root["type"].get(type)) return unknown("signal without a type");
    std::string data_text = "{}";
    if (!root["data"].get(text) && !text.empty()) data_text = std::string(text);
    simdjson::dom::parser data_parser;
    simdjson::dom::element data;
    if (data_parser.parse(data_text).get(data) || !data.is_object())
        return unknown("signal " + m.id + ": data is not a JSON object");
    const std::string kind = lower(type);
    if (kind == "execute-snapshot") {
        if (!read_collections(data, m.data_collections) || m.data_collections.empty())
            return unknown("execute-snapshot signal " + m.id + " names no data-collections");
        read_type(data, m);
        simdjson::dom::array conditions;
        if (!data["additional-conditions"].get(conditions)) {
            for (simdjson::dom::element c : conditions) {
                std::string_view collection, filter;
                if (c["data-collection"].get(collection) || c["filter"].get(filter))
                    return unknown("execute-snapshot signal " + m.id +
                                   ": an additional condition lacks data-collection or filter");
                m.conditions.push_back({std::string(collection), std::string(filter)});
            }
        }
        m.kind = ControlMessage::Kind::kExecuteSnapshot;
    } else if (kind == "stop-snapshot") {
        read_collections(data, m.data_collections);
        read_type(data, m);
        m.kind = ControlMessage::Kind::kStopSnapshot;
    } else if (kind == "pause-snapshot") {
        m.kind = ControlMessage::Kind::kPauseSnapshot;
    } else if (kind == "resume-snapshot") {
        m.kind = ControlMessage::Kind::kResumeSnapshot;
    } else if (kind == "log") {
        if (!data["message"].get(text)) m.log_message = std::string(text);
        m.kind = ControlMessage::Kind::kLog;
    } else {
        return unknown("signal " + m.id + " of unknown type '" + std::string(type) + "'");
    }
    return m;
}

}  // namespace

ControlMessage parse_control_message(std::string_view value) {
    if (value.substr(0, kSignalTag.size()) == kSignalTag)
        return parse_signal_row(value.substr(kSignalTag.size()));
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(value.data(), value.size()).get(root)) return unknown("malformed");
    std::string_view text;
    if (!root["watermark"].get(text)) {
        std::string_view chunk;
        if (root["chunk"].get(chunk)) return unknown("watermark without a chunk");
        ControlMessage m;
        m.chunk = std::string(chunk);
        if (text == "low") m.kind = ControlMessage::Kind::kLowWatermark;
        if (text == "high") m.kind = ControlMessage::Kind::kHighWatermark;
        return m;
    }
    if (root["signal"].error() == simdjson::SUCCESS || root["type"].error() == simdjson::SUCCESS) {
        ControlMessage m;
        m.kind = ControlMessage::Kind::kMessageSignal;
        return m;
    }
    return unknown("not a watermark");
}

std::string watermark_message(bool low, const std::string &chunk) {
    std::string out =
        low ? "{\"watermark\":\"low\",\"chunk\":" : "{\"watermark\":\"high\",\"chunk\":";
    append_json_string(out, chunk);
    out += '}';
    return out;
}

std::string signal_frame_value(const std::string &id, const std::string &type,
                               const std::string &data) {
    std::string out(kSignalTag);
    out += "{\"id\":";
    append_json_string(out, id);
    out += ",\"type\":";
    append_json_string(out, type);
    out += ",\"data\":";
    append_json_string(out, data);
    out += '}';
    return out;
}

}  // namespace walcast
