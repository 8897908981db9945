#include "app/signalled_snapshots.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "common/shutdown.h"
#include "incremental/control_message.h"
#include "incremental/snapshot_request.h"
#include "pg/pg_conn.h"
#include "snapshot/blocking_snapshot.h"

namespace walcast {

namespace {

std::string joined(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

}  // namespace

SignalledSnapshots::SignalledSnapshots(const Config &config, StreamObserver &incremental,
                                       SinkFactory make_sink, Registry *metrics)
    : config_(config),
      incremental_(incremental),
      make_sink_(std::move(make_sink)),
      metrics_(metrics) {}

SignalledSnapshots::~SignalledSnapshots() { join(); }

void SignalledSnapshots::join() {
    if (reader_.joinable()) reader_.join();
}

void SignalledSnapshots::on_control(const Frame &control, std::shared_ptr<const RowBlock> &emit) {
    incremental_.on_control(control, emit);
}

void SignalledSnapshots::request(const ControlMessage &m) {
    if (m.data_collections.empty()) {
        spdlog::error("blocking snapshot signal {} without tables ignored", m.id);
        return;
    }
    spdlog::info("blocking snapshot of {} requested (signal {}): the stream stops reading the slot",
                 joined(m.data_collections), m.id);
    tables_ = m.data_collections;
    conditions_ = m.conditions;
    state_ = kWaitingForSink;
}

bool SignalledSnapshots::holds_stream(bool delivered) {
    switch (state_.load()) {
        case kIdle:
            return false;
        case kWaitingForSink:
            // Rows read now must reach the topic after every event before the signal:
            // an older streamed version delivered after them would win the fold.
            if (!delivered) return true;
            state_ = kReading;
            reader_ = std::thread([this] { read_tables(); });
            return true;
        case kReading:
            return true;
        case kDone:
            join();
            state_ = kIdle;
            spdlog::info("blocking snapshot done: the stream reads the slot again");
            return false;
        case kFailed:
        default: {
            join();
            state_ = kIdle;
            if (ShutdownToken::process().requested()) return true;  // the loop stops
            throw PgError(false, "blocking snapshot of " + joined(tables_) + " failed (" + error_ +
                                     "); reading the slot again from before its signal");
        }
    }
}

void SignalledSnapshots::read_tables() {
    try {
        // A table's condition: the first additional-condition whose data-collection
        // matches it, checked by the extension (a refused one skips the table).
        auto condition_of = [this](PGconn *conn,
                                   const SnapshotTable &t) -> std::optional<std::string> {
            const std::string filter = condition_for(conditions_, t.published);
            std::string checked;
            if (filter.empty()) return checked;
            if (!checked_condition(conn, std::to_string(t.rel), t.published, filter, checked))
                return std::nullopt;
            return checked;
        };
        const SnapshotResult r =
            run_blocking_snapshot(config_, tables_, condition_of, make_sink_, metrics_);
        spdlog::info("blocking snapshot: {} rows in {:.1f} s", r.rows, r.seconds);
        state_ = kDone;
    } catch (const std::exception &e) {
        error_ = e.what();
        spdlog::error("blocking snapshot: {}", error_);
        state_ = kFailed;
    }
}

void SignalledSnapshots::on_session_start() {
    // A session that ended while a snapshot ran (a stop, a failed sink): the next
    // session reads the signal again.
    join();
    state_ = kIdle;
    incremental_.on_session_start();
}

}  // namespace walcast
