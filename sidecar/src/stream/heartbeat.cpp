#include "stream/heartbeat.h"

#include <spdlog/spdlog.h>

#include <string>

#include "pg/pg_wait.h"

namespace walcast {

void Heartbeat::tick() {
    if (config_.heartbeat_interval_ms <= 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::milliseconds(config_.heartbeat_interval_ms);
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
