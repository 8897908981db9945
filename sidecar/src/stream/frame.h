// Reads the plugin's `format=frames` messages (docs/framing.md) into views of the
// received buffer: nothing is copied and the JSON value is never parsed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/frame_error.h"
#include "pg/lsn.h"

namespace walcast {

enum class FrameType { kBegin, kEvent, kCommit, kSchema, kControl };

struct Frame {
    FrameType type = FrameType::kEvent;
    // begin; event: its transaction's (set by the pipeline from the begin frame)
    std::uint64_t xid = 0;
    Lsn commit_lsn = 0;
    // begin and commit; control: the LSN of its message
    Lsn end_lsn = 0;
    std::string_view metadata;  // Debezium BEGIN/END record, empty when off
    // event; schema (R frame): topic, key = key schema (empty: no key), value = value schema
    char op = 0;
    std::string_view topic;
    std::string_view key;    // empty = null key
    std::string_view value;  // the rest of the frame, verbatim (control: the message)
};

// Views point into `data`, which must outlive the frame. Throws FrameError.
Frame parse_frame(std::string_view data);

}  // namespace walcast
