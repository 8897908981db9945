#include "incremental/control_message.h"

#include <simdjson.h>

#include "common/json_text.h"

namespace walcast {

ControlMessage parse_control_message(std::string_view json) {
    ControlMessage m;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(json.data(), json.size()).get(root)) return m;
    std::string_view text;
    if (!root["watermark"].get(text)) {
        std::string_view chunk;
        if (root["chunk"].get(chunk)) return m;
        m.chunk = std::string(chunk);
        if (text == "low") m.kind = ControlMessage::Kind::kLowWatermark;
        if (text == "high") m.kind = ControlMessage::Kind::kHighWatermark;
        return m;
    }
    if (!root["signal"].get(text) && text == "execute-snapshot") {
        std::string_view type = "incremental";
        if (root["type"].get(type)) type = "incremental";
        m.snapshot_type = std::string(type);
        simdjson::dom::array tables;
        if (root["data-collections"].get(tables)) return m;
        for (simdjson::dom::element t : tables) {
            std::string_view name;
            if (!t.get(name)) m.data_collections.emplace_back(name);
        }
        m.kind = ControlMessage::Kind::kExecuteSnapshot;
    }
    return m;
}

std::string watermark_message(bool low, const std::string &chunk) {
    std::string out =
        low ? "{\"watermark\":\"low\",\"chunk\":" : "{\"watermark\":\"high\",\"chunk\":";
    append_json_string(out, chunk);
    out += '}';
    return out;
}

}  // namespace walcast
