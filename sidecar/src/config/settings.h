// The sidecar's settings, each declared once: name, type, default, accepted
// values, description, Debezium counterpart, group and the subcommands that
// read it. Parsing, validation, --help and docs/configuration.md all use this table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace walcast {

enum class Kind { kString, kInt, kBool, kEnum, kSink, kOps, kName, kTopic, kAddress };

enum class Group { kConnection, kSlotSnapshot, kEventFormat, kSink, kErrors, kMetricsLogging };

// The subcommands that read a setting (a bit set).
enum Command : unsigned {
    kRun = 1u << 0,
    kStatus = 1u << 1,
    kVerify = 1u << 2,
    kSlotDrop = 1u << 3,
    kSnapshot = 1u << 4,
    kAllCommands = kRun | kStatus | kVerify | kSlotDrop | kSnapshot,
};

struct Setting {
    const char *name;
    Kind kind;
    const char *def;  // default ("" = unset: libpq's or the plugin's default applies)
    std::vector<std::string> accepted;  // enums
    std::int64_t min, max;              // integers
    Group group;
    unsigned commands;   // Command bits
    bool plugin_option;  // forwarded to START_REPLICATION
    // nullptr: the same name and meaning as in Debezium's PostgreSQL connector;
    // otherwise how it differs (or that only walcast has it).
    const char *debezium;
    const char *description;  // one line
};

const std::vector<Setting> &settings();
const Setting *find_setting(const std::string &name);

// "true, false", "an integer from 1 to 64", ... (also used in error messages).
std::string accepted_values(const Setting &s);

// The --help footer of one subcommand: only the settings it reads, grouped.
std::string settings_help(unsigned command);

// docs/configuration.md.
std::string settings_markdown();

}  // namespace walcast
