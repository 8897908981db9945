#include "common/json_text.h"

namespace walcast {

void append_json_string(std::string &out, std::string_view s) {
    static const char kHex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out += kHex[(c >> 4) & 0xf];
                    out += kHex[c & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

std::string JsonFieldReader::string_field(std::string_view json, const char *field) {
    buffer_.assign(json.data(), json.size());
    buffer_.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    std::string_view out;
    if (parser_.iterate(buffer_.data(), buffer_.size(), buffer_.capacity()).get(doc) !=
        simdjson::SUCCESS)
        return "";
    if (doc[field].get_string().get(out) != simdjson::SUCCESS) return "";
    return std::string(out);
}

}  // namespace walcast
