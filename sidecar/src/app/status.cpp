#include "app/status.h"

#include <cstdio>
#include <string>

#include "pg/pg_conn.h"
#include "pg/slot_health.h"

namespace walcast {

namespace {

std::string human_bytes(double b) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
    return buf;
}

std::string bytes_field(PGresult *r, int col) {
    if (PQgetisnull(r, 0, col)) return "n/a";
    std::string v = PQgetvalue(r, 0, col);
    return v + " bytes (" + human_bytes(std::stod(v)) + ")";
}

std::string field(PGresult *r, int col) {
    return PQgetisnull(r, 0, col) ? "n/a" : PQgetvalue(r, 0, col);
}

PgResultPtr query_slot(PGconn *conn, const std::string &slot) {
    const char *params[] = {slot.c_str()};
    // invalidation_reason: PostgreSQL 17+.
    std::string reason = PQserverVersion(conn) >= 170000 ? "invalidation_reason" : "NULL";
    PgResultPtr res(PQexecParams(
        conn,
        ("SELECT plugin, database, active, active_pid, confirmed_flush_lsn, restart_lsn, "
         "wal_status, safe_wal_size, "
         "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() - restart_lsn END, "
         "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() - confirmed_flush_lsn "
         "END, current_setting('max_slot_wal_keep_size'), " +
         reason + " FROM pg_catalog.pg_replication_slots WHERE slot_name = $1")
            .c_str(),
        1, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        throw PgError(
            true, "cannot read pg_replication_slots: " + one_line(PQresultErrorMessage(res.get())));
    return res;
}

// safe_wal_size is NULL both when max_slot_wal_keep_size is -1 and when the slot is
// already lost: only the setting tells them apart.
std::string safe_wal_size_field(PGresult *r, bool lost) {
    const std::string keep = field(r, 10);
    if (lost) return "none, the slot is lost (max_slot_wal_keep_size = " + keep + ")";
    if (!PQgetisnull(r, 0, 7)) return bytes_field(r, 7);
    if (keep == "-1") return "unlimited (max_slot_wal_keep_size = -1)";
    return "n/a (max_slot_wal_keep_size = " + keep + ")";
}

// The initial snapshot walcast has on record for the slot.
std::string snapshot_record(PGconn *conn, const std::string &slot) {
    const char *params[] = {slot.c_str()};
    PgResultPtr res(PQexecParams(
        conn,
        "SELECT CASE WHEN completed_at IS NOT NULL THEN 'completed at ' || completed_at "
        "            WHEN consistent_point = '0/0' THEN 'pending (slot being created)' "
        "            ELSE 'started at ' || started_at || ', not finished' END "
        "FROM walcast.snapshot_runs WHERE slot_name = $1",
        1, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        return "unknown (" + one_line(PQresultErrorMessage(res.get())) + ")";
    return PQntuples(res.get()) ? PQgetvalue(res.get(), 0, 0) : "none on record";
}

// The incremental snapshots walcast has on record for the slot, one line each.
std::string incremental_record(PGconn *conn, const std::string &slot) {
    const char *params[] = {slot.c_str()};
    PgResultPtr res(PQexecParams(
        conn,
        "SELECT string_agg(table_name || ': ' || chunks || ' chunks, ' || rows_read || "
        "       ' rows confirmed, ' || CASE WHEN completed_at IS NOT NULL "
        "       THEN 'completed at ' || completed_at ELSE 'requested at ' || requested_at "
        "       || ', not finished' END, E'\\n                         ' "
        "       ORDER BY requested_at, table_name) "
        "FROM walcast.incremental_snapshots WHERE slot_name = $1",
        1, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        return "unknown (" + one_line(PQresultErrorMessage(res.get())) + ")";
    return PQgetisnull(res.get(), 0, 0) ? "none on record" : PQgetvalue(res.get(), 0, 0);
}

}  // namespace

int print_status(const Config &config, std::ostream &out) {
    PgConnPtr conn = pg_connect(config, false);
    PgResultPtr res = query_slot(conn.get(), config.slot_name);
    PGresult *r = res.get();
    std::string sink = config.sink;
    if (sink == "kafka")
        sink += " (bootstrap.servers=" + config.kafka_props.at("bootstrap.servers") + ")";
    if (PQntuples(r) == 0) {
        out << "slot " << config.slot_name << " does not exist (walcast run creates it)\n"
            << "  sink:                  " << sink << "\n";
        return 1;
    }
    bool active = std::string(PQgetvalue(r, 0, 2)) == "t";
    const std::string wal_status = field(r, 6);
    const bool lost = wal_status == "lost";
    out << "slot " << config.slot_name << " (plugin " << field(r, 0) << ", database " << field(r, 1)
        << ")\n"
        << "  active:                " << (active ? "yes, pid " + field(r, 3) : "no") << "\n"
        << "  confirmed_flush_lsn:   " << field(r, 4) << "\n"
        << "  restart_lsn:           " << field(r, 5) << "\n"
        << "  retained WAL:          " << bytes_field(r, 8) << "\n"
        << "  lag (confirmed_flush): " << bytes_field(r, 9) << "\n"
        << "  wal_status:            " << wal_status
        << (PQgetisnull(r, 0, 11) ? "" : " (" + field(r, 11) + ")") << "\n"
        << "  safe_wal_size:         " << safe_wal_size_field(r, lost) << "\n"
        << "  snapshot:              " << snapshot_record(conn.get(), config.slot_name) << "\n"
        << "  incremental snapshots: " << incremental_record(conn.get(), config.slot_name) << "\n"
        << "  sink:                  " << sink << "\n";
    if (lost) {
        SlotInfo info;
        info.wal_status = wal_status;
        info.max_slot_wal_keep_size = field(r, 10);
        if (!PQgetisnull(r, 0, 11)) info.invalidation_reason = field(r, 11);
        out << "ERROR: " << describe_lost_slot(config.slot_name, info) << "\n";
        return kExitSlotLost;
    }
    if (wal_status == "unreserved")
        out << "WARNING: slot " << config.slot_name
            << " is past max_slot_wal_keep_size (wal_status unreserved): the next checkpoint "
               "invalidates it unless walcast catches up\n";
    if (!PQgetisnull(r, 0, 8) &&
        std::stod(PQgetvalue(r, 0, 8)) > static_cast<double>(config.retained_wal_warn_bytes))
        out << "WARNING: slot " << config.slot_name << " retains " << PQgetvalue(r, 0, 8)
            << " bytes of WAL, above retained.wal.warn.bytes=" << config.retained_wal_warn_bytes
            << "; is walcast running and its sink healthy?\n";
    return 0;
}

int drop_slot(const Config &config, std::ostream &out) {
    PgConnPtr conn = pg_connect(config, false);
    PgResultPtr res = query_slot(conn.get(), config.slot_name);
    if (PQntuples(res.get()) == 0) {
        out << "slot " << config.slot_name << " does not exist\n";
        return 1;
    }
    if (std::string(PQgetvalue(res.get(), 0, 2)) == "t")
        throw PgError(true, "replication slot " + config.slot_name + " is active for PID " +
                                field(res.get(), 3) + "; stop that consumer first");
    pg_exec(conn.get(), "SELECT pg_drop_replication_slot(" + quote_literal(config.slot_name) + ")",
            PGRES_TUPLES_OK, "cannot drop replication slot " + config.slot_name);
    out << "dropped slot " << config.slot_name << "\n";
    return 0;
}

}  // namespace walcast
