// The embedded default output: JSON lines in a file or on stdout, for trying
// walcast without Kafka and for debugging.
//
// One line per message, built by concatenation (the event value is pasted
// verbatim, never re-serialised):
//   {"topic":"<topic>","key":<key JSON or null>,"value":<value JSON or null>}
// A tombstone has "value":null, a keyless event "key":null.
//
// Deliveries are reported only after the bytes are written and fsync'ed
// (stdout: written), so the acknowledged LSN never passes data that a crash could
// lose. A writer thread does the writing and syncing, so the disk works while the
// caller formats the next batch; syncs are batched by time and size (group commit).
//
// A file is never left with a torn line in the middle: an incomplete last line (a crash
// or a full disk cut a write short) is removed when the sink opens the file, and a failed
// write or sync is truncated back to where its batch began before the sink reports the
// error. Before confirming a batch the writer checks that the path still names the file
// it wrote to; a file deleted or renamed away (log rotation) is reopened at the path and
// the batch written again there, so every acknowledged event is in the file at the path
// or in the file it was rotated to.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "sink/sink.h"

namespace walcast {

struct FileSinkOptions {
    int sync_interval_ms = 100;         // fsync at most this long after a message
    std::size_t sync_bytes = 16 << 20;  // ... or once this much waits; also the most
                                        // that waits while a sync runs (backpressure)
    std::size_t max_pending = 1000000;  // messages waiting for a sync (backpressure)
};

class FileSink : public Sink {
public:
    // path empty = stdout. Throws std::runtime_error if the file cannot be opened.
    FileSink(const std::string &path, DeliveryCallback on_delivery, FileSinkOptions opts = {});
    ~FileSink() override;
    FileSink(const FileSink &) = delete;
    FileSink &operator=(const FileSink &) = delete;

    bool produce(const Message &msg) override;
    void poll(int timeout_ms) override;
    bool flush(int timeout_ms) override;
    std::size_t outstanding() const override;
    bool fatal() const override { return fatal_; }
    std::string describe() const override;

private:
    using Clock = std::chrono::steady_clock;
    struct Report {
        DeliveryToken token;
        bool ok;
    };

    void writer_main();
    // Writes and syncs one batch; returns an error message, empty on success.
    std::string write_and_sync(const std::string &batch);
    // Writes and syncs batch to fd_; on failure removes what it wrote (regular files).
    std::string append_batch(const std::string &batch);
    // Opens path_ (created if missing), removes a torn tail, remembers which file it is.
    // Returns an error message, empty on success.
    std::string open_file();
    // True when path_ no longer names the open file (deleted, renamed away, replaced).
    bool file_replaced() const;

    std::string path_;
    int fd_ = -1;
    bool is_stdout_;
    bool regular_ = false;  // a regular file: tails repaired, identity checked
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    DeliveryCallback on_delivery_;
    FileSinkOptions opts_;
    std::string topic_;         // the last topic and its line prefix: most messages
    std::string topic_prefix_;  // go to the same topic as the one before (caller's thread)

    mutable std::mutex mu_;
    std::condition_variable wake_writer_, batch_done_;
    std::string buffer_;                  // formatted, waiting for the writer
    std::vector<DeliveryToken> waiting_;  // the messages in buffer_
    Clock::time_point first_waiting_;
    std::size_t syncing_ = 0;   // messages the writer is writing now
    std::vector<Report> done_;  // synced (or failed), not yet reported
    bool flush_requested_ = false;
    bool stop_ = false;
    std::string error_;
    std::uint64_t delivered_ = 0;
    std::atomic<bool> fatal_{false};
    std::thread writer_;  // last: starts once everything above exists
};

// Removes an incomplete last line (bytes after the last '\n') of a regular file open
// for reading and writing. Returns the number of bytes removed; throws
// std::runtime_error when the file cannot be read or truncated.
std::uint64_t remove_torn_tail(int fd, const std::string &path);

}  // namespace walcast
