// Small JSON helpers of the sidecar: writing string literals into hand-built JSON
// (sink lines, routed keys, error records) and reading one string field of a small
// object (keys and transaction records; event values are never parsed).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace walcast {

// Appends s as a JSON string literal (quotes included).
void append_json_string(std::string &out, std::string_view s);

// Reads string fields of small JSON objects with one parser kept for its whole life
// (simdjson reuses the parser's buffers; one per call would allocate each time).
class JsonFieldReader {
public:
    // The value of the top-level string field `field` of `json`, or "" when the text
    // is not an object or the field is missing or not a string.
    std::string string_field(std::string_view json, const char *field);

private:
    simdjson::ondemand::parser parser_;
    std::string buffer_;  // reused copy of the input, with room for simdjson's padding
};

}  // namespace walcast
