// The line `walcast run` logs first: its version and what this run is going to do.
#pragma once

#include <string>

#include "config/config.h"

namespace walcast {

// "walcast 0.1.0 starting: slot s, topic.prefix p, sink kafka, postgres host=..., snapshot.mode
// initial: ..." with the snapshot mode's plan in words. No secret appears in it.
std::string start_banner(const Config &config);

}  // namespace walcast
