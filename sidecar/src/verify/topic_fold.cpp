#include "verify/topic_fold.h"

#include <simdjson.h>

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

TopicFold::TopicFold(const std::string &placeholder, bool key_schemas, bool value_schemas)
    : key_schemas_(key_schemas),
      value_schemas_(value_schemas),
      placeholder_string_("\"" + placeholder + "\""),
      placeholder_array_("[\"" + placeholder + "\"]"),
      placeholder_bytes_("\"" + base64(placeholder) + "\"") {}

bool TopicFold::is_placeholder(const std::string &v) const {
    return v == placeholder_string_ || v == placeholder_array_ || v == placeholder_bytes_;
}

std::string TopicFold::canonical(std::string_view json) {
    if (json.empty()) return "null";
    simdjson::dom::parser parser;
    return simdjson::minify(parse(parser, json));
}

FoldedRow TopicFold::fields_of(std::string_view object_json) {
    simdjson::dom::parser parser;
    FoldedRow row;
    simdjson::dom::object object;
    if (parse(parser, object_json).get_object().get(object)) return row;
    for (auto field : object) row[std::string(field.key)] = simdjson::minify(field.value);
    return row;
}

bool TopicFold::apply(std::string_view key, std::string_view value, bool is_null,
                      std::string *why) {
    simdjson::dom::parser parser;
    simdjson::dom::element key_element, envelope;
    auto reject = [&](const char *what) {
        damaged_++;
        if (why) *why = what;
        return false;
    };
    if (!key.empty() && parser.parse(key.data(), key.size()).get(key_element))
        return reject("key is not valid JSON");
    if (!key.empty() && key_schemas_ && key_element["payload"].get(key_element))
        return reject("key has no payload");
    const std::string k = key.empty() ? std::string("null") : simdjson::minify(key_element);
    if (!is_null && parser.parse(value.data(), value.size()).get(envelope))
        return reject("value is not valid JSON");
    if (!is_null && value_schemas_ && envelope["payload"].get(envelope))
        return reject("value has no payload");
    records_++;
    if (is_null) {
        rows_.erase(k);
        return true;
    }
    std::string_view op;
    if (envelope["op"].get_string().get(op)) return true;  // not a change event
    if (op == "d") {
        rows_.erase(k);
        net_rows_--;
    } else if (op == "t") {
        rows_.clear();
        net_rows_ = 0;
    } else if (op == "c" || op == "u" || op == "r") {
        if (op != "u") net_rows_++;
        simdjson::dom::object after;
        if (envelope["after"].get_object().get(after)) return true;
        FoldedRow &row = rows_[k];
        for (auto field : after) {
            std::string v = simdjson::minify(field.value);
            if (is_placeholder(v) && row.count(std::string(field.key))) continue;
            row[std::string(field.key)] = std::move(v);
        }
    }
    return true;
}

}  // namespace walcast
