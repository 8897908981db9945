#include "pg/pg_wait.h"

#include <poll.h>

#include <chrono>

#include "common/shutdown.h"

namespace walcast {

void pg_cancel(PGconn *conn) {
    if (PGcancel *cancel = PQgetCancel(conn)) {
        char err[256];
        PQcancel(cancel, err, sizeof err);
        PQfreeCancel(cancel);
    }
}

PGconn *pg_connect_start(const char *const *keys, const char *const *values, int timeout_s) {
    PGconn *conn = PQconnectStartParams(keys, values, 1);
    if (!conn || PQstatus(conn) == CONNECTION_BAD) return conn;
    const ShutdownToken &token = ShutdownToken::process();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        const short events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        for (;;) {
            if (token.requested()) {
                PQfinish(conn);
                throw Stopped("connecting to Postgres");
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                PQfinish(conn);
                return nullptr;
            }
            if (token.wait_fd(PQsocket(conn), events, 200) != 0) break;
        }
        st = PQconnectPoll(conn);
    }
    return conn;
}

void pg_await_result(PGconn *conn, const std::string &what) {
    // A short grace after a stop request lets bookkeeping queries of the final drain
    // (recording delivered snapshot chunks) finish; anything longer is cancelled.
    constexpr auto kGrace = std::chrono::seconds(2);
    const ShutdownToken &token = ShutdownToken::process();
    std::chrono::steady_clock::time_point stop_seen{};
    for (;;) {
        if (!PQconsumeInput(conn)) return;  // the error surfaces in PQgetResult
        if (!PQisBusy(conn)) return;
        if (token.requested()) {
            const auto now = std::chrono::steady_clock::now();
            if (stop_seen == std::chrono::steady_clock::time_point{}) stop_seen = now;
            if (now - stop_seen >= kGrace) {
                pg_cancel(conn);
                throw Stopped(what);
            }
            pollfd pfd{PQsocket(conn), POLLIN, 0};
            ::poll(&pfd, 1, 100);
            continue;
        }
        token.wait_fd(PQsocket(conn), POLLIN, 1000);
    }
}

PGresult *pg_exec_interruptible(PGconn *conn, const std::string &sql,
                                const std::vector<const char *> *params) {
    const int sent = params ? PQsendQueryParams(conn, sql.c_str(), static_cast<int>(params->size()),
                                                nullptr, params->data(), nullptr, nullptr, 0)
                            : PQsendQuery(conn, sql.c_str());
    if (!sent) return nullptr;  // PQerrorMessage says why, as after a failed PQexec
    PGresult *last = nullptr;
    for (;;) {
        pg_await_result(conn, "running a query");
        PGresult *res = PQgetResult(conn);
        if (!res) return last;
        const ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            PQclear(last);
            return res;
        }
        // Like PQexec: an error result is kept over a later one.
        if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
            PQclear(res);
            continue;
        }
        PQclear(last);
        last = res;
    }
}

}  // namespace walcast
