// The streaming loop: replication frames -> ack tracker -> sink, with standby
// status updates that never acknowledge past what the sink holds.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "stream/ack_tracker.h"
#include "config/config.h"
#include "stream/event_router.h"
#include "stream/frame.h"
#include "stream/heartbeat.h"
#include "stream/replication.h"
#include "stream/stream_observer.h"
#include "sink/sink.h"

namespace walcast {

class SidecarMetrics;
class Counter;

class Pipeline {
public:
    // stop: set by SIGTERM/SIGINT. metrics may be null (metrics.address empty).
    Pipeline(const Config &config, const std::atomic<bool> &stop, SidecarMetrics *metrics);
    ~Pipeline();

    // Streams until stopped (returns 0) or a non-retryable error (logs it and
    // returns the process exit code). Throws ConfigError for sink settings.
    int run();
    // Creates the sink now (run() does it lazily), so that configuration
    // errors surface before anything is logged. Throws ConfigError.
    void open_sink();
    // Watches the stream (not owned; may be null). Set before run().
    void set_observer(StreamObserver *observer) { observer_ = observer; }

private:
    using Clock = std::chrono::steady_clock;
    enum class SessionEnd { kStopped, kRestart };

    // A message waiting to be produced: a routed message whose views point into the
    // frame (owned_topic holds the topic once the frame's buffer is handed over), or a
    // marker that seals the transaction once everything before it is produced, or an
    // observer's RowBlock, whose rows go out in order from next_row on (one entry for the
    // block, not one a row).
    struct Pending {
        RoutedMessage msg;
        std::string owned_topic;
        bool seal = false;
        DeliveryToken token = 0;
        std::shared_ptr<const RowBlock> block;
        std::size_t next_row = 0;
    };

    SessionEnd stream(ReplicationStream &repl, Lsn start_lsn);
    SessionEnd stream_session(ReplicationStream &repl, Lsn start_lsn);
    // One function per kind of CopyData message from the server.
    void process_keepalive(ReplicationStream &repl);
    // The observer holds the stream (StreamObserver::holds_stream).
    bool stream_held();
    void process_xlog_data();
    void queue_routes(Routes routes);
    // Control frames: the rows the observer hands back go out here.
    void process_control(const Frame &f);
    void queue_row_block(std::shared_ptr<const RowBlock> block);
    // A message that keeps its own copies of the frame's text.
    Pending owned_pending(RoutedMessage msg) const;
    // The BEGIN record (transaction metadata) waits for the transaction's first event:
    // a transaction of control messages only gets neither BEGIN nor END.
    void defer_begin_record(Routes routes);
    void release_begin_record();
    // Waits for the next thing to do: the socket (unless the sink is full), the shutdown
    // token, or the earliest deadline (status update, progress log, delivery check).
    void wait_for_work(ReplicationStream &repl, bool sink_full);
    Clock::time_point next_deadline() const;
    // Produces queued messages; false when the sink is full.
    bool drain_pending();
    // Produces the rows of a block entry still to go; false when the sink is full.
    bool produce_block_rows(Pending &p);
    // Offers the received buffer of a large value to the sink (Message::value_buffer).
    bool offer_frame_buffer(Pending &p, Message &m);
    void maybe_send_status(ReplicationStream &repl, bool force);
    void shutdown(ReplicationStream &repl);
    void on_delivery(DeliveryToken token, bool ok, const std::string &error);
    // Counts events of one topic and op (the events/bytes metrics).
    void count_events(std::string_view topic, char op, bool tombstone, std::size_t events,
                      std::size_t bytes);
    void observe_acks();
    void log_progress(bool force);

    const Config &config_;
    const std::atomic<bool> &stop_;
    SidecarMetrics *metrics_;
    std::unique_ptr<Sink> sink_;
    std::unique_ptr<AckTracker> tracker_;
    DeliveryToken next_token_ = 1;
    EventRouter router_;
    std::unique_ptr<Heartbeat> heartbeat_;  // started with the first session
    StreamObserver *observer_ = nullptr;

    // Session state.
    CopyMessage current_;          // the message whose frame is being produced
    std::deque<Pending> pending_;  // at most the events of one frame
    std::vector<Pending>
        begin_record_;  // the open transaction's BEGIN record, until its first event
    bool txn_open_ = false;
    DeliveryToken txn_token_ = 0;
    Lsn txn_end_ = 0;            // where the open transaction ends (its begin frame's end_lsn)
    std::uint64_t txn_xid_ = 0;  // the open transaction's id (its begin frame's)
    Lsn received_ = 0;           // highest WAL position seen (write position)
    Lsn server_end_ = 0;         // server's WAL end, for lag
    Lsn last_sent_flush_ = 0;
    Clock::time_point last_status_;
    std::deque<std::pair<Lsn, Clock::time_point>> txn_started_;  // for the latency metric

    // Progress.
    std::uint64_t events_ = 0;
    std::uint64_t events_at_last_log_ = 0;
    Clock::time_point last_log_ = Clock::now();
    bool delivery_error_logged_ = false;
    std::unordered_map<std::string, std::pair<Counter *, Counter *>> counters_;
};

}  // namespace walcast
