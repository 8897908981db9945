#include "incremental/incremental_snapshot.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <random>

#include "incremental/control_message.h"
#include "incremental/snapshot_request.h"
#include "pg/pg_conn.h"
#include "pg/pg_query.h"
#include "snapshot/snapshot_plan.h"
#include "snapshot/snapshot_settings.h"

namespace walcast {

namespace {

std::string random_run_id() {
    std::random_device rd;
    std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// The topic field of an E frame.
std::string frame_topic(const std::string &frame) {
    std::size_t a = frame.find('\t', frame.find('\t') + 1);
    if (a == std::string::npos) return {};
    std::size_t b = frame.find('\t', a + 1);
    return frame.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

}  // namespace

IncrementalSnapshot::IncrementalSnapshot(const Config &config, const std::atomic<bool> &stop)
    : config_(config),
      stop_(stop),
      schemas_(config.key_schemas || config.value_schemas),
      run_id_(random_run_id()) {
    encoder_options_ = snapshot_settings_from(config).encoder_options;
    encoder_options_.emplace_back("format", "frames");
    encoder_options_.emplace_back("snapshot.marker", "incremental");
}

IncrementalSnapshot::~IncrementalSnapshot() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = true;
    }
    queue_.close();
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void IncrementalSnapshot::on_event(const Frame &event) {
    if (!active_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (window_) window_->on_change(event.topic, event.key);
}

void IncrementalSnapshot::on_control(const Frame &control, std::vector<std::string> &emit) {
    ControlMessage m = parse_control_message(control.value);
    switch (m.kind) {
        case ControlMessage::Kind::kLowWatermark: {
            std::lock_guard<std::mutex> lock(mu_);
            if (window_ && m.chunk == window_chunk_) window_->open();
            return;
        }
        case ControlMessage::Kind::kHighWatermark: {
            std::lock_guard<std::mutex> lock(mu_);
            if (window_ && m.chunk == window_chunk_ && window_->is_loaded()) {
                const std::size_t read = window_->rows_read();
                emit = window_->close();
                spdlog::debug("chunk {} of {}: {} rows read, {} changed in its window", m.chunk,
                              window_->topic(), read, read - emit.size());
                if (!window_schema_.empty() && !emit.empty())
                    emit.insert(emit.begin(), window_schema_);
                last_chunk_ = window_chunk_;
                last_rows_ = emit;
                window_.reset();
                window_chunk_.clear();
                active_.store(false, std::memory_order_release);
                window_closed_ = true;
                cv_.notify_all();
            } else if (m.chunk == last_chunk_) {
                emit = last_rows_;  // read again after a reconnect: the sink may lack them
            }
            return;
        }
        case ControlMessage::Kind::kUnknown:
            spdlog::warn("walcast control message ignored ({}): {}", m.error, control.value);
            return;
        default:
            on_signal(m);
            return;
    }
}

// --- signals ---
void IncrementalSnapshot::on_signal(const ControlMessage &m) {
    switch (m.kind) {
        case ControlMessage::Kind::kExecuteSnapshot:
            if (m.snapshot_type == "blocking" && blocking_handler_) {
                blocking_handler_(m);
            } else if (m.snapshot_type != "incremental") {
                spdlog::error("snapshot signal {} of type '{}' ignored: this sidecar runs {}", m.id,
                              m.snapshot_type, "incremental snapshots only");
            } else {
                request(m);
            }
            return;
        case ControlMessage::Kind::kStopSnapshot: {
            if (m.snapshot_type != "incremental") {
                spdlog::error("stop-snapshot signal {} of type '{}' ignored", m.id,
                              m.snapshot_type);
                return;
            }
            const std::size_t dropped = queue_.stop(m.data_collections);
            spdlog::info(
                "stop-snapshot signal {}: {} queued request(s) dropped; a running "
                "table that matches stops at its next chunk",
                m.id, dropped);
            return;
        }
        case ControlMessage::Kind::kPauseSnapshot:
            queue_.pause();
            spdlog::info(
                "pause-snapshot signal {}: incremental snapshots pause before their "
                "next chunk",
                m.id);
            return;
        case ControlMessage::Kind::kResumeSnapshot:
            queue_.resume();
            spdlog::info("resume-snapshot signal {}: incremental snapshots resume", m.id);
            return;
        case ControlMessage::Kind::kLog:
            spdlog::info("log signal {}: {}", m.id, m.log_message);
            return;
        case ControlMessage::Kind::kMessageSignal:
            spdlog::warn(
                "a signal written with pg_logical_emit_message() is ignored: walcast takes "
                "signals from signal tables only (walcast.execute_snapshot(), "
                "signal.data.collection)");
            return;
        default:
            return;
    }
}

void IncrementalSnapshot::request(const ControlMessage &m) {
    std::vector<SnapshotRequest> requests;
    for (const auto &c : m.data_collections) {
        spdlog::info("incremental snapshot of {} requested (signal {})", c, m.id);
        requests.push_back({c, false, m.conditions});
    }
    queue_.push(std::move(requests));
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { reader_loop(); });
}
// --- end signals ---

void IncrementalSnapshot::reader_loop() {
    PgConnPtr conn;
    SnapshotRequest request;
    while (queue_.take(request)) {
        const std::string &collection = request.collection;
        try {
            if (!conn || PQstatus(conn.get()) != CONNECTION_OK) conn = pg_connect(config_, false);
            if (!request.resolved) {  // a signal's regex: the tables it matches, first
                queue_.push_front(resolve_collections(conn.get(), config_, request));
                continue;
            }
            queue_.start(collection);
            snapshot_table(conn.get(), request);
            queue_.start("");
        } catch (const std::exception &e) {
            queue_.start("");
            spdlog::error("incremental snapshot of {} failed: {}", collection, e.what());
            std::lock_guard<std::mutex> lock(mu_);
            window_.reset();
            active_.store(false);
            conn.reset();
        }
    }
}

bool IncrementalSnapshot::resolve(PGconn *conn, const std::string &collection, Table &table) {
    // The table, if the configured filters stream it (its events would not reach the
    // sink otherwise).
    static const char *kTable = R"SQL(
        SELECT c.oid, format('%I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname || '.' || c.relname = $1
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'walcast')
          AND ($2 = '' OR $1 ~ $2) AND ($3 = '' OR $1 !~ $3))SQL";
    PgResultPtr t = pg_query(conn, kTable,
                             {collection, anchored_list_regex(config_.get("table.include.list")),
                              anchored_list_regex(config_.get("table.exclude.list"))},
                             "finding " + collection);
    if (PQntuples(t.get()) != 1) {
        spdlog::error("incremental snapshot of {}: no such table among those streamed", collection);
        return false;
    }
    table.oid = PQgetvalue(t.get(), 0, 0);
    table.name = PQgetvalue(t.get(), 0, 1);
    static const char *kKey = R"SQL(
        SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod)
        FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord)SQL";
    PgResultPtr k = pg_query(conn, kKey, {table.oid}, "reading the primary key of " + collection);
    for (int i = 0; i < PQntuples(k.get()); i++) {
        table.key_names.emplace_back(PQgetvalue(k.get(), i, 0));
        table.key_types.emplace_back(PQgetvalue(k.get(), i, 1));
    }
    if (table.key_names.empty()) {
        spdlog::error(
            "incremental snapshot of {}: the table has no primary key; walcast reads "
            "incremental snapshots in primary-key chunks",
            collection);
        return false;
    }
    // The topic its events carry, as the encoder names it (one row is enough).
    std::vector<std::string> params = option_params("0/0");
    PgResultPtr probe = pg_query(conn, chunk_query(table, false, params.size(), 1), params,
                                 "reading the topic of " + collection);
    if (PQntuples(probe.get()) == 1) table.topic = frame_topic(PQgetvalue(probe.get(), 0, 0));
    return true;
}

std::vector<std::string> IncrementalSnapshot::option_params(const std::string &lsn) const {
    std::vector<std::string> params;
    for (const auto &[k, v] : encoder_options_) {
        params.push_back(k);
        params.push_back(v);
    }
    params.push_back("snapshot.lsn");
    params.push_back(lsn);
    return params;
}

std::string IncrementalSnapshot::chunk_query(const Table &table, bool after_cursor,
                                             std::size_t noptions, std::int64_t limit) const {
    std::string options = "ARRAY[";
    for (std::size_t i = 1; i <= noptions; i++) options += (i > 1 ? ",$" : "$") + std::to_string(i);
    options += "]::text[]";
    std::string keys, texts, cursor;
    for (std::size_t i = 0; i < table.key_names.size(); i++) {
        const std::string col = "x." + table.key_names[i];
        keys += (i ? ", " : "") + col;
        texts += ", " + col + "::text";
        cursor += (i ? ", $" : "$") + std::to_string(noptions + 1 + i) + "::" + table.key_types[i];
    }
    // With converter schemas, the R frame of the table as this statement sees it:
    // snapshot_rows() of an empty block range returns just that (an InitPlan, run once).
    std::string schema = "NULL";
    if (schemas_)
        schema = "(SELECT walcast.snapshot_rows(" + table.oid + "::oid::regclass, 0, 0, " +
                 options + ") LIMIT 1)";
    std::string sql = "SELECT walcast.snapshot_row(x.tableoid, x, " + options + "), " + schema +
                      texts + " FROM ONLY " + table.name + " x";
    if (after_cursor) sql += " WHERE (" + keys + ") > (" + cursor + ")";
    // Checked by walcast.check_snapshot_condition(), which returned it as one expression.
    if (!table.condition.empty())
        sql += std::string(after_cursor ? " AND " : " WHERE ") + "(" + table.condition + ")";
    sql += " ORDER BY " + keys + " LIMIT " + std::to_string(limit);
    return sql;
}

std::size_t IncrementalSnapshot::run_chunk(PGconn *conn, const Table &table,
                                           std::vector<std::string> &cursor,
                                           std::uint64_t chunk_no) {
    const std::string chunk = run_id_ + "-" + std::to_string(chunk_no);
    // The window exists before the low watermark is written: the stream may pass it
    // before this thread returns from the statement.
    {
        std::lock_guard<std::mutex> lock(mu_);
        window_ = std::make_unique<ChunkWindow>(table.topic);
        window_chunk_ = chunk;
        window_closed_ = false;
        active_.store(true, std::memory_order_release);
    }
    // Each statement is its own transaction: the low watermark commits before the
    // chunk's snapshot is taken, the high one after it.
    const std::string lsn = pg_scalar(conn, "SELECT pg_logical_emit_message(true, $1, $2)::text",
                                      {kControlPrefix, watermark_message(true, chunk)});
    std::vector<std::string> params = option_params(lsn);
    const std::size_t noptions = params.size();
    for (const auto &v : cursor) params.push_back(v);
    PgResultPtr rows = pg_query(
        conn, chunk_query(table, !cursor.empty(), noptions, config_.incremental_chunk_size), params,
        "reading a chunk of " + table.name);
    const int n = PQntuples(rows.get());
    std::vector<std::string> frames;
    frames.reserve(n);
    for (int i = 0; i < n; i++) frames.emplace_back(PQgetvalue(rows.get(), i, 0));
    if (n > 0) {
        cursor.clear();
        for (std::size_t k = 0; k < table.key_names.size(); k++)
            cursor.emplace_back(PQgetvalue(rows.get(), n - 1, static_cast<int>(k) + 2));
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        window_schema_ = n > 0 ? PQgetvalue(rows.get(), 0, 1) : "";
        window_->load(std::move(frames));
    }
    pg_scalar(conn, "SELECT pg_logical_emit_message(true, $1, $2)::text",
              {kControlPrefix, watermark_message(false, chunk)});
    return static_cast<std::size_t>(n);
}

bool IncrementalSnapshot::wait_closed() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!window_closed_) {
        if (quit_ || stop_) return false;
        cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
    return true;
}

void IncrementalSnapshot::snapshot_table(PGconn *conn, const SnapshotRequest &request) {
    const std::string &collection = request.collection;
    pin_catalog_search_path(conn);  // before any name is resolved or rendered
    Table table;
    const std::string filter = condition_for(request.conditions, collection);
    if (!resolve(conn, collection, table)) return;
    if (!filter.empty() && !checked_condition(conn, table.oid, collection, filter, table.condition))
        return;
    if (table.topic.empty()) {
        spdlog::info("incremental snapshot of {}: the table is empty", collection);
        return;
    }
    spdlog::info("incremental snapshot of {}: chunks of {} rows", collection,
                 config_.incremental_chunk_size);
    std::vector<std::string> cursor;
    std::uint64_t total = 0;
    for (std::uint64_t chunk_no = 0;; chunk_no++) {
        if (!queue_.before_chunk(stop_)) {  // stop-snapshot, or paused until quitting
            spdlog::info("incremental snapshot of {} stopped after {} rows", collection, total);
            return;
        }
        std::size_t n = run_chunk(conn, table, cursor, chunk_no);
        if (!wait_closed()) return;
        total += n;
        if (n < static_cast<std::size_t>(config_.incremental_chunk_size)) break;
    }
    spdlog::info("incremental snapshot of {} done: {} rows read", collection, total);
}

}  // namespace walcast
