// A replication slot PostgreSQL has invalidated (wal_status 'lost'): its WAL is gone,
// so nothing can stream from it again. This is a fatal state of its own, with an
// exit code of its own, never something to retry.
#pragma once

#include <libpq-fe.h>

#include <optional>
#include <string>

#include "pg/pg_conn.h"

namespace walcast {

// `walcast run` and `walcast status` exit with this code when the slot is lost.
constexpr int kExitSlotLost = 3;

class SlotLostError : public PgError {
public:
    explicit SlotLostError(const std::string &msg) : PgError(true, msg) {}
};

// The slot as pg_replication_slots shows it (any connection kind: simple queries only).
struct SlotInfo {
    std::string plugin;
    std::string slot_type;
    std::string database;
    std::optional<std::string> active_pid;
    std::string confirmed_flush_lsn;
    std::string wal_status;           // reserved, extended, unreserved, lost ("" if NULL)
    std::string invalidation_reason;  // PostgreSQL 17+, else ""
    std::string max_slot_wal_keep_size;
    bool lost() const { return wal_status == "lost"; }
};

// Looks the slot up; nullopt when it does not exist. Throws PgError.
std::optional<SlotInfo> lookup_slot(PGconn *conn, const std::string &slot);

// What happened to a lost slot and what to do, for logs and errors.
std::string describe_lost_slot(const std::string &slot, const SlotInfo &info);

// Whether an error of START_REPLICATION or of the stream says the slot is invalidated.
bool is_slot_invalidated_error(const std::string &sqlstate, const std::string &message);

// Drops the slot by name (pg_drop_replication_slot). Throws PgError.
void drop_replication_slot(PGconn *conn, const std::string &slot);

}  // namespace walcast
