// Builds the configured sink (`sink` = kafka | stdout | file:/path).
#pragma once

#include <memory>

#include "config.h"
#include "sink.h"

namespace walcast {

// Throws ConfigError for bad sink settings (e.g. an unknown kafka.* property),
// std::runtime_error when the sink cannot be opened.
std::unique_ptr<Sink> make_sink(const Config &config, DeliveryCallback on_delivery);

}  // namespace walcast
