// Incremental snapshots while streaming (DBLog watermarks; docs/incremental-snapshots.md).
// A signal (walcast.execute_snapshot(), a W frame) queues tables; a reader thread with an
// ordinary connection reads each table in primary-key chunks, each chunk one short
// statement between a low and a high watermark (transactional walcast.control
// messages). The stream thread, through the StreamObserver calls, drops from the chunk
// every key it sees changed between the chunk's watermarks and, at the high watermark,
// hands the rest back to the pipeline, which produces them as op "r" events right there.
// Streamed events are never held back; one chunk is in memory at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <libpq-fe.h>

#include "config/config.h"
#include "incremental/chunk_window.h"
#include "incremental/control_message.h"
#include "incremental/snapshot_queue.h"
#include "stream/stream_observer.h"

namespace walcast {

class IncrementalSnapshot : public StreamObserver {
public:
    // stop: the process's stop flag; the reader ends its wait when it is set.
    IncrementalSnapshot(const Config &config, const std::atomic<bool> &stop);
    ~IncrementalSnapshot() override;

    void on_event(const Frame &event) override;
    void on_control(const Frame &control, std::vector<std::string> &emit) override;
    void on_session_start() override {}

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
        std::string condition;  // additional-conditions, checked by the extension; or empty
    };

    // --- signals (stop, pause, resume, log; execute-snapshot) ---
    void on_signal(const ControlMessage &m);
    void request(const ControlMessage &m);
    // --- end signals ---
    void reader_loop();
    void snapshot_table(PGconn *conn, const SnapshotRequest &request);
    bool resolve(PGconn *conn, const std::string &collection, Table &table);
    // One chunk after `cursor` (key values as text; empty: from the start). Returns the
    // number of rows read; the last row's key goes to cursor.
    std::size_t run_chunk(PGconn *conn, const Table &table, std::vector<std::string> &cursor,
                          std::uint64_t chunk_no);
    // $1..$noptions are the encoder options (name, value, ...), then the cursor's values.
    std::string chunk_query(const Table &table, bool after_cursor, std::size_t noptions,
                            std::int64_t limit) const;
    std::vector<std::string> option_params(const std::string &lsn) const;
    // Blocks until the stream passed the current chunk's high watermark (false: stopping).
    bool wait_closed();

    const Config &config_;
    const std::atomic<bool> &stop_;
    std::vector<std::pair<std::string, std::string>> encoder_options_;
    const bool schemas_;  // key/value converter schemas: rows go out after their R frame
    std::string run_id_;  // chunk ids are <run id>-<n>: unique to this process

    std::mutex mu_;
    std::condition_variable cv_;
    SnapshotQueue queue_;  // requests waiting, pause and stop (its own lock)
    BlockingSnapshotHandler blocking_handler_;
    std::unique_ptr<ChunkWindow> window_;
    std::string window_chunk_;
    std::string window_schema_;  // the R frame read with the chunk, or empty
    bool window_closed_ = false;
    // The last chunk handed to the stream, for a high watermark read again after a
    // reconnect (its rows may not have reached the sink).
    std::string last_chunk_;
    std::vector<std::string> last_rows_;
    std::atomic<bool> active_{false};  // a window exists: on_event looks at it
    bool quit_ = false;
    std::thread thread_;
};

}  // namespace walcast
