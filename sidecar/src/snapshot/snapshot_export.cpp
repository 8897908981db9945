#include "snapshot/snapshot_export.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "pg/pg_query.h"
#include "pg/pg_wait.h"
#include "common/shutdown.h"

namespace walcast {

namespace {

// Which transactions the walsender creating the slot waits for, as one log line.
std::string describe_blockers(PGconn *observer, int walsender_pid) {
    PgResultPtr res = pg_query(
        observer,
        "SELECT string_agg(format('pid %s (%s, %s, running %s s: %s)', a.pid, a.usename, a.state, "
        "round(extract(epoch FROM now() - a.xact_start)), left(a.query, 60)), '; ') "
        "FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1::int))",
        {std::to_string(walsender_pid)});
    if (PQntuples(res.get()) == 0 || PQgetisnull(res.get(), 0, 0)) return {};
    return PQgetvalue(res.get(), 0, 0);
}

// Runs CREATE_REPLICATION_SLOT on the replication connection `conn`, with `snapshot`
// ('export' or 'nothing'): logs what it waits for, gives up after timeout_ms, answers a
// stop request. Returns its result row.
PgResultPtr create_replication_slot(const Config &config, PGconn *conn,
                                    const std::string &slot_name, bool export_snapshot,
                                    std::int64_t timeout_ms) {
    const bool v15 = PQserverVersion(conn) >= 150000;
    std::string command = "CREATE_REPLICATION_SLOT " + quote_ident(slot_name) +
                          " LOGICAL walcast " +
                          (export_snapshot ? (v15 ? "(SNAPSHOT 'export')" : "EXPORT_SNAPSHOT")
                                           : (v15 ? "(SNAPSHOT 'nothing')" : "NOEXPORT_SNAPSHOT"));
    if (!PQsendQuery(conn, command.c_str()))
        throw PgError(false, "creating slot " + slot_name + ": " + one_line(PQerrorMessage(conn)));

    PgConnPtr observer = pg_connect(config, false);
    const int walsender_pid = PQbackendPID(conn);
    const auto started = std::chrono::steady_clock::now();
    std::string last_blockers;
    while (PQisBusy(conn)) {
        const ShutdownToken &token = ShutdownToken::process();
        token.wait_fd(PQsocket(conn), POLLIN, 1000);
        if (token.requested()) {
            // The slot is not created: a cancelled CREATE_REPLICATION_SLOT leaves nothing.
            pg_cancel(conn);
            throw Stopped("creating slot " + slot_name);
        }
        if (!PQconsumeInput(conn)) throw PgError(false, one_line(PQerrorMessage(conn)));
        if (!PQisBusy(conn)) break;
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
        std::string blockers = describe_blockers(observer.get(), walsender_pid);
        if (!blockers.empty() && blockers != last_blockers)
            spdlog::warn("creating slot {} waits for running transactions to finish: {}", slot_name,
                         blockers);
        last_blockers = blockers;
        if (waited > timeout_ms) {
            pg_cancel(conn);
            throw PgError(true, "creating slot " + slot_name + " waited " +
                                    std::to_string(waited / 1000) +
                                    " s for running transactions to finish (" +
                                    (blockers.empty() ? std::string("none left") : blockers) +
                                    "); end them or raise slot.create.timeout.ms");
        }
    }
    PgResultPtr res(PQgetResult(conn));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        throw pg_result_error(res.get(), conn, "creating slot " + slot_name);
    while (PgResultPtr extra{PQgetResult(conn)}) {
    }
    return res;
}

}  // namespace

Lsn create_slot_without_snapshot(const Config &config, const std::string &slot_name,
                                 std::int64_t timeout_ms) {
    PgConnPtr conn = pg_connect(config, true);
    PgResultPtr res = create_replication_slot(config, conn.get(), slot_name, false, timeout_ms);
    const Lsn point = parse_lsn(PQgetvalue(res.get(), 0, 1)).value_or(0);
    spdlog::info("created slot {} at consistent point {} without a snapshot", slot_name,
                 format_lsn(point));
    return point;
}

ExportedSnapshot ExportedSnapshot::create_slot(const Config &config, const std::string &slot_name,
                                               std::int64_t timeout_ms) {
    ExportedSnapshot snap;
    snap.holder_ = pg_connect(config, true);
    PGconn *conn = snap.holder_.get();
    PgResultPtr res = create_replication_slot(config, conn, slot_name, true, timeout_ms);
    snap.consistent_point_ = parse_lsn(PQgetvalue(res.get(), 0, 1)).value_or(0);
    snap.name_ = PQgetvalue(res.get(), 0, 2);
    spdlog::info("created slot {} at consistent point {} with exported snapshot {}", slot_name,
                 format_lsn(snap.consistent_point_), snap.name_);
    return snap;
}

ExportedSnapshot ExportedSnapshot::fresh(const Config &config) {
    ExportedSnapshot snap;
    snap.holder_ = pg_connect(config, false);
    PGconn *conn = snap.holder_.get();
    pg_query(conn, "SET idle_in_transaction_session_timeout = 0", {});
    pg_query(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {});
    snap.name_ = pg_scalar(conn, "SELECT pg_export_snapshot()");
    return snap;
}

}  // namespace walcast
