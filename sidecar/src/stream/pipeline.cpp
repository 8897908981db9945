#include "stream/pipeline.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "metrics/metrics.h"
#include "common/shutdown.h"
#include "sink/sink_factory.h"
#include "pg/slot_health.h"

namespace walcast {

namespace {

constexpr int kMaxBackoffMs = 30000;
// A stop request drains the sink this long at most (then exits; undelivered events are
// read again from the slot next time): SIGTERM is honoured within a few seconds.
constexpr int kShutdownFlushMs = 3000;
constexpr int kReadBatch = 10000;  // messages read before serving the sink again
// Progress is logged this often.
constexpr auto kProgressInterval = std::chrono::seconds(10);
// Sinks report deliveries only from poll() and offer no descriptor to wait on, so while
// messages are outstanding and the socket is quiet the loop serves the sink this often
// (an acknowledgement is reported at most once a second anyway).
constexpr auto kDeliveryCheck = std::chrono::milliseconds(100);
// Even with nothing outstanding the sink is served this often: it reports errors (a
// broker refusing the producer, a fatal idempotence error) only from poll().
constexpr auto kSinkService = std::chrono::seconds(1);
// While the sink is full the loop waits in the sink's poll(), which returns at its next
// delivery report; this bounds that wait so a stop request is seen promptly.
constexpr auto kFullSinkWait = std::chrono::milliseconds(100);
// While an observer holds the stream (a blocking snapshot) the loop looks this often.
constexpr auto kHeldWait = std::chrono::milliseconds(50);

int millis_until(std::chrono::steady_clock::time_point deadline) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

Pipeline::Pipeline(const Config &config, const std::atomic<bool> &stop, SidecarMetrics *metrics)
    : config_(config),
      stop_(stop),
      metrics_(metrics),
      router_(RouterOptions{config.topic_prefix, config.tombstones_on_delete,
                            config.provide_transaction_metadata, config.key_schemas,
                            config.value_schemas}) {}

Pipeline::~Pipeline() = default;

void Pipeline::on_delivery(DeliveryToken token, bool ok, const std::string &error) {
    if (!ok && !delivery_error_logged_) {
        // One line per session: a broker outage can fail thousands of messages.
        spdlog::error("delivery failed, acknowledgements stop here: {}", error);
        delivery_error_logged_ = true;
        if (metrics_) metrics_->errors("delivery").inc();
    }
    if (tracker_) tracker_->delivered(token, ok);
}

void Pipeline::open_sink() {
    sink_ = make_sink(
        config_, [this](DeliveryToken t, bool ok, const std::string &e) { on_delivery(t, ok, e); },
        metrics_ ? &metrics_->registry() : nullptr);
    spdlog::info("sink: {}", sink_->describe());
}

int Pipeline::run() {
    int backoff_ms = 1000;
    bool streamed_once = false;
    while (!stop_) {
        try {
            if (!sink_) open_sink();
            ReplicationStream repl(config_);
            Lsn start = repl.prepare_slot();
            repl.start();
            streamed_once = true;
            backoff_ms = 1000;
            if (stream(repl, start) == SessionEnd::kStopped) return 0;
        } catch (const SlotLostError &e) {
            // Never retried: the slot cannot stream again (see slot_health.h).
            spdlog::critical("{}", e.what());
            if (metrics_) metrics_->slot_lost.set(1);
            return kExitSlotLost;
        } catch (const PluginRefusedError &e) {
            spdlog::critical("{}", e.what());
            return e.exit_code();
        } catch (const Stopped &e) {
            spdlog::info("{}", e.what());
            return 0;
        } catch (const SinkError &e) {
            spdlog::critical("{}", e.what());
            return e.exit_code();
        } catch (const PgError &e) {
            // Before the first successful start every problem is the user's to
            // see at once; afterwards the server may just be restarting.
            if (!streamed_once) {
                spdlog::error("{}", e.what());
                return 1;
            }
            spdlog::warn("{}; reconnecting in {} s", e.what(), backoff_ms / 1000.0);
            if (metrics_) metrics_->errors("postgres").inc();
        } catch (const FrameError &e) {
            spdlog::error("{}; reconnecting in {} s", e.what(), backoff_ms / 1000.0);
            if (metrics_) metrics_->errors("frame").inc();
        } catch (const ConfigError &) {
            throw;
        } catch (const std::runtime_error &e) {
            // Sink construction failures (file not writable, librdkafka setup).
            if (!streamed_once) {
                spdlog::error("{}", e.what());
                return 1;
            }
            spdlog::warn("{}; retrying in {} s", e.what(), backoff_ms / 1000.0);
        }
        if (metrics_) metrics_->reconnects.inc();
        ShutdownToken::process().sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
    }
    return 0;
}

Pipeline::SessionEnd Pipeline::stream(ReplicationStream &repl, Lsn start_lsn) {
    try {
        return stream_session(repl, start_lsn);
    } catch (const Stopped &e) {
        // A wait (heartbeat, query) was cut short: stop as the loop would have.
        spdlog::info("{}", e.what());
        shutdown(repl);
        return SessionEnd::kStopped;
    } catch (const SinkError &) {
        // Stop before the event: drain the rest (never acknowledging past it) and
        // send the final acknowledgement, then end the run.
        try {
            shutdown(repl);
        } catch (const std::exception &e) {
            spdlog::warn("while stopping: {}", e.what());
        }
        throw;
    }
}

Pipeline::SessionEnd Pipeline::stream_session(ReplicationStream &repl, Lsn start_lsn) {
    // A fresh tracker per session: the server resends everything after the
    // slot's confirmed position; reports for the old session's tokens are ignored.
    if (tracker_) next_token_ = tracker_->next_token();
    tracker_ = std::make_unique<AckTracker>(next_token_, start_lsn);
    pending_.clear();
    begin_record_.clear();
    txn_started_.clear();
    txn_open_ = false;
    received_ = start_lsn;
    last_sent_flush_ = start_lsn;
    delivery_error_logged_ = false;
    last_status_ = Clock::now() - std::chrono::hours(1);  // report our position at once

    if (!heartbeat_) heartbeat_ = std::make_unique<Heartbeat>(config_);
    if (observer_) observer_->on_session_start();

    while (true) {
        if (stop_) {
            shutdown(repl);
            return SessionEnd::kStopped;
        }
        if (sink_->fatal() || tracker_->failed()) {
            // Never acknowledge past the failure: drop the sink and everything
            // in flight, resume from the slot's confirmed position.
            spdlog::error(
                "sink failed ({}); recreating it and restarting from the slot's "
                "confirmed position {}",
                sink_->describe(), format_lsn(tracker_->ack_lsn()));
            maybe_send_status(repl, true);
            next_token_ = tracker_->next_token();
            tracker_.reset();  // before the sink: its destructor may still report
            sink_.reset();
            ShutdownToken::process().sleep_for(std::chrono::seconds(1));
            return SessionEnd::kRestart;
        }

        bool sink_full = !drain_pending();
        bool held = stream_held();
        int read = 0;
        while (!sink_full && !held && read < kReadBatch) {
            auto st = repl.read(current_);
            if (st == ReplicationStream::ReadStatus::kWouldBlock) break;
            if (st == ReplicationStream::ReadStatus::kEnded)
                throw PgError(false, "the server ended the replication stream");
            read++;
            server_end_ = std::max(server_end_, current_.wal_end);
            if (current_.kind == CopyMessage::Kind::kKeepalive) {
                process_keepalive(repl);
                continue;
            }
            process_xlog_data();
            sink_full = !drain_pending();
            held = stream_held();
            if (read % 1000 == 0) sink_->poll(0);
        }

        sink_->poll(0);
        observe_acks();
        maybe_send_status(repl, false);
        log_progress(false);

        // A full batch: more is probably waiting on the socket already.
        if (!sink_full && !held && read == kReadBatch) continue;
        if (held) {
            // The slot stays unread; the sink is served and the status timer runs.
            sink_->poll(0);
            ShutdownToken::process().sleep_for(kHeldWait);
            continue;
        }
        wait_for_work(repl, sink_full);
    }
}

bool Pipeline::stream_held() {
    if (!observer_) return false;
    // A BEGIN record still deferred (transaction metadata) is not an event read: it goes
    // out with the transaction's first event, after the hold.
    return observer_->holds_stream(pending_.empty() && sink_->outstanding() == 0);
}

void Pipeline::process_keepalive(ReplicationStream &repl) {
    received_ = std::max(received_, current_.wal_end);
    // Nothing pending: everything before walEnd was filtered or is delivered, so the
    // slot need not keep that WAL.
    tracker_->ack_idle(current_.wal_end);
    if (current_.reply_requested) maybe_send_status(repl, true);
}

void Pipeline::process_xlog_data() {
    received_ = std::max(received_, current_.data_start);
    Frame f = parse_frame(current_.data);
    switch (f.type) {
        case FrameType::kBegin:
            if (txn_open_) throw FrameError("malformed stream: begin frame inside a transaction");
            txn_open_ = true;
            txn_token_ = tracker_->begin(f.end_lsn);
            txn_end_ = f.end_lsn;
            txn_xid_ = f.xid;
            if (metrics_) txn_started_.emplace_back(f.end_lsn, Clock::now());
            defer_begin_record(router_.route_boundary(f));
            return;
        case FrameType::kEvent:
            if (!txn_open_) throw FrameError("malformed stream: event frame outside a transaction");
            f.xid = txn_xid_;
            if (observer_) observer_->on_event(f);
            release_begin_record();
            queue_routes(router_.route_event(f));
            return;
        case FrameType::kControl:
            if (!txn_open_)
                throw FrameError("malformed stream: control frame outside a transaction");
            process_control(f);
            return;
        case FrameType::kSchema:  // in or between transactions: no event of its own
            router_.set_schemas(f);
            return;
        case FrameType::kCommit: {
            if (!txn_open_)
                throw FrameError("malformed stream: commit frame outside a transaction");
            // A transaction of walcast's control messages only (watermarks, signals) has
            // no events: no BEGIN/END records for it either.
            if (begin_record_.empty()) queue_routes(router_.route_boundary(f));
            begin_record_.clear();
            Pending seal;
            seal.seal = true;
            seal.token = txn_token_;
            pending_.push_back(std::move(seal));
            txn_open_ = false;
            return;
        }
    }
}

void Pipeline::process_control(const Frame &f) {
    if (!observer_) return;
    Frame control = f;
    control.commit_lsn = txn_end_;
    std::shared_ptr<const RowBlock> rows;
    observer_->on_control(control, rows);
    if (rows) queue_row_block(std::move(rows));
}

void Pipeline::queue_row_block(std::shared_ptr<const RowBlock> block) {
    if (block->rows.empty()) return;
    Pending p;
    p.block = std::move(block);
    p.token = txn_token_;
    pending_.push_back(std::move(p));
}

bool Pipeline::produce_block_rows(Pending &p) {
    const RowBlock &b = *p.block;
    std::string key;  // key_head + key + "}", when the key carries its schema
    std::size_t produced = 0, bytes = 0;
    bool full = false;
    for (; p.next_row < b.rows.size(); p.next_row++) {
        const std::string_view row = b.rows.rows[p.next_row];
        const std::size_t tab = row.find('\t');
        if (tab == std::string_view::npos)
            throw FrameError("malformed snapshot row: '" + std::string(row.substr(0, 60)) + "'");
        Message m;
        m.topic = b.topic;
        m.key = row.substr(0, tab);
        if (!b.key_head.empty() && !m.key.empty()) {
            key.assign(b.key_head).append(m.key).append("}");
            m.key = key;
        }
        m.value = b.value_head;
        m.value_more[0] = row.substr(tab + 1);
        m.value_more[1] = b.value_tail;
        m.token = p.token;
        if (!sink_->produce(m)) {
            full = true;
            break;
        }
        produced++;
        bytes += m.value_size();
    }
    // Reports come only from poll()/flush() (Sink contract): counting after the loop
    // cannot miss one.
    if (produced) {
        tracker_->event_produced(p.token, produced);
        events_ += produced;
        count_events(b.topic, 'r', false, produced, bytes);
    }
    return !full;
}

Pipeline::Pending Pipeline::owned_pending(RoutedMessage msg) const {
    Pending p;
    p.msg = std::move(msg);
    p.owned_topic.assign(p.msg.topic);
    if (p.msg.owned_key.empty()) p.msg.owned_key.assign(p.msg.key);
    if (p.msg.owned_value.empty() && !p.msg.tombstone) p.msg.owned_value.assign(p.msg.value);
    p.msg.topic = p.msg.key = p.msg.value = {};
    p.token = txn_token_;
    return p;
}

void Pipeline::defer_begin_record(Routes routes) {
    begin_record_.clear();
    for (int i = 0; i < routes.count; i++)
        begin_record_.push_back(owned_pending(std::move(routes.message[i])));
}

void Pipeline::release_begin_record() {
    if (begin_record_.empty()) return;
    for (Pending &p : begin_record_) pending_.push_back(std::move(p));
    begin_record_.clear();
}

void Pipeline::queue_routes(Routes routes) {
    for (int i = 0; i < routes.count; i++) {
        Pending p;
        p.msg = std::move(routes.message[i]);
        p.token = txn_token_;
        pending_.push_back(std::move(p));
    }
}

Pipeline::Clock::time_point Pipeline::next_deadline() const {
    const auto interval = std::chrono::milliseconds(config_.status_update_interval_ms);
    Clock::time_point next = std::min(last_status_ + interval, last_log_ + kProgressInterval);
    // An acknowledgement that moved is reported sooner (maybe_send_status).
    if (tracker_->ack_lsn() > last_sent_flush_)
        next = std::min(
            next, last_status_ + std::min<Clock::duration>(interval, std::chrono::seconds(1)));
    next =
        std::min(next, Clock::now() + (sink_->outstanding() > 0 ? kDeliveryCheck : kSinkService));
    return next;
}

void Pipeline::wait_for_work(ReplicationStream &repl, bool sink_full) {
    const auto deadline = next_deadline();
    if (sink_full) {
        // Backpressure: leave the socket unread (TCP pushes back on the server) and
        // wait for the sink's next delivery report, which makes room.
        sink_->poll(millis_until(std::min(deadline, Clock::now() + kFullSinkWait)));
        return;
    }
    ShutdownToken::process().wait_fd(repl.socket(), POLLIN, millis_until(deadline));
}

bool Pipeline::drain_pending() {
    while (!pending_.empty()) {
        Pending &p = pending_.front();
        if (p.seal) {
            tracker_->seal(p.token);
            pending_.pop_front();
            continue;
        }
        if (p.block) {
            if (!produce_block_rows(p)) return false;
            pending_.pop_front();
            continue;
        }
        Message m;
        m.topic = p.owned_topic.empty() ? p.msg.topic : std::string_view(p.owned_topic);
        m.key = p.msg.message_key();
        m.value = p.msg.message_value();
        if (p.msg.value_head) {  // {"schema":..,"payload": + value + }
            m.value = *p.msg.value_head;
            m.value_more[0] = p.msg.message_value();
            m.value_more[1] = "}";
        }
        m.tombstone = p.msg.tombstone;
        m.token = p.token;
        const bool hand_over = offer_frame_buffer(p, m);
        // Reports come only from poll()/flush() (Sink contract), so counting
        // after a successful produce cannot miss one.
        if (!sink_->produce(m)) return false;
        if (hand_over) current_.buffer.release();  // the sink owns and frees it now
        tracker_->event_produced(p.token);
        events_++;
        count_events(p.owned_topic.empty() ? p.msg.topic : std::string_view(p.owned_topic),
                     p.msg.op, p.msg.tombstone, 1, m.value_size());
        pending_.pop_front();
    }
    return true;
}

bool Pipeline::offer_frame_buffer(Pending &p, Message &m) {
    // A large value goes to the sink in the buffer libpq received it in, moved to the
    // buffer's start: one copy of it less in memory (the sink would copy it otherwise).
    // libpq allocates it with malloc (PQfreemem is free() outside Windows).
    constexpr std::size_t kHandOverBytes = 1 << 20;
    char *base = current_.buffer.get();
    if (p.msg.tombstone || !p.msg.owned_value.empty() || p.msg.value_head ||
        m.value.size() < kHandOverBytes || !base || !sink_->takes_value_buffers() ||
        m.value.data() < base ||
        m.value.data() + m.value.size() > current_.data.data() + current_.data.size())
        return false;
    // Everything still to produce from this frame keeps its own topic and key.
    for (Pending &q : pending_) {
        if (q.owned_topic.empty()) q.owned_topic.assign(q.msg.topic);
        if (q.msg.owned_key.empty()) q.msg.owned_key.assign(q.msg.key);
    }
    m.topic = p.owned_topic;
    m.key = p.msg.owned_key;
    std::memmove(base, m.value.data(), m.value.size());
    p.msg.value = m.value = std::string_view(base, m.value.size());
    m.value_buffer = base;
    return true;
}

void Pipeline::count_events(std::string_view topic, char op, bool tombstone, std::size_t events,
                            std::size_t bytes) {
    if (!metrics_ || op == 0) return;
    std::string key(topic);
    key += '\t';
    key += tombstone ? 'T' : op;  // tombstones get their own series
    auto it = counters_.find(key);
    if (it == counters_.end()) {
        // table label: the topic without "<prefix>."
        std::string_view table = topic;
        if (table.size() > config_.topic_prefix.size() + 1 &&
            table.substr(0, config_.topic_prefix.size()) == config_.topic_prefix)
            table.remove_prefix(config_.topic_prefix.size() + 1);
        const std::string label = tombstone ? "tombstone" : std::string(1, op);
        it = counters_
                 .emplace(key, std::make_pair(&metrics_->events(std::string(table), label),
                                              &metrics_->bytes(std::string(table), label)))
                 .first;
    }
    it->second.first->inc(static_cast<double>(events));
    it->second.second->inc(static_cast<double>(bytes));
}

void Pipeline::observe_acks() {
    if (observer_) observer_->on_acknowledged(tracker_->ack_lsn());
    if (!metrics_) return;
    Lsn ack = tracker_->ack_lsn();
    auto now = Clock::now();
    while (!txn_started_.empty() && txn_started_.front().first <= ack) {
        metrics_->delivery_latency.observe(
            std::chrono::duration<double>(now - txn_started_.front().second).count());
        txn_started_.pop_front();
    }
    metrics_->ack_lsn.set(static_cast<double>(ack));
    metrics_->lag_bytes.set(server_end_ > ack ? static_cast<double>(server_end_ - ack) : 0.0);
    metrics_->producer_queue_depth.set(static_cast<double>(sink_->outstanding()));
}

void Pipeline::maybe_send_status(ReplicationStream &repl, bool force) {
    auto now = Clock::now();
    Lsn ack = tracker_->ack_lsn();
    auto since = now - last_status_;
    auto interval = std::chrono::milliseconds(config_.status_update_interval_ms);
    // A moved ack is reported promptly (at most once a second) so the slot
    // releases WAL; otherwise the timer keeps wal_sender_timeout away.
    bool moved = ack > last_sent_flush_ &&
                 since >= std::min<Clock::duration>(interval, std::chrono::seconds(1));
    if (!force && since < interval && !moved) return;
    repl.send_status(std::max(received_, ack), ack);
    last_sent_flush_ = ack;
    last_status_ = now;
    spdlog::trace("status update: write {} flush {}", format_lsn(std::max(received_, ack)),
                  format_lsn(ack));
}

void Pipeline::shutdown(ReplicationStream &repl) {
    spdlog::info("stopping: draining the sink ({} outstanding)", sink_->outstanding());
    auto deadline = Clock::now() + std::chrono::milliseconds(kShutdownFlushMs);
    while (!sink_->flush(200) && Clock::now() < deadline && !sink_->fatal()) {
        maybe_send_status(repl, false);  // stay alive for wal_sender_timeout
    }
    sink_->poll(0);
    if (sink_->outstanding() > 0)
        spdlog::warn("{} messages not delivered at shutdown; they will be resent next time",
                     sink_->outstanding());
    maybe_send_status(repl, true);
    repl.finish();
    log_progress(true);
    spdlog::info("stopped; acknowledged {}", format_lsn(tracker_->ack_lsn()));
}

void Pipeline::log_progress(bool force) {
    auto now = Clock::now();
    double secs = std::chrono::duration<double>(now - last_log_).count();
    if (!force && now - last_log_ < kProgressInterval) return;
    Lsn ack = tracker_->ack_lsn();
    spdlog::info(
        "progress: {:.0f} events/s, {} events total, acknowledged {}, lag {} bytes, "
        "{} transactions in flight, sink {}",
        secs > 0 ? (events_ - events_at_last_log_) / secs : 0.0, events_, format_lsn(ack),
        server_end_ > ack ? server_end_ - ack : 0, tracker_->in_flight(), sink_->describe());
    events_at_last_log_ = events_;
    last_log_ = now;
}

}  // namespace walcast
