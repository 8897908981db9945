// Malformed output from the plugin: a stream frame (docs/framing.md) or a snapshot
// row from snapshot_rows(). Both stages parse the plugin's wire formats, so the
// error lives below them rather than in either one.
#pragma once

#include <stdexcept>

namespace walcast {

class FrameError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace walcast
