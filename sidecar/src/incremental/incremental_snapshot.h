// Incremental snapshots while streaming (DBLog watermarks; docs/incremental-snapshots.md).
// A signal (a signal table's insert, a W frame; walcast.execute_snapshot() writes one)
// names tables by regex; they are resolved and recorded in walcast.incremental_snapshots
// before the slot moves past the signal. stop-, pause- and resume-snapshot act on the
// queue and the running table; blocking execute-snapshot signals go to a handler. A coordinator
// thread takes one table at a time; snapshot.max.threads reader threads (one connection each) read
// disjoint primary-key ranges (ChunkPlanner), each chunk one short statement between a
// low and a high watermark (transactional walcast.control messages). The stream thread,
// through the StreamObserver calls, drops from each open chunk every key it sees changed
// between that chunk's watermarks and, at its high watermark, hands the rest back to the
// pipeline, which produces them as op "r" events right there. Once the sink confirmed a
// chunk's high watermark transaction, the contiguous prefix of confirmed chunks is
// recorded, so a restart continues after it. Streamed events are never held back; at
// most one chunk per reader is in memory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <libpq-fe.h>

#include "config/config.h"
#include "incremental/chunk_planner.h"
#include "incremental/control_message.h"
#include "incremental/finished_prefix.h"
#include "incremental/incremental_progress.h"
#include "incremental/incremental_store.h"
#include "incremental/window_set.h"
#include "pg/pg_conn.h"
#include "stream/stream_observer.h"

namespace walcast {

class Registry;

class IncrementalSnapshot : public StreamObserver {
public:
    // stop: the process's stop flag; the readers end their waits when it is set.
    // metrics may be null.
    IncrementalSnapshot(const Config &config, const std::atomic<bool> &stop,
                        Registry *metrics = nullptr);
    ~IncrementalSnapshot() override;

    void on_event(const Frame &event) override;
    void on_control(const Frame &control, std::shared_ptr<const RowBlock> &emit) override;
    void on_session_start() override;
    void on_acknowledged(Lsn ack) override;

    // execute-snapshot signals of type blocking go here (parsed, not acted on by this
    // class); without a handler they are refused with an error in the log.
    using BlockingSnapshotHandler = std::function<void(const ControlMessage &)>;
    void set_blocking_snapshot_handler(BlockingSnapshotHandler handler) {
        blocking_handler_ = std::move(handler);
    }

private:
    struct Table {
        std::string oid, name;                          // name: quoted, for SQL
        std::string topic;                              // of its events; empty: the table is empty
        std::vector<std::string> key_names, key_types;  // primary key, in key order
        double estimated_rows = -1;                     // reltuples (negative: never analyzed)
        std::string condition;  // additional-conditions, checked by the extension; or empty
    };
    // One table's snapshot as the readers share it.
    struct TableRun {
        IncrementalRecord record;  // what is on record (request, confirmed prefix)
        Table table;
        std::unique_ptr<ChunkPlanner> planner;
        std::atomic<int> readers_left{0};
        std::atomic<bool> failed{false};
        std::atomic<bool> stopped{false};  // by a stop-snapshot signal
    };
    // A chunk whose high watermark is written, until the sink confirmed it.
    struct Unconfirmed {
        std::string id;
        ChunkRange range;  // `through`: the last key it covers (empty: no more than its
                           // predecessor, as a tail that read nothing)
        std::uint64_t rows;
    };

    // --- signals (execute-, stop-, pause-, resume-snapshot, log), on the stream thread ---
    void on_signal(const ControlMessage &m, Lsn signal_lsn);
    void request(const ControlMessage &m, Lsn signal_lsn);
    void stop_snapshots(const ControlMessage &m);
    // The connection signals are resolved and recorded on (null: none could be opened).
    PGconn *signal_connection();
    // --- end signals ---
    void enqueue_locked(IncrementalRecord record);
    void start_thread_locked();
    void coordinator_loop();
    void snapshot_table(IncrementalRecord record, IncrementalStore *store);
    void reader(TableRun &run, PGconn *conn);
    bool resolve(PGconn *conn, const std::string &collection, Table &table);
    // A chunk whose window is claimed, read next.
    struct StartedChunk {
        std::string id;
        ChunkRange range;
    };
    // The next range to read, or nothing when the table is done, failed or stopped.
    std::optional<ChunkRange> plan(TableRun &run, PGconn *conn);
    // A window for a new chunk: waits for room when `wait`, else nothing without room.
    // Nothing when stopping.
    std::optional<std::string> claim_window(TableRun &run, bool wait);
    // Forgets a chunk whose high watermark was never written. Called with mu_ held.
    void drop_chunk_locked(const std::string &chunk);
    // Writes watermarks (high: false, low: true) in one transaction, in order.
    void write_watermarks(PGconn *conn, const std::vector<std::pair<bool, std::string>> &marks);
    // A chunk whose watermarks and read are sent (pg_pipeline_send).
    struct SentChunk {
        StartedChunk chunk;
        std::size_t statements = 0;
        std::optional<std::string> high;  // the chunk whose high watermark it writes
    };
    // The read's result: the template, the rows many to a value, the last key read.
    struct ReceivedChunk {
        StartedChunk chunk;
        PgResultPtr result;
        KeyValues last;
        std::vector<std::string_view> rows;  // compact rows, views into result
    };
    // Sends `marks` (the previous chunk's high watermark, this one's low), then the read
    // of the chunk, in one statement.
    SentChunk send_chunk(PGconn *conn, TableRun &run, StartedChunk chunk,
                         const std::vector<std::pair<bool, std::string>> &marks);
    // Its results; a tail's planner learns where the next tail starts.
    ReceivedChunk receive_chunk(PGconn *conn, TableRun &run, const SentChunk &sent);
    // Loads the chunk's window; returns the chunk's id.
    std::string load_chunk(TableRun &run, ReceivedChunk chunk);
    std::optional<KeyValues> boundary(PGconn *conn, const Table &table, const KeyValues &after);
    std::string boundary_sql(const Table &table, bool after) const;
    // Prepares the table's boundary query on a reader's session (several readers only:
    // one reader plans no boundaries).
    void prepare_boundary(PGconn *conn, const Table &table) const;
    // The parameters of the chunk query: the range, at most `limit` rows (0: all), the
    // encoder options, the condition, and the chunk's low watermark position (empty: the
    // one the session wrote last).
    std::vector<std::string> chunk_params(const Table &table, const ChunkRange &range,
                                          std::int64_t limit, const std::string &lsn) const;
    // Chunks the sink confirmed since the last call, in chunk order; their rows are
    // forgotten.
    std::vector<Unconfirmed> take_confirmed();
    void windows_changed_locked();
    bool stopping() const;

    const Config &config_;
    const std::atomic<bool> &stop_;
    std::string encoder_options_;  // the chunk query's options: a text[] literal, built once
    std::string run_id_;           // chunk ids are <run id>-<n>: unique to this process
    const int threads_;            // readers (snapshot.max.threads)
    IncrementalProgress progress_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<IncrementalRecord> queue_;  // tables waiting to be snapshot
    bool paused_ = false;                  // pause-snapshot: no new chunk until resumed
    BlockingSnapshotHandler blocking_handler_;
    WindowSet windows_;
    std::vector<Unconfirmed> unconfirmed_;
    TableRun *current_ = nullptr;  // the table being read
    std::uint64_t next_chunk_ = 0;
    std::atomic<bool> active_{false};   // windows exist: on_event looks at them
    std::atomic<bool> keeping_{false};  // a table is read: its changes are kept (WindowSet)
    std::atomic<Lsn> acked_{0};         // the sink confirmed everything up to here
    bool started_ = false;              // the coordinator runs (from the first session on)
    bool quit_ = false;
    std::thread thread_;

    // The stream thread's connection for recording signals.
    PgConnPtr signal_conn_;
    std::unique_ptr<IncrementalStore> signal_store_;
};

}  // namespace walcast
