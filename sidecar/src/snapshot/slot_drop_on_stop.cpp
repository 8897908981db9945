#include "snapshot/slot_drop_on_stop.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "config/redact.h"
#include "pg/pg_conn.h"

namespace walcast {

namespace {

struct ConnCloser {
    void operator()(PGconn *c) const { PQfinish(c); }
};
struct ResultClear {
    void operator()(PGresult *r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using Result = std::unique_ptr<PGresult, ResultClear>;

Conn connect_bounded(const Config &config) {
    std::vector<const char *> keys, values;
    for (const auto &[k, v] : config.conn_params) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    // Bounded: nothing may keep a stopped walcast from exiting for long.
    const std::pair<const char *, const char *> extra[] = {
        {"application_name", "walcast"},
        {"connect_timeout", "10"},
        {"options", "-c statement_timeout=10000"},
    };
    for (const auto &[k, v] : extra) {
        keys.push_back(k);
        values.push_back(v);
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    Conn conn(PQconnectdbParams(keys.data(), values.data(), 1));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error(conn ? redact(PQerrorMessage(conn.get())) : "out of memory");
    return conn;
}

// The single value of a one-parameter query ("" for no row); throws on an error.
std::string scalar(PGconn *conn, const char *sql, const std::string &param) {
    const char *params[] = {param.c_str()};
    Result r(PQexecParams(conn, sql, 1, nullptr, params, nullptr, nullptr, 0));
    if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK)
        throw std::runtime_error(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
    return PQntuples(r.get()) > 0 && !PQgetisnull(r.get(), 0, 0) ? PQgetvalue(r.get(), 0, 0) : "";
}

}  // namespace

void drop_slot_on_stop(const Config &config) {
    const std::string &slot = config.slot_name;
    try {
        Conn conn = connect_bounded(config);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            const std::string active = scalar(
                conn.get(),
                "SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", slot);
            if (active.empty()) {
                spdlog::info("slot.drop.on.stop: slot {} does not exist", slot);
                return;
            }
            if (active == "f") break;
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("the slot is still active");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        scalar(conn.get(), "SELECT pg_catalog.pg_drop_replication_slot($1)::text", slot);
        // The snapshot record belongs to the slot: without it the next run snapshots anew.
        if (!scalar(conn.get(), "SELECT pg_catalog.to_regclass($1)::text", "walcast.snapshot_runs")
                 .empty())
            scalar(conn.get(),
                   "WITH d AS (DELETE FROM walcast.snapshot_runs WHERE slot_name = $1 RETURNING 1) "
                   "SELECT count(*) FROM d",
                   slot);
        spdlog::info("slot.drop.on.stop: dropped slot {}; the next run starts over", slot);
    } catch (const std::exception &e) {
        spdlog::error(
            "slot.drop.on.stop: could not drop slot {} ({}); drop it with `walcast slot drop`",
            slot, redact(one_line(e.what())));
    }
}

}  // namespace walcast
