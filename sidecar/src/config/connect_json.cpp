#include "config/connect_json.h"

#include <simdjson.h>

#include "config/config.h"

namespace walcast {

namespace {

std::string scalar_text(simdjson::dom::element value, const std::string &key,
                        const std::string &origin) {
    switch (value.type()) {
        case simdjson::dom::element_type::STRING:
            return std::string(std::string_view(value.get_string().value()));
        case simdjson::dom::element_type::BOOL:
            return value.get_bool().value() ? "true" : "false";
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
            // As written (5432, not 5432.0): Kafka Connect reads every value as text.
            return simdjson::minify(value);
        default:
            throw ConfigError(origin + ": the value of \"" + key +
                              "\" is an object or an array; configuration values are strings");
    }
}

void append_members(simdjson::dom::object object, const std::string &origin,
                    std::vector<SourcedValue> &out, bool skip_config) {
    for (auto field : object) {
        const std::string key(field.key);
        if (skip_config && key == "config") continue;
        if (field.value.is_null()) continue;
        out.push_back(
            {key, scalar_text(field.value, key, origin), origin + " (JSON \"" + key + "\")"});
    }
}

}  // namespace

bool looks_like_json(const std::string &text) {
    std::size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        ++i;
    return i < text.size() && text[i] == '{';
}

std::vector<SourcedValue> parse_connect_json(const std::string &text, const std::string &origin) {
    const std::size_t bom = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto error = parser.parse(text.data() + bom, text.size() - bom).get(root))
        throw ConfigError(origin + ": not valid JSON (" + simdjson::error_message(error) + ")");
    simdjson::dom::object top;
    if (root.get_object().get(top))
        throw ConfigError(origin + ": a JSON configuration must be an object");
    std::vector<SourcedValue> out;
    simdjson::dom::element config;
    if (top["config"].get(config) == simdjson::SUCCESS) {
        simdjson::dom::object inner;
        if (config.get_object().get(inner))
            throw ConfigError(origin + ": \"config\" must be an object of key-value pairs");
        // A REST request: its name (and nothing else of it) beside the config's keys.
        append_members(top, origin, out, true);
        append_members(inner, origin, out, false);
    } else {
        append_members(top, origin, out, false);
    }
    return out;
}

}  // namespace walcast
