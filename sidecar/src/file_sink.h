// The embedded default output: JSON lines in a file or on stdout, for trying
// walcast without Kafka and for debugging.
//
// One line per message, built by concatenation (the event value is pasted
// verbatim, never re-serialised):
//   {"topic":"<topic>","key":<key JSON or null>,"value":<value JSON or null>}
// A tombstone has "value":null, a keyless event "key":null.
//
// Deliveries are reported only after the bytes are written and fsync'ed
// (stdout: written and flushed), so the acknowledged LSN never passes data
// that a crash could lose. Syncs are batched by time and size.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "sink.h"

namespace walcast {

struct FileSinkOptions {
    int sync_interval_ms = 100;        // fsync at most this long after a message
    std::size_t sync_bytes = 4 << 20;  // ... or once this much is unsynced
    std::size_t max_pending = 100000;  // messages waiting for a sync (backpressure)
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
    std::size_t outstanding() const override { return pending_.size(); }
    bool fatal() const override { return fatal_; }
    std::string describe() const override;

private:
    using Clock = std::chrono::steady_clock;
    // Writes the buffer, fsyncs, reports every pending message.
    void sync();
    bool write_buffer();

    std::string path_;
    int fd_ = -1;
    bool is_stdout_;
    DeliveryCallback on_delivery_;
    FileSinkOptions opts_;
    std::string buffer_;                  // formatted, not yet written
    std::vector<DeliveryToken> pending_;  // written or buffered, not yet synced
    std::size_t unsynced_bytes_ = 0;
    Clock::time_point first_pending_;
    bool fatal_ = false;
    std::string error_;
    std::uint64_t delivered_ = 0;
};

// Appends s as a JSON string literal (quotes included).
void append_json_string(std::string &out, std::string_view s);

}  // namespace walcast
