// Heartbeats: a transactional logical message every heartbeat.interval.ms (and
// the optional heartbeat.action.query), so even a quiet source database
// produces an event that moves the slot and shows liveness downstream.
//
// They run on a thread of their own: connecting and querying may wait (a server
// that is down, a slow action query), and the streaming loop must never wait
// with them. The thread ends on the process's shutdown token or when the
// Heartbeat is destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "config/config.h"
#include "stream/event_router.h"  // kHeartbeatPrefix
#include "pg/pg_conn.h"

namespace walcast {

class Heartbeat {
public:
    // Starts the thread when heartbeat.interval.ms > 0; the first heartbeat runs at once.
    explicit Heartbeat(const Config &config);
    ~Heartbeat();
    Heartbeat(const Heartbeat &) = delete;
    Heartbeat &operator=(const Heartbeat &) = delete;

private:
    void thread_main();
    // One heartbeat. Failures are logged, never thrown: a missed heartbeat must
    // not stop streaming.
    void beat();

    const Config &config_;
    PgConnPtr conn_;  // an ordinary (non-replication) session, opened lazily
    std::mutex mu_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;  // last: starts once everything above exists
};

}  // namespace walcast
