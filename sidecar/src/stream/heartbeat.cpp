#include "stream/heartbeat.h"

#include <spdlog/spdlog.h>

#include <string>

#include "pg/pg_wait.h"
#include "common/shutdown.h"

namespace walcast {

Heartbeat::Heartbeat(const Config &config) : config_(config) {
    if (config_.heartbeat_interval_ms > 0) thread_ = std::thread([this] { thread_main(); });
}

Heartbeat::~Heartbeat() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Heartbeat::thread_main() {
    const ShutdownToken &token = ShutdownToken::process();
    const auto interval = std::chrono::milliseconds(config_.heartbeat_interval_ms);
    // The shutdown token is checked at least this often while waiting for the next beat.
    constexpr auto kStopCheck = std::chrono::milliseconds(200);
    auto next = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_ && !token.requested()) {
        const auto now = std::chrono::steady_clock::now();
        if (now < next) {
            wake_.wait_until(lock, std::min(next, now + kStopCheck));
            continue;
        }
        next = now + interval;
        lock.unlock();
        try {
            beat();
        } catch (const Stopped &) {
            return;  // a stop request cut a connect or query short
        }
        lock.lock();
    }
}

void Heartbeat::beat() {
    try {
        if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) conn_ = pg_connect(config_, false);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        pg_exec(conn_.get(),
                "SELECT pg_logical_emit_message(true, " + quote_literal(kHeartbeatPrefix) + ", " +
                    quote_literal(std::to_string(ms)) + ")",
                PGRES_TUPLES_OK, "heartbeat");
        if (!config_.heartbeat_action_query.empty()) {
            PgResultPtr r(pg_exec_interruptible(conn_.get(), config_.heartbeat_action_query));
            auto st = PQresultStatus(r.get());
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                throw PgError(false, "heartbeat.action.query failed: " +
                                         one_line(PQresultErrorMessage(r.get())));
        }
    } catch (const PgError &e) {
        spdlog::warn("{}", e.what());
        conn_.reset();  // reconnect next time
    }
}

}  // namespace walcast
