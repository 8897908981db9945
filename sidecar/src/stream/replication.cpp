#include "stream/replication.h"

#include "pg/slot_health.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

#include <poll.h>

#include "pg/pg_wait.h"
#include "common/shutdown.h"

namespace walcast {

namespace {

std::uint64_t read_u64(const char *p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

void write_u64(char *p, std::uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        p[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
}

bool contains(const std::string &s, const char *needle) {
    return s.find(needle) != std::string::npos;
}

// Turns the server's message about the output plugin into one that says what to change.
std::string explain_plugin_error(const std::string &msg) {
    if (contains(msg, "output_plugin_libraries") ||
        contains(msg, "may not be used as an output plugin"))
        return "the server does not allow the walcast output plugin: add walcast to "
               "output_plugin_libraries in postgresql.conf (e.g. output_plugin_libraries = "
               "'pgoutput, test_decoding, walcast') and reload (server said: " +
               msg + ")";
    if (contains(msg, "could not access file") && contains(msg, "walcast"))
        return "the walcast output plugin is not installed on the server: run `make install` "
               "on the database host (server said: " +
               msg + ")";
    return msg;
}

// Errors the plugin raises for an event it will refuse again after any reconnect.
void throw_if_plugin_refused(const std::string &sqlstate, const std::string &msg) {
    if (sqlstate.rfind("54", 0) == 0)  // program_limit_exceeded: event.max.bytes
        throw PluginRefusedError(
            "the plugin refused an event for good: " + msg +
                "; exclude the column (column.exclude.list) or the table (table.exclude.list), "
                "or raise event.max.bytes; the slot stays before the event",
            kExitPoisonEvent);
    if (sqlstate == "42710")  // duplicate_object: two tables, one topic
        throw PluginRefusedError("the plugin refused to mix two tables in one topic: " + msg +
                                     "; exclude one of them with table.exclude.list",
                                 kExitConfig);
}

}  // namespace

std::int64_t pg_now_us() {
    using namespace std::chrono;
    constexpr std::int64_t kPgEpochOffsetUs = 946684800LL * 1000000;  // 1970 -> 2000
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() -
           kPgEpochOffsetUs;
}

ReplicationStream::ReplicationStream(const Config &config) : config_(config) {
    conn_ = pg_connect(config, true);
    PgResultPtr res = pg_exec(conn_.get(), "IDENTIFY_SYSTEM", PGRES_TUPLES_OK, "IDENTIFY_SYSTEM");
    if (PQntuples(res.get()) != 1 || PQnfields(res.get()) < 4)
        throw PgError(false, "IDENTIFY_SYSTEM returned an unexpected result");
    xlogpos_ = parse_lsn(PQgetvalue(res.get(), 0, 2)).value_or(0);
    dbname_ = PQgetvalue(res.get(), 0, 3);
    if (dbname_.empty())
        throw PgError(true, "the connection is not bound to a database; set database.dbname");
    spdlog::debug("connected: system {} timeline {} wal {} database {}",
                  PQgetvalue(res.get(), 0, 0), PQgetvalue(res.get(), 0, 1), format_lsn(xlogpos_),
                  dbname_);
}

Lsn ReplicationStream::prepare_slot() {
    const std::string &slot = config_.slot_name;
    std::optional<SlotInfo> info = lookup_slot(conn_.get(), slot);
    if (!info) {
        // With a snapshot mode the slot was made with its snapshot before streaming began:
        // if it is gone now, a new one would silently skip every change in between.
        if (config_.snapshot_mode != "no_data" && config_.snapshot_mode != "never")
            throw SlotLostError("replication slot " + slot +
                                " no longer exists (dropped while walcast ran?): a slot created "
                                "now would miss the changes since. Run walcast again: it creates "
                                "the slot with a new initial snapshot (snapshot.mode=when_needed "
                                "does this by itself)");
        if (!config_.slot_create)
            throw PgError(true, "replication slot " + slot +
                                    " does not exist and slot.create=false; create it or set "
                                    "slot.create=true");
        PgResultPtr created(pg_exec_interruptible(
            conn_.get(), "CREATE_REPLICATION_SLOT " + quote_ident(slot) + " LOGICAL walcast"));
        if (PQresultStatus(created.get()) != PGRES_TUPLES_OK) {
            std::string msg = one_line(PQresultErrorMessage(created.get()));
            throw PgError(
                true, "cannot create replication slot " + slot + ": " + explain_plugin_error(msg));
        }
        spdlog::info("created slot {} (plugin walcast) at {} in database {}", slot,
                     PQgetvalue(created.get(), 0, 1), dbname_);
        return parse_lsn(PQgetvalue(created.get(), 0, 1)).value_or(0);
    }
    if (info->slot_type != "logical" || info->plugin != "walcast")
        throw PgError(true, "replication slot " + slot + " uses plugin '" + info->plugin +
                                "', not walcast; drop it or choose another slot.name");
    if (info->database != dbname_)
        throw PgError(true, "replication slot " + slot + " belongs to database " + info->database +
                                ", not " + dbname_ + "; choose another slot.name");
    // Invalidated: the WAL it needs is gone; retrying would only hide the loss.
    if (info->lost()) throw SlotLostError(describe_lost_slot(slot, *info));
    if (info->active_pid)
        throw PgError(true, "replication slot " + slot + " is active for PID " + *info->active_pid +
                                "; stop the other consumer or choose another slot.name");
    spdlog::info("using slot {} (confirmed_flush_lsn {}, wal_status {})", slot,
                 info->confirmed_flush_lsn, info->wal_status);
    return parse_lsn(info->confirmed_flush_lsn).value_or(0);
}

void ReplicationStream::start() {
    std::string cmd = "START_REPLICATION SLOT " + quote_ident(config_.slot_name) + " LOGICAL 0/0 (";
    bool first = true;
    for (const auto &[name, value] : config_.plugin_options) {
        cmd += (first ? "" : ", ") + quote_ident(name) + " " + quote_literal(value);
        first = false;
    }
    cmd += ")";
    spdlog::debug("{}", cmd);
    PgResultPtr res(pg_exec_interruptible(conn_.get(), cmd));
    if (PQresultStatus(res.get()) != PGRES_COPY_BOTH) fail_start(res.get());
    spdlog::info("streaming slot {} of database {} with format=frames", config_.slot_name, dbname_);
}

void ReplicationStream::fail_start(PGresult *res) {
    std::string msg = one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_.get()));
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string state = st ? st : "";
    if (state == "55006") {
        // "replication slot "x" is active for PID 123": keep the PID, say what to do.
        auto pid_at = msg.find("PID ");
        std::string pid = pid_at == std::string::npos ? "?" : msg.substr(pid_at + 4);
        throw PgError(true, "replication slot " + config_.slot_name + " is active for PID " + pid +
                                "; stop the other consumer or choose another slot.name");
    }
    if (is_slot_invalidated_error(state, msg))
        throw SlotLostError("replication slot " + config_.slot_name +
                            " is lost: the server refused to stream it (" + msg +
                            "); drop it (walcast slot drop) and run again with a new initial "
                            "snapshot, or set snapshot.mode=when_needed");
    bool transient = state.empty() || state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0;
    throw PgError(!transient, "START_REPLICATION failed: " + explain_plugin_error(msg));
}

ReplicationStream::ReadStatus ReplicationStream::read(CopyMessage &out) {
    char *buf = nullptr;
    int len = PQgetCopyData(conn_.get(), &buf, 1);
    if (len == 0) {
        // Nothing buffered: pull what the socket has and try once more.
        if (!PQconsumeInput(conn_.get()))
            throw PgError(false,
                          "replication connection lost: " + one_line(PQerrorMessage(conn_.get())));
        len = PQgetCopyData(conn_.get(), &buf, 1);
        if (len == 0) return ReadStatus::kWouldBlock;
    }
    if (len == -1) {
        // The server ended the stream (shutdown, or an error raised by the plugin).
        PgResultPtr res(PQgetResult(conn_.get()));
        if (res && PQresultStatus(res.get()) == PGRES_FATAL_ERROR) {
            const char *st = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
            std::string msg = one_line(PQresultErrorMessage(res.get()));
            if (is_slot_invalidated_error(st ? st : "", msg))
                throw SlotLostError("replication slot " + config_.slot_name +
                                    " was invalidated while streaming (" + msg + ")");
            throw_if_plugin_refused(st ? st : "", msg);
            throw PgError(false, "replication stream ended: " + explain_plugin_error(msg));
        }
        return ReadStatus::kEnded;
    }
    if (len < 0)
        throw PgError(false,
                      "replication connection lost: " + one_line(PQerrorMessage(conn_.get())));
    out.buffer.reset(buf);
    if (buf[0] == 'w' && len >= 25) {
        out.kind = CopyMessage::Kind::kXLogData;
        out.data_start = read_u64(buf + 1);
        out.wal_end = read_u64(buf + 9);
        out.reply_requested = false;
        out.data = std::string_view(buf + 25, static_cast<std::size_t>(len - 25));
        return ReadStatus::kMessage;
    }
    if (buf[0] == 'k' && len >= 18) {
        out.kind = CopyMessage::Kind::kKeepalive;
        out.wal_end = read_u64(buf + 1);
        out.reply_requested = buf[17] != 0;
        out.data = {};
        return ReadStatus::kMessage;
    }
    throw PgError(false, std::string("unexpected replication message type '") + buf[0] + "'");
}

void ReplicationStream::send_status(Lsn write, Lsn flush, bool reply_requested) {
    char msg[34];
    msg[0] = 'r';
    write_u64(msg + 1, write);
    write_u64(msg + 9, flush);
    write_u64(msg + 17, flush);  // apply = flush: we apply nothing beyond what we hold
    write_u64(msg + 25, static_cast<std::uint64_t>(pg_now_us()));
    msg[33] = reply_requested ? 1 : 0;
    if (PQputCopyData(conn_.get(), msg, sizeof msg) <= 0 || PQflush(conn_.get()) != 0)
        throw PgError(false, "cannot send status update: " + one_line(PQerrorMessage(conn_.get())));
}

void ReplicationStream::finish() {
    if (PQputCopyEnd(conn_.get(), nullptr) <= 0) return;
    PQflush(conn_.get());
    // Wait briefly for the server's CopyDone so the last status update is
    // surely processed; the connection is closed afterwards either way.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
        char *buf = nullptr;
        int len = PQgetCopyData(conn_.get(), &buf, 1);
        if (buf) PQfreemem(buf);
        if (len < 0) break;
        if (len == 0) {
            pollfd pfd{socket(), POLLIN, 0};  // runs after a stop request: no token here
            ::poll(&pfd, 1, 100);
            if (!PQconsumeInput(conn_.get())) break;
        }
    }
}

}  // namespace walcast
