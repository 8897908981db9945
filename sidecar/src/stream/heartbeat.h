// Heartbeats: a transactional logical message every heartbeat.interval.ms (and
// the optional heartbeat.action.query), so even a quiet source database
// produces an event that moves the slot and shows liveness downstream.
#pragma once

#include <chrono>

#include "config/config.h"
#include "pg/pg_conn.h"

namespace walcast {

// The prefix of heartbeat messages; the pipeline routes them to the heartbeat topic.
inline constexpr const char *kHeartbeatPrefix = "walcast.heartbeat";

class Heartbeat {
public:
    explicit Heartbeat(const Config &config) : config_(config) {}
    // Runs the heartbeat when due. Failures are logged, never thrown: a missed
    // heartbeat must not stop streaming.
    void tick();

private:
    const Config &config_;
    PgConnPtr conn_;  // an ordinary (non-replication) session, opened lazily
    std::chrono::steady_clock::time_point next_ = std::chrono::steady_clock::now();
};

}  // namespace walcast
