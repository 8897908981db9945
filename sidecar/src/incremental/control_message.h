// walcast's control frames (W frames; docs/incremental-snapshots.md): the watermarks the
// sidecar writes around each chunk (logical messages, prefix walcast.control), and the
// signals users write into a signal table (walcast.signals, signal.data.collection), in
// Debezium's signal format. A signal that arrives as a logical message is refused: any
// role can write one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace walcast {

inline constexpr const char *kControlPrefix = "walcast.control";

// additional-conditions: rows of tables matching data_collection (a regex, like
// data-collections) are read only where filter holds.
struct SnapshotCondition {
    std::string data_collection;
    std::string filter;
};

struct ControlMessage {
    enum class Kind {
        kUnknown,
        kLowWatermark,
        kHighWatermark,
        kExecuteSnapshot,
        kStopSnapshot,
        kPauseSnapshot,
        kResumeSnapshot,
        kLog,
        kMessageSignal,  // a signal in a logical message: refused
    };
    Kind kind = Kind::kUnknown;
    std::string chunk;  // watermarks: the chunk's id
    std::string id;     // signals: the signal table row's id
    // execute-snapshot, stop-snapshot: regexes on "schema.table" (stop: empty = all)
    std::vector<std::string> data_collections;
    std::string snapshot_type;  // execute-/stop-snapshot: "incremental" or "blocking", lower case
    std::vector<SnapshotCondition> conditions;  // execute-snapshot
    std::string log_message;                    // log
    std::string error;                          // kUnknown: why, for the log
};

// Malformed or unknown content gives Kind::kUnknown (the stream goes on).
ControlMessage parse_control_message(std::string_view frame_value);

std::string watermark_message(bool low, const std::string &chunk);

// The W frame value of a signal row, as the plugin writes it (for tests).
std::string signal_frame_value(const std::string &id, const std::string &type,
                               const std::string &data);

}  // namespace walcast
