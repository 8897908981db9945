// A Kafka Connect REST request body as a configuration file: {"name": ..., "config":
// {...}} or the config object alone, as posted to /connectors or PUT to
// /connectors/<name>/config.
#pragma once

#include <string>
#include <vector>

namespace walcast {

// One key=value as a configuration source gave it, with where it came from.
struct SourcedValue {
    std::string key;
    std::string value;
    std::string origin;  // "file:3", "file (JSON)", "--set"
};

// Whether a configuration file's text is JSON (its first non-blank character is '{').
bool looks_like_json(const std::string &text);

// The keys of the config object, in file order. Strings are taken as they are, numbers
// and booleans as written; null leaves the key unset. With a "config" member, the
// top-level "name" is kept too (a key walcast ignores). Throws ConfigError when the text
// is not such an object, or a value is an object or an array.
std::vector<SourcedValue> parse_connect_json(const std::string &text, const std::string &origin);

}  // namespace walcast
