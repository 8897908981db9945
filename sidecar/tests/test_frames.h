// Frames as the plugin sends them, built by hand for the router and schema tests.
#pragma once

#include <string_view>

#include "stream/frame.h"

namespace walcast::test_frames {

inline Frame event(char op, std::string_view topic, std::string_view key, std::string_view value) {
    Frame f;
    f.type = FrameType::kEvent;
    f.op = op;
    f.topic = topic;
    f.key = key;
    f.value = value;
    return f;
}

}  // namespace walcast::test_frames
