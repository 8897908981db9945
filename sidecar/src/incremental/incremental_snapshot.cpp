#include "incremental/incremental_snapshot.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <algorithm>
#include <random>

#include "common/frame_error.h"
#include "incremental/control_message.h"
#include "incremental/snapshot_request.h"
#include "pg/pg_conn.h"
#include "pg/pg_pipeline.h"
#include "pg/pg_query.h"
#include "pg/lsn.h"
#include "snapshot/snapshot_batch.h"
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

// The key columns of alias x, each followed by suffix: "x.a<suffix>, x.b<suffix>".
std::string key_columns(const std::vector<std::string> &names, const char *suffix) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); i++) out += (i ? ", x." : "x.") + names[i] + suffix;
    return out;
}

// Parameters for one key value each, from $next on: "$3::bigint, $4::text".
std::string key_params(const std::vector<std::string> &types, std::size_t &next) {
    std::string out;
    for (std::size_t i = 0; i < types.size(); i++)
        out += (i ? ", $" : "$") + std::to_string(next++) + "::" + types[i];
    return out;
}

// Adds `(predicate)` to a WHERE clause being built, with AND after the first.
void and_where(std::string &where, const std::string &predicate) {
    where += (where.empty() ? " WHERE (" : " AND (") + predicate + ")";
}

// One chunk, in one statement (so one snapshot, held for that statement only):
// walcast.snapshot_key_range() gives the chunk's template, its rows many to a value and
// `K\t<last key read>` (in the target list its values stream); pg_current_snapshot() the
// transactions the read saw. Parameters: chunk_params().
const char *const kChunkQuery =
    "SELECT walcast.snapshot_key_range($1::oid::regclass, $2::text[], $3::text[], $4::bigint, "
    "$5::text[] || ARRAY['snapshot.lsn', coalesce(NULLIF($7, ''), "
    "pg_catalog.current_setting('walcast_incremental.low_watermark'))], NULLIF($6, '')), "
    "pg_catalog.pg_current_snapshot()::text";
// kChunkQuery as prepared on each reader's session.
const char *const kChunkStatement = "incremental_chunk";
// The table's boundary query (boundary_sql) as prepared on each reader's session.
const char *const kBoundaryStatement = "incremental_boundary";
// The value of snapshot_key_range() that holds the last key read.
constexpr std::string_view kLastKeyPrefix = "K\t";
// Where the session keeps its last low watermark's position (the chunk's snapshot.lsn).
const char *const kLowWatermarkSetting = "walcast_incremental.low_watermark";

// How often a running table's progress is logged.
constexpr int kProgressIntervalMs = 10000;
// Closed chunks awaiting the sink's confirmation, per reader: only their ranges are kept
// (their rows wait in the sink, whose own bounds stop the stream, and so the readers, when
// it stalls). The bound is what a reconnect may read again; it spans more than a sink's
// confirmation interval (a file sink syncs every 100 ms), so readers do not wait for it.
constexpr std::size_t kMaxUnconfirmedPerReader = 256;
// Open windows per reader: the chunk the server reads, the one this thread loads meanwhile,
// and the one whose high watermark the stream has yet to reach, so a reader does not wait
// for the stream between its chunks.
constexpr std::size_t kWindowsPerReader = 3;

// Watermarks in one statement, so one transaction, in order (a target list runs left to
// right; the positions returned prove it). A low watermark's position is also kept in the
// session (kLowWatermarkSetting) for the read that follows it in the same pipeline.
// `pattern`: the kinds of the marks in order, 'h' (high) or 'l' (low); parameters: the
// control prefix, then each mark's message.
std::string watermarks_sql(const std::string &pattern) {
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < pattern.size(); i++) {
        const std::string emit =
            "pg_catalog.pg_logical_emit_message(true, $1, $" + std::to_string(i + 2) + ")::text";
        sql += i ? ", " : "";
        const bool last_low = i + 1 == pattern.size() && pattern[i] == 'l';
        sql += last_low ? std::string("pg_catalog.set_config('") + kLowWatermarkSetting + "', " +
                              emit + ", false)"
                        : emit;
    }
    return sql;
}

// The patterns a reader writes: a first chunk's low watermark, a chunk's high with the
// next one's low, a last chunk's high. Each is prepared on the reader's session.
const char *const kWatermarkPatterns[] = {"l", "hl", "h"};

std::string watermarks_statement_name(const std::string &pattern) {
    return "incremental_watermarks_" + pattern;
}

PipelinedStatement watermarks_statement(const std::vector<std::pair<bool, std::string>> &marks) {
    PipelinedStatement st;
    st.params.push_back(kControlPrefix);
    std::string pattern;
    for (const auto &[low, chunk] : marks) {
        st.params.push_back(watermark_message(low, chunk));
        pattern += low ? 'l' : 'h';
    }
    st.prepared = watermarks_statement_name(pattern);
    return st;
}

// Whether a value of snapshot_key_range() is the one holding the last key read.
bool is_last_key(std::string_view value) {
    return value.substr(0, kLastKeyPrefix.size()) == kLastKeyPrefix;
}

// Prepares a reader session's statements: a chunk costs the server no parsing and no
// planning of them.
void prepare_reader_statements(PGconn *conn) {
    pg_query(conn, std::string("PREPARE ") + kChunkStatement + " AS " + kChunkQuery, {},
             "preparing the chunk query");
    for (const char *pattern : kWatermarkPatterns)
        pg_query(conn,
                 "PREPARE " + watermarks_statement_name(pattern) + " AS " + watermarks_sql(pattern),
                 {}, "preparing the watermark statements");
}

}  // namespace

IncrementalSnapshot::IncrementalSnapshot(const Config &config, const std::atomic<bool> &stop,
                                         Registry *metrics)
    : config_(config),
      stop_(stop),
      run_id_(random_run_id()),
      threads_(std::max(1, config.snapshot_max_threads)),
      progress_(metrics, kProgressIntervalMs) {
    std::vector<std::string> options;
    for (const auto &[k, v] : snapshot_settings_from(config).encoder_options) {
        options.push_back(k);
        options.push_back(v);
    }
    // Rows come as `<key>\t<after>`; the envelope comes once per chunk (its template).
    for (const char *o :
         {"format", "frames", "snapshot.marker", "incremental", "snapshot.compact", "true"})
        options.emplace_back(o);
    encoder_options_ = text_array_literal(options);
}

IncrementalSnapshot::~IncrementalSnapshot() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool IncrementalSnapshot::stopping() const { return quit_ || stop_; }

void IncrementalSnapshot::on_event(const Frame &event) {
    if (!active_.load(std::memory_order_acquire) && !keeping_.load(std::memory_order_acquire))
        return;
    std::lock_guard<std::mutex> lock(mu_);
    windows_.on_change(event.topic, event.key, static_cast<std::uint32_t>(event.xid));
}

void IncrementalSnapshot::on_control(const Frame &control, std::shared_ptr<const RowBlock> &emit) {
    ControlMessage m = parse_control_message(control.value);
    switch (m.kind) {
        case ControlMessage::Kind::kLowWatermark: {
            std::lock_guard<std::mutex> lock(mu_);
            windows_.open(m.chunk);
            return;
        }
        case ControlMessage::Kind::kHighWatermark: {
            std::lock_guard<std::mutex> lock(mu_);
            // control.commit_lsn: where the high watermark's transaction ends, the
            // position the sink must confirm before the chunk counts as done.
            std::optional<WindowSet::Closed> closed = windows_.close(m.chunk, control.commit_lsn);
            if (!closed) return;
            if (!closed->rows.empty())
                emit =
                    chunk_row_block(*closed->event_template, std::move(closed->rows),
                                    config_.key_schemas, config_.value_schemas, unix_micros_now());
            if (closed->read)
                spdlog::debug("chunk {} of {}: {} rows read, {} changed in its window", m.chunk,
                              closed->topic, closed->read, closed->read - closed->kept);
            windows_changed_locked();
            cv_.notify_all();
            return;
        }
        case ControlMessage::Kind::kUnknown:
            spdlog::warn("walcast control message ignored ({}): {}", m.error, control.value);
            return;
        default:
            on_signal(m, control.end_lsn);
            return;
    }
}

// --- signals ---
void IncrementalSnapshot::on_signal(const ControlMessage &m, Lsn signal_lsn) {
    switch (m.kind) {
        case ControlMessage::Kind::kExecuteSnapshot:
            if (m.snapshot_type == "blocking" && blocking_handler_) {
                blocking_handler_(m);
            } else if (m.snapshot_type != "incremental") {
                spdlog::error("snapshot signal {} of type '{}' ignored: this sidecar runs {}", m.id,
                              m.snapshot_type, "incremental snapshots only");
            } else {
                request(m, signal_lsn);
            }
            return;
        case ControlMessage::Kind::kStopSnapshot:
            if (m.snapshot_type != "incremental") {
                spdlog::error("stop-snapshot signal {} of type '{}' ignored", m.id,
                              m.snapshot_type);
                return;
            }
            stop_snapshots(m);
            return;
        case ControlMessage::Kind::kPauseSnapshot: {
            std::lock_guard<std::mutex> lock(mu_);
            paused_ = true;
            spdlog::info(
                "pause-snapshot signal {}: incremental snapshots pause before their "
                "next chunk",
                m.id);
            return;
        }
        case ControlMessage::Kind::kResumeSnapshot: {
            std::lock_guard<std::mutex> lock(mu_);
            paused_ = false;
            cv_.notify_all();
            spdlog::info("resume-snapshot signal {}: incremental snapshots resume", m.id);
            return;
        }
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

PGconn *IncrementalSnapshot::signal_connection() {
    if (signal_conn_ && PQstatus(signal_conn_.get()) == CONNECTION_OK) return signal_conn_.get();
    signal_store_.reset();
    // Thrown on failure: the session ends before the signal's transaction is acknowledged,
    // so the slot sends the signal again after the reconnect.
    signal_conn_ = pg_connect(config_, false);
    pin_catalog_search_path(signal_conn_.get());
    signal_store_ = std::make_unique<IncrementalStore>(signal_conn_.get(), config_.slot_name);
    if (!signal_store_->usable()) {
        spdlog::warn(
            "walcast.incremental_snapshots is missing or not writable: incremental "
            "snapshots are not recorded and a restart forgets them (docs/security.md)");
        signal_store_.reset();
    }
    return signal_conn_.get();
}

void IncrementalSnapshot::stop_snapshots(const ControlMessage &m) {
    auto matches = [&](const std::string &table) {
        if (m.data_collections.empty()) return true;
        for (const auto &p : m.data_collections)
            if (collection_matches(p, table)) return true;
        return false;
    };
    std::vector<IncrementalRecord> dropped;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = queue_.begin(); it != queue_.end();) {
            if (matches(it->table)) {
                dropped.push_back(std::move(*it));
                it = queue_.erase(it);
            } else {
                ++it;
            }
        }
        progress_.set_tables_remaining(queue_.size() + (current_ ? 1 : 0));
        if (current_ && matches(current_->record.table)) {
            current_->stopped = true;
            cv_.notify_all();
        }
    }
    // A stopped request is over: a restart must not resume it.
    if (!dropped.empty()) signal_connection();
    for (const IncrementalRecord &r : dropped)
        if (signal_store_) signal_store_->complete(r.table, r.requested);
    spdlog::info(
        "stop-snapshot signal {}: {} queued request(s) dropped; a running table that matches "
        "stops at its next chunk",
        m.id, dropped.size());
}

void IncrementalSnapshot::on_session_start() {
    std::lock_guard<std::mutex> lock(mu_);
    // After a reconnect the stream starts again at the slot's confirmed position: chunks
    // closed in the last session but not confirmed may not be in the sink. They are read
    // again (their rows are not kept); their old high watermarks now match nothing.
    const Lsn ack = acked_.load(std::memory_order_acquire);
    for (auto it = unconfirmed_.begin(); it != unconfirmed_.end();) {
        std::optional<Lsn> end = windows_.closed_at(it->id);
        if (!end || *end <= ack || it->range.through.empty() || !current_) {
            ++it;
            continue;
        }
        spdlog::info("incremental snapshot: chunk {} is read again after the reconnect", it->id);
        windows_.remove(it->id);
        current_->planner->redo(it->range);
        it = unconfirmed_.erase(it);
    }
    windows_changed_locked();
    cv_.notify_all();  // readers waiting for room: the chunks read again left some
    // From the first session on the slot exists, so watermarks reach the stream: the
    // snapshots on record can continue.
    start_thread_locked();
}

void IncrementalSnapshot::on_acknowledged(Lsn ack) {
    if (ack <= acked_.load(std::memory_order_relaxed)) return;
    acked_.store(ack, std::memory_order_release);
    if (active_.load(std::memory_order_acquire)) cv_.notify_all();
}

void IncrementalSnapshot::windows_changed_locked() {
    active_.store(!windows_.empty(), std::memory_order_release);
    progress_.set_in_flight(static_cast<int>(windows_.in_flight()));
}

void IncrementalSnapshot::request(const ControlMessage &m, Lsn signal_lsn) {
    // Resolved and recorded before the pipeline acknowledges the signal's transaction: a
    // crash after this point finds the request on record; before it, or if this throws,
    // the slot sends the signal again.
    PGconn *conn = signal_connection();
    std::vector<IncrementalRecord> records;
    for (const auto &c : m.data_collections) {
        spdlog::info("incremental snapshot of {} requested (signal {})", c, m.id);
        for (const SnapshotRequest &t :
             resolve_collections(conn, config_, {c, false, m.conditions})) {
            IncrementalRecord r;
            r.table = t.collection;
            r.requested = signal_lsn;
            r.condition = condition_for(m.conditions, t.collection);
            if (signal_store_ && !signal_store_->request(r)) {
                spdlog::info("incremental snapshot of {} requested at {}: on record already",
                             r.table, format_lsn(signal_lsn));
                continue;
            }
            records.push_back(std::move(r));
        }
    }
    // A lost connection made the resolution find nothing: end the session, so the slot
    // sends the signal again, rather than forget the request.
    if (PQstatus(conn) != CONNECTION_OK)
        throw PgError(false, "the connection resolving snapshot signal " + m.id + " was lost");
    std::lock_guard<std::mutex> lock(mu_);
    for (IncrementalRecord &r : records) enqueue_locked(std::move(r));
    start_thread_locked();
    cv_.notify_all();
}

void IncrementalSnapshot::enqueue_locked(IncrementalRecord record) {
    for (const auto &q : queue_)
        if (q.table == record.table && q.requested == record.requested) return;
    queue_.push_back(std::move(record));
    progress_.set_tables_remaining(queue_.size());
}

void IncrementalSnapshot::start_thread_locked() {
    if (started_) return;
    started_ = true;
    thread_ = std::thread([this] { coordinator_loop(); });
}

void IncrementalSnapshot::coordinator_loop() {
    PgConnPtr conn;
    std::unique_ptr<IncrementalStore> store;
    bool resumed = false;
    for (;;) {
        try {
            if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
                conn = pg_connect(config_, false);
                pin_catalog_search_path(conn.get());
                store = std::make_unique<IncrementalStore>(conn.get(), config_.slot_name);
                if (!store->usable()) store.reset();
            }
            if (!resumed && store) {
                for (IncrementalRecord &r : store->unfinished()) {
                    if (r.chunks > 0)
                        spdlog::info(
                            "incremental snapshot of {} resumes after chunk {} ({} rows on "
                            "record)",
                            r.table, r.chunks, r.rows);
                    else
                        spdlog::info("incremental snapshot of {} on record: starting it", r.table);
                    std::lock_guard<std::mutex> lock(mu_);
                    enqueue_locked(std::move(r));
                }
            }
            resumed = true;
        } catch (const std::exception &e) {
            spdlog::error("incremental snapshots: {}", e.what());
            conn.reset();
            store.reset();
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping(); });
            if (stopping()) return;
            continue;
        }
        IncrementalRecord record;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return stopping() || !queue_.empty(); });
            if (stopping()) return;
            record = queue_.front();
            queue_.pop_front();
            progress_.set_tables_remaining(queue_.size() + 1);  // with the running one
        }
        try {
            snapshot_table(record, store.get());
        } catch (const std::exception &e) {
            spdlog::error("incremental snapshot of {} failed: {}", record.table, e.what());
            conn.reset();
            store.reset();
        }
        std::lock_guard<std::mutex> lock(mu_);
        progress_.set_tables_remaining(queue_.size());
    }
}

void IncrementalSnapshot::snapshot_table(IncrementalRecord record, IncrementalStore *store) {
    std::vector<PgConnPtr> conns(static_cast<std::size_t>(threads_));
    // Reader sessions resolve names in pg_catalog only (what a checked condition names).
    auto connect = [&] {
        PgConnPtr c = pg_connect(config_, false);
        pin_catalog_search_path(c.get());
        prepare_reader_statements(c.get());
        return c;
    };
    for (auto &c : conns) c = connect();
    auto run = std::make_unique<TableRun>();
    run->record = record;
    if (!resolve(conns[0].get(), record.table, run->table) ||
        (!record.condition.empty() &&
         !checked_condition(conns[0].get(), run->table.oid, record.table, record.condition,
                            run->table.condition))) {
        if (store) store->complete(record.table, record.requested);
        return;
    }
    if (run->table.topic.empty()) {
        spdlog::info("incremental snapshot of {}: the table is empty", record.table);
        if (store) store->complete(record.table, record.requested);
        return;
    }
    for (auto &c : conns) prepare_boundary(c.get(), run->table);
    spdlog::info("incremental snapshot of {}: chunks of {} rows, {} in flight at most",
                 record.table, config_.incremental_chunk_size, kWindowsPerReader * threads_);
    run->planner = std::make_unique<ChunkPlanner>(record.chunks, record.last_key);
    FinishedPrefix prefix(record.chunks, record.last_key);
    progress_.start_table(record.table, run->table.estimated_rows, record.rows);

    {
        std::lock_guard<std::mutex> lock(mu_);
        current_ = run.get();
        windows_.keep_changes_of(run->table.topic);
        keeping_.store(true, std::memory_order_release);
    }
    std::vector<std::thread> readers;
    auto start_readers = [&] {
        for (auto &t : readers) t.join();
        readers.clear();
        run->readers_left = threads_;
        for (auto &c : conns) {
            if (PQstatus(c.get()) != CONNECTION_OK) {
                c = connect();
                prepare_boundary(c.get(), run->table);
            }
            readers.emplace_back([this, &run, conn = c.get()] {
                reader(*run, conn);
                run->readers_left--;
                cv_.notify_all();
            });
        }
    };
    start_readers();
    std::uint64_t chunks = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait_for(lock, std::chrono::milliseconds(200));
        }
        // Confirmed chunks move the recorded prefix (in chunk order: several readers
        // finish out of order).
        for (Unconfirmed &c : take_confirmed()) {
            progress_.chunk_confirmed(c.rows);
            chunks++;
            if (std::optional<FinishedPrefix::Advance> adv =
                    prefix.confirmed(c.range.no, c.range.through, c.rows)) {
                run->record.chunks = adv->chunks;
                run->record.last_key = adv->last_key;
                run->record.rows += adv->rows;
                if (store) store->advance(run->record);
            }
        }
        progress_.report();
        if (run->readers_left > 0) continue;
        if (stopping() || run->failed || run->stopped) break;
        // Chunks to read again after a reconnect, once the readers ran out of ranges.
        if (run->planner->has_redo()) {
            start_readers();
            continue;
        }
        std::lock_guard<std::mutex> lock(mu_);
        if (unconfirmed_.empty()) break;
    }
    for (auto &t : readers) t.join();
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (const Unconfirmed &c : unconfirmed_) windows_.remove(c.id);
        unconfirmed_.clear();
        current_ = nullptr;
        keeping_.store(false, std::memory_order_release);
        windows_.keep_changes_of("");
        windows_changed_locked();
    }
    if (stopping()) return;
    if (run->stopped) {
        if (store) store->complete(record.table, record.requested);
        spdlog::info("incremental snapshot of {} stopped by a signal after {} rows", record.table,
                     progress_.rows());
        return;
    }
    if (run->failed) {
        spdlog::error("incremental snapshot of {} abandoned (a restart continues it)",
                      record.table);
        return;
    }
    if (store) store->complete(record.table, record.requested);
    progress_.report(true);
    spdlog::info(
        "incremental snapshot of {} done: {} rows read in {} chunks, at most {} chunks in "
        "flight{}",
        record.table, progress_.rows(), chunks, progress_.max_in_flight(),
        record.chunks ? "; resumed after chunk " + std::to_string(record.chunks) : "");
}

std::vector<IncrementalSnapshot::Unconfirmed> IncrementalSnapshot::take_confirmed() {
    std::vector<Unconfirmed> out;
    std::lock_guard<std::mutex> lock(mu_);
    const Lsn ack = acked_.load(std::memory_order_acquire);
    for (auto it = unconfirmed_.begin(); it != unconfirmed_.end();) {
        std::optional<Lsn> end = windows_.closed_at(it->id);
        if (end && *end <= ack) {
            windows_.forget(it->id);
            out.push_back(std::move(*it));
            it = unconfirmed_.erase(it);
        } else {
            ++it;
        }
    }
    if (!out.empty()) {
        windows_changed_locked();
        cv_.notify_all();  // readers may wait for room
    }
    std::sort(out.begin(), out.end(),
              [](const Unconfirmed &a, const Unconfirmed &b) { return a.range.no < b.range.no; });
    return out;
}

void IncrementalSnapshot::reader(TableRun &run, PGconn *conn) {
    // Chunks whose low watermark this reader wrote (or is writing) and whose high
    // watermark it has not (for sure): a failure forgets them.
    std::vector<std::string> owned;
    auto forget = [&](const std::string &id) {
        owned.erase(std::find(owned.begin(), owned.end(), id));
    };
    try {
        // A loaded chunk whose high watermark is still to write: it goes with the next
        // chunk's low watermark and read, in one pipeline, when there is room for that
        // chunk's window; alone otherwise (the stream must reach it to free a window).
        std::optional<std::string> high;
        // The chunk whose watermarks and read are sent; received, it is loaded while the
        // server already reads the next one.
        std::optional<SentChunk> sent;
        auto send = [&](const std::string &id, ChunkRange range) {
            std::vector<std::pair<bool, std::string>> marks;
            if (high) marks.emplace_back(false, *high);
            marks.emplace_back(true, id);
            sent = send_chunk(conn, run, StartedChunk{id, std::move(range)}, marks);
        };
        auto write_high = [&] {  // nothing may be in flight
            write_watermarks(conn, {{false, *high}});
            forget(*high);
            high.reset();
        };
        std::optional<ChunkRange> range = plan(run, conn);
        if (range) {
            if (std::optional<std::string> id = claim_window(run, true)) {
                owned.push_back(*id);
                send(*id, std::move(*range));
            }
        }
        while (sent) {
            // Receiving tells the planner where a tail ends; the pipeline also wrote the
            // high watermark it carried.
            ReceivedChunk chunk = receive_chunk(conn, run, *sent);
            if (sent->high) forget(*sent->high);
            sent.reset();
            range = plan(run, conn);
            std::optional<std::string> id = range ? claim_window(run, false) : std::nullopt;
            if (id) {
                owned.push_back(*id);
                send(*id, *range);
                high.reset();
            } else if (high) {
                write_high();
            }
            high = load_chunk(run, std::move(chunk));
            if (range && !id) {  // no room: the stream must pass this reader's chunks first
                write_high();
                if ((id = claim_window(run, true))) {
                    owned.push_back(*id);
                    send(*id, std::move(*range));
                }
            }
        }
        if (high) write_high();
    } catch (const std::exception &e) {
        spdlog::error("incremental snapshot of {}: {}", run.record.table, e.what());
        run.failed = true;
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string &id : owned) drop_chunk_locked(id);
    }
    // Readers waiting for the tail's read end too. (A reader that ran out of ranges
    // leaves the planner be: chunks to read again after a reconnect start new readers.)
    if (run.failed || run.stopped || stopping()) run.planner->stop();
}

std::optional<ChunkRange> IncrementalSnapshot::plan(TableRun &run, PGconn *conn) {
    if (run.failed || run.stopped || stopping()) return std::nullopt;
    return run.planner->next([&](const KeyValues &after) -> std::optional<KeyValues> {
        // One reader reads the table as one tail after another: no boundary to plan.
        if (threads_ == 1) return std::nullopt;
        return boundary(conn, run.table, after);
    });
}

std::optional<std::string> IncrementalSnapshot::claim_window(TableRun &run, bool wait) {
    // Room for the chunk: at most kWindowsPerReader windows per reader open (their rows are
    // the memory an incremental snapshot takes); closed chunks waiting for the sink's
    // confirmation keep only their range. The window exists before the low watermark is
    // written: the stream may pass it before the reader returns from the statement.
    std::unique_lock<std::mutex> lock(mu_);
    const std::size_t readers = static_cast<std::size_t>(threads_);
    auto room = [&] {
        return !paused_ && windows_.in_flight() < kWindowsPerReader * readers &&
               unconfirmed_.size() < kMaxUnconfirmedPerReader * readers;
    };
    // (A timed wait: the process's stop flag is set without a notification.)
    while (wait && !cv_.wait_for(lock, std::chrono::milliseconds(200),
                                 [&] { return stopping() || run.stopped || room(); })) {
    }
    if (stopping() || run.stopped || !room()) return std::nullopt;
    std::string chunk = run_id_ + "-" + std::to_string(next_chunk_++);
    windows_.add(chunk, run.table.topic);
    windows_changed_locked();
    return chunk;
}

void IncrementalSnapshot::drop_chunk_locked(const std::string &chunk) {
    windows_.remove(chunk);
    unconfirmed_.erase(std::remove_if(unconfirmed_.begin(), unconfirmed_.end(),
                                      [&](const Unconfirmed &u) { return u.id == chunk; }),
                       unconfirmed_.end());
    windows_changed_locked();
}

namespace {

void check_watermarks(const PGresult *res) {
    Lsn last = 0;
    for (int i = 0; i < PQnfields(res); i++) {
        std::optional<Lsn> lsn = parse_lsn(PQgetvalue(res, 0, i));
        if (!lsn || *lsn <= last) throw std::runtime_error("watermarks were written out of order");
        last = *lsn;
    }
}

}  // namespace

void IncrementalSnapshot::write_watermarks(PGconn *conn,
                                           const std::vector<std::pair<bool, std::string>> &marks) {
    std::vector<PgResultPtr> res =
        pg_pipeline(conn, {watermarks_statement(marks)}, "writing a watermark");
    check_watermarks(res[0].get());
}

std::string IncrementalSnapshot::boundary_sql(const Table &table, bool after) const {
    // The key chunk.size rows after `after` ($1..$n): the inclusive upper bound of the
    // next range.
    const std::string keys = key_columns(table.key_names, "");
    std::string where;
    std::size_t param = 1;
    if (after) and_where(where, "(" + keys + ") > (" + key_params(table.key_types, param) + ")");
    // Checked by walcast.check_snapshot_condition(), which returned it as one expression.
    if (!table.condition.empty()) and_where(where, table.condition);
    return "SELECT " + key_columns(table.key_names, "::text") + " FROM ONLY " + table.name + " x" +
           where + " ORDER BY " + keys + " OFFSET " +
           std::to_string(config_.incremental_chunk_size - 1) + " LIMIT 1";
}

void IncrementalSnapshot::prepare_boundary(PGconn *conn, const Table &table) const {
    if (threads_ > 1)
        pg_query(conn,
                 std::string("PREPARE ") + kBoundaryStatement + " AS " + boundary_sql(table, true),
                 {}, "preparing the chunk planning query of " + table.name);
}

std::optional<KeyValues> IncrementalSnapshot::boundary(PGconn *conn, const Table &table,
                                                       const KeyValues &after) {
    const std::string what = "planning a chunk of " + table.name;
    // The first boundary of a table once; every further one from the session's statement.
    PgResultPtr res;
    if (after.empty())
        res = pg_query(conn, boundary_sql(table, false), {}, what);
    else
        res = std::move(
            pg_pipeline(conn, {PipelinedStatement{{}, after, kBoundaryStatement}}, what).front());
    if (PQntuples(res.get()) == 0) return std::nullopt;
    KeyValues hi;
    for (int k = 0; k < PQnfields(res.get()); k++) hi.emplace_back(PQgetvalue(res.get(), 0, k));
    return hi;
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
    PgResultPtr est = pg_query(conn, "SELECT reltuples FROM pg_class WHERE oid = $1::oid",
                               {table.oid}, "estimating the rows of " + collection);
    if (PQntuples(est.get()) == 1) table.estimated_rows = std::atof(PQgetvalue(est.get(), 0, 0));
    // The topic its events carry, as the encoder names it, when it has a row to read.
    PgResultPtr probe = pg_query(conn, kChunkQuery, chunk_params(table, ChunkRange{}, 1, "0/0"),
                                 "reading the first row of " + collection);
    if (PQntuples(probe.get()) > 2)  // the template, a value of rows, the last key
        table.topic = ChunkTemplate::parse(PQgetvalue(probe.get(), 0, 0)).topic;
    return true;
}

std::vector<std::string> IncrementalSnapshot::chunk_params(const Table &table,
                                                           const ChunkRange &range,
                                                           std::int64_t limit,
                                                           const std::string &lsn) const {
    return {table.oid,
            text_array_literal(range.after),
            text_array_literal(range.through),
            std::to_string(limit),
            encoder_options_,
            table.condition,
            lsn};
}

IncrementalSnapshot::SentChunk IncrementalSnapshot::send_chunk(
    PGconn *conn, TableRun &run, StartedChunk chunk,
    const std::vector<std::pair<bool, std::string>> &marks) {
    // A bounded range is read whole (rows inserted into it since planning too); the
    // open-ended tail one chunk at most. The watermarks commit before the read starts (a
    // sync point between them), and the read takes the low one's position from the
    // session: both go in one round trip.
    const std::int64_t limit = chunk.range.tail() ? config_.incremental_chunk_size : 0;
    SentChunk sent;
    sent.statements = pg_pipeline_send(
        conn,
        {watermarks_statement(marks),
         PipelinedStatement{{}, chunk_params(run.table, chunk.range, limit, ""), kChunkStatement}},
        "reading a chunk of " + run.table.name);
    if (marks.size() > 1) sent.high = marks.front().second;
    sent.chunk = std::move(chunk);
    return sent;
}

IncrementalSnapshot::ReceivedChunk IncrementalSnapshot::receive_chunk(PGconn *conn, TableRun &run,
                                                                      const SentChunk &sent) {
    std::vector<PgResultPtr> results =
        pg_pipeline_receive(conn, sent.statements, "reading a chunk of " + run.table.name);
    if (results.size() != 2) throw FrameError("the chunk of " + run.table.name + " was not read");
    check_watermarks(results[0].get());
    ReceivedChunk chunk;
    chunk.chunk = sent.chunk;
    chunk.result = std::move(results[1]);
    // The template, values of many rows each (`<key>\t<after>\n`), then the last key read:
    // what planning the next tail needs, before the rows are loaded. The rows are split
    // here, once (views into the result, which they keep: no row is copied).
    const PGresult *res = chunk.result.get();
    for (int i = 1; i < PQntuples(res); i++) {
        std::string_view value(PQgetvalue(res, i, 0), PQgetlength(res, i, 0));
        if (is_last_key(value)) {
            chunk.last = key_values_from_json(std::string(value.substr(kLastKeyPrefix.size())));
            continue;
        }
        for (std::size_t start = 0; start < value.size();) {
            std::size_t end = value.find('\n', start);
            if (end == std::string_view::npos)
                throw FrameError("malformed chunk rows of " + run.table.name +
                                 ": no final newline");
            chunk.rows.emplace_back(value.substr(start, end - start));
            start = end + 1;
        }
    }
    if (sent.chunk.range.tail())
        run.planner->tail_read(
            chunk.rows.size() == static_cast<std::size_t>(config_.incremental_chunk_size),
            chunk.last);
    return chunk;
}

std::string IncrementalSnapshot::load_chunk(TableRun &run, ReceivedChunk chunk) {
    const PGresult *res = chunk.result.get();
    if (PQntuples(res) == 0) throw FrameError("no template in the chunk of " + run.table.name);
    auto event_template = std::make_shared<const ChunkTemplate>(
        ChunkTemplate::parse(std::string_view(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0))));
    const SnapshotXids snapshot = SnapshotXids::parse(PQgetvalue(res, 0, 1));
    const std::uint64_t read = chunk.rows.size();
    RowViews rows(std::shared_ptr<const PGresult>(chunk.result.release(), PGresultDeleter()),
                  std::move(chunk.rows));
    std::lock_guard<std::mutex> lock(mu_);
    windows_.load(chunk.chunk.id, std::move(rows), std::move(event_template), snapshot);
    ChunkRange covered = chunk.chunk.range;
    if (covered.tail()) covered.through = chunk.last;
    unconfirmed_.push_back(Unconfirmed{chunk.chunk.id, covered, read});
    return chunk.chunk.id;
}

}  // namespace walcast
