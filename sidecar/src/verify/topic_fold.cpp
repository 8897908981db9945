#include "verify/topic_fold.h"

#include <stdexcept>

namespace walcast {

namespace {

std::string base64(std::string_view in) {
    static const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v =
            (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {a[v >> 18 & 63], a[v >> 12 & 63], a[v >> 6 & 63], a[v & 63]};
    }
    if (i < in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < in.size()) v |= (unsigned char)in[i + 1] << 8;
        out += {a[v >> 18 & 63], a[v >> 12 & 63], i + 1 < in.size() ? a[v >> 6 & 63] : '=', '='};
    }
    return out;
}

simdjson::dom::element parse(simdjson::dom::parser &parser, std::string_view json) {
    simdjson::dom::element element;
    if (parser.parse(json.data(), json.size()).get(element))
        throw std::runtime_error("not valid JSON: " + std::string(json.substr(0, 120)));
    return element;
}

}  // namespace

EventDecoder::EventDecoder(const std::string &placeholder, bool key_schemas, bool value_schemas)
    : key_schemas_(key_schemas),
      value_schemas_(value_schemas),
      placeholder_string_("\"" + placeholder + "\""),
      placeholder_array_("[\"" + placeholder + "\"]"),
      placeholder_bytes_("\"" + base64(placeholder) + "\"") {}

bool EventDecoder::is_placeholder(std::string_view v) const {
    return v == placeholder_string_ || v == placeholder_array_ || v == placeholder_bytes_;
}

std::string EventDecoder::canonical_key(std::string_view json) {
    if (json.empty()) return "null";
    return simdjson::minify(parse(key_parser_, json));
}

std::string EventDecoder::canonical_row(std::string_view object_json) {
    simdjson::dom::object object;
    if (parse(parser_, object_json).get_object().get(object)) return std::string();
    return encode_row(object);
}

bool EventDecoder::decode(std::string_view key, std::string_view value, bool is_null,
                          TopicEvent &event, std::string *why) {
    simdjson::dom::element key_element, envelope;
    auto reject = [&](const char *what) {
        if (why) *why = what;
        return false;
    };
    if (!key.empty() && key_parser_.parse(key.data(), key.size()).get(key_element))
        return reject("key is not valid JSON");
    if (!key.empty() && key_schemas_ && key_element["payload"].get(key_element))
        return reject("key has no payload");
    if (!is_null && parser_.parse(value.data(), value.size()).get(envelope))
        return reject("value is not valid JSON");
    if (!is_null && value_schemas_ && envelope["payload"].get(envelope))
        return reject("value has no payload");
    event.key = key.empty() ? std::string("null") : simdjson::minify(key_element);
    event.row.clear();
    event.placeholder = false;
    event.net_rows = 0;
    event.kind = TopicEvent::kOther;
    if (is_null) {
        event.kind = TopicEvent::kRemove;
        return true;
    }
    std::string_view op;
    if (envelope["op"].get_string().get(op)) return true;  // not a change event
    if (op == "d") {
        event.kind = TopicEvent::kRemove;
        event.net_rows = -1;
    } else if (op == "t") {
        event.kind = TopicEvent::kTruncate;
    } else if (op == "c" || op == "u" || op == "r") {
        if (op != "u") event.net_rows = 1;
        simdjson::dom::object after;
        if (envelope["after"].get_object().get(after)) return true;
        event.kind = TopicEvent::kUpsert;
        event.row = encode_row(after);
        for (auto field : after) {
            // Only a string or an array of one string can be the placeholder.
            if ((field.value.is_string() || field.value.is_array()) &&
                is_placeholder(simdjson::minify(field.value))) {
                event.placeholder = true;
                break;
            }
        }
    }
    return true;
}

void StateFold::apply(TopicEvent::Kind kind, std::string key, std::string row, bool placeholder) {
    switch (kind) {
        case TopicEvent::kRemove:
            rows_.erase(key);
            return;
        case TopicEvent::kTruncate:
            rows_.clear();
            return;
        case TopicEvent::kUpsert:
            break;
        default:
            return;
    }
    auto it = rows_.find(key);
    if (placeholder && it != rows_.end()) {
        // Unchanged TOAST: the column keeps what the key held before.
        FoldedRow before = decode_row(it->second), after = decode_row(row);
        for (auto &[column, value] : after)
            if (decoder_.is_placeholder(value)) {
                auto b = before.find(column);
                if (b != before.end()) value = b->second;
            }
        row.clear();
        for (const auto &[column, value] : after) {
            row += column;
            row.push_back('\0');
            row += value;
            row.push_back('\0');
        }
    }
    if (it != rows_.end())
        it->second = std::move(row);
    else
        rows_.emplace(std::move(key), std::move(row));
}

TopicFold::TopicFold(const std::string &placeholder, bool key_schemas, bool value_schemas)
    : decoder_(placeholder, key_schemas, value_schemas), fold_(decoder_) {}

std::string TopicFold::canonical(std::string_view json) {
    if (json.empty()) return "null";
    simdjson::dom::parser parser;
    return simdjson::minify(parse(parser, json));
}

FoldedRow TopicFold::fields_of(std::string_view object_json) {
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parse(parser, object_json).get_object().get(object)) return FoldedRow();
    return decode_row(encode_row(object));
}

bool TopicFold::apply(std::string_view key, std::string_view value, bool is_null,
                      std::string *why) {
    if (!decoder_.decode(key, value, is_null, event_, why)) {
        damaged_++;
        return false;
    }
    records_++;
    net_rows_ = event_.kind == TopicEvent::kTruncate ? 0 : net_rows_ + event_.net_rows;
    fold_.apply(event_.kind, std::move(event_.key), std::move(event_.row), event_.placeholder);
    return true;
}

std::map<std::string, FoldedRow> TopicFold::rows() const {
    std::map<std::string, FoldedRow> out;
    for (const auto &[key, row] : fold_.rows()) out.emplace(key, decode_row(row));
    return out;
}

}  // namespace walcast
