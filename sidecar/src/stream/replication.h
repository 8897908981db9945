// The logical replication session on libpq (`replication=database`): slot
// set-up, START_REPLICATION with the plugin options, and the CopyBoth stream
// (XLogData and keepalives in, standby status updates out).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "pg/lsn.h"
#include "pg/pg_conn.h"

namespace walcast {

struct PqFreeDeleter {
    void operator()(char *p) const { PQfreemem(p); }
};

// One message of the CopyBoth stream. `data` points into `buffer`.
struct CopyMessage {
    enum class Kind { kXLogData, kKeepalive } kind = Kind::kKeepalive;
    Lsn data_start = 0;
    Lsn wal_end = 0;
    bool reply_requested = false;
    std::string_view data;  // XLogData payload: one plugin frame
    std::unique_ptr<char, PqFreeDeleter> buffer;
};

// An error the plugin raises on purpose and would raise again at the same position
// after every reconnect: an event over event.max.bytes (SQLSTATE 54000) or two tables
// mapping to one topic (42710). Retrying would loop forever; the run ends instead.
class PluginRefusedError : public PgError {
public:
    PluginRefusedError(const std::string &msg, int exit_code)
        : PgError(true, msg), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

class ReplicationStream {
public:
    // Connects and runs IDENTIFY_SYSTEM. Throws PgError.
    explicit ReplicationStream(const Config &config);

    // Checks the slot (plugin, database, not active, not lost: SlotLostError) and
    // creates it when missing and slot.create=true (a snapshot mode made the slot
    // with its snapshot already: a missing one is then a SlotLostError). Returns the slot's
    // confirmed_flush_lsn (the consistent point of a new slot). Throws PgError (fatal for
    // configuration problems).
    Lsn prepare_slot();
    // START_REPLICATION from the slot's confirmed position with the plugin options.
    void start();

    enum class ReadStatus { kMessage, kWouldBlock, kEnded };
    // Non-blocking: returns kWouldBlock when no complete message is buffered
    // (wait on socket() then call again). Throws PgError on a lost connection.
    ReadStatus read(CopyMessage &out);
    // Standby status update: write = received, flush = apply = acknowledged.
    void send_status(Lsn write, Lsn flush, bool reply_requested = false);
    // Ends the copy stream politely (after the final status update).
    void finish();

    int socket() const { return PQsocket(conn_.get()); }
    const std::string &database() const { return dbname_; }
    Lsn server_wal_position() const { return xlogpos_; }

private:
    [[noreturn]] void fail_start(PGresult *res);

    const Config &config_;
    PgConnPtr conn_;
    std::string dbname_;
    Lsn xlogpos_ = 0;
};

// Microseconds since 2000-01-01, the Postgres epoch used on the wire.
std::int64_t pg_now_us();

}  // namespace walcast
