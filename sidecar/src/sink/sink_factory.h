// Builds the configured sink (`sink` = kafka | stdout | file:/path).
#pragma once

#include <memory>

#include "config/config.h"
#include "metrics/metrics.h"
#include "sink/sink.h"

namespace walcast {

// Throws ConfigError for bad sink settings (e.g. an unknown kafka.* property),
// std::runtime_error when the sink cannot be opened. A Kafka sink is returned once a
// broker has answered (SinkError when it refuses the credentials, Stopped on a stop
// request). metrics (may be null) gets walcast_events_skipped_total.
std::unique_ptr<Sink> make_sink(const Config &config, DeliveryCallback on_delivery,
                                Registry *metrics = nullptr);

}  // namespace walcast
