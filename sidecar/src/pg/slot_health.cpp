#include "pg/slot_health.h"

namespace walcast {

namespace {

std::string value(PGresult *r, int col) {
    return PQgetisnull(r, 0, col) ? std::string() : std::string(PQgetvalue(r, 0, col));
}

}  // namespace

std::optional<SlotInfo> lookup_slot(PGconn *conn, const std::string &slot) {
    // invalidation_reason appeared in PostgreSQL 17; simple query protocol so that
    // replication connections can run it too.
    const bool has_reason = PQserverVersion(conn) >= 170000;
    std::string sql =
        "SELECT plugin, slot_type, database, active_pid, confirmed_flush_lsn, wal_status, " +
        std::string(has_reason ? "invalidation_reason" : "NULL") +
        ", current_setting('max_slot_wal_keep_size') "
        "FROM pg_catalog.pg_replication_slots WHERE slot_name = " +
        quote_literal(slot);
    PgResultPtr res =
        pg_exec(conn, sql, PGRES_TUPLES_OK, "cannot look up replication slot " + slot);
    PGresult *r = res.get();
    if (PQntuples(r) == 0) return std::nullopt;
    SlotInfo info;
    info.plugin = value(r, 0);
    info.slot_type = value(r, 1);
    info.database = value(r, 2);
    if (!PQgetisnull(r, 0, 3)) info.active_pid = value(r, 3);
    info.confirmed_flush_lsn = value(r, 4);
    info.wal_status = value(r, 5);
    info.invalidation_reason = value(r, 6);
    info.max_slot_wal_keep_size = value(r, 7);
    return info;
}

std::string describe_lost_slot(const std::string &slot, const SlotInfo &info) {
    std::string why = info.invalidation_reason.empty() || info.invalidation_reason == "wal_removed"
                          ? "it fell more than max_slot_wal_keep_size (" +
                                info.max_slot_wal_keep_size +
                                ") behind and the server removed the WAL it needed"
                          : "of " + info.invalidation_reason;
    return "replication slot " + slot +
           " is lost (wal_status=lost): PostgreSQL invalidated it because " + why +
           ". The changes in that WAL can no longer be streamed, so the sink misses them. "
           "To recover: drop the slot (walcast slot drop) and run again with a new initial "
           "snapshot (snapshot.mode=initial), or set snapshot.mode=when_needed so that walcast "
           "does this by itself; consider raising max_slot_wal_keep_size";
}

bool is_slot_invalidated_error(const std::string &sqlstate, const std::string &message) {
    // PostgreSQL 13-17, SQLSTATE 55000: "cannot read from logical replication slot" or
    // "can no longer get changes from replication slot", with the detail "This slot has
    // been invalidated because ...".
    return sqlstate == "55000" && message.find("has been invalidated") != std::string::npos;
}

void drop_replication_slot(PGconn *conn, const std::string &slot) {
    pg_exec(conn, "SELECT pg_catalog.pg_drop_replication_slot(" + quote_literal(slot) + ")",
            PGRES_TUPLES_OK, "cannot drop replication slot " + slot);
}

}  // namespace walcast
