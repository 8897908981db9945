// walcast's control messages (prefix walcast.control, W frames; docs/incremental-snapshots.md):
// the watermarks the sidecar writes around each chunk, and the signals users write with
// walcast.execute_snapshot().
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace walcast {

inline constexpr const char *kControlPrefix = "walcast.control";

struct ControlMessage {
    enum class Kind { kUnknown, kLowWatermark, kHighWatermark, kExecuteSnapshot };
    Kind kind = Kind::kUnknown;
    std::string chunk;                          // watermarks: the chunk's id
    std::vector<std::string> data_collections;  // execute-snapshot: "schema.table"
    std::string snapshot_type;                  // execute-snapshot: "incremental"
};

// Malformed or unknown content gives Kind::kUnknown (the stream goes on).
ControlMessage parse_control_message(std::string_view json);

std::string watermark_message(bool low, const std::string &chunk);

}  // namespace walcast
