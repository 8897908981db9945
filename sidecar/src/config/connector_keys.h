// Keys of a Debezium PostgreSQL connector configuration (or of the Kafka Connect
// worker around it) that are not walcast settings, and what walcast does with each:
// accept and ignore them, read them under their current name, or accept them only
// with the value that is walcast's behaviour, or refuse them with the reason. Consulted only for
// keys the settings table (settings.cpp) does not declare: a declared setting always wins.
#pragma once

#include <string>
#include <vector>

namespace walcast {

enum class ForeignKind {
    kIgnored,      // no meaning for walcast (Kafka Connect's, the pgoutput publication's...)
    kAlias,        // an older Debezium name of a walcast setting
    kDefaultOnly,  // accepted when the value is what walcast does anyway
    kUnsupported,  // a meaning walcast does not implement: refused unless empty
};

struct ForeignKey {
    const char *pattern;  // a key, or a prefix ending in '.' or '*' ("transforms.*")
    ForeignKind kind;
    const char *target;  // kAlias: the setting; kDefaultOnly: the accepted value(s), '|'-separated
    const char *reason;  // one line, for the warning and the documentation
};

const std::vector<ForeignKey> &foreign_keys();

// The entry for key, or nullptr when the key is not a known connector key.
const ForeignKey *find_foreign_key(const std::string &key);

// Whether value is one of a kDefaultOnly entry's accepted values (case-insensitive).
bool default_only_accepts(const ForeignKey &entry, const std::string &value);

// docs/debezium-keys.md.
std::string foreign_keys_markdown();

}  // namespace walcast
