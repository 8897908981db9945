// Blocking snapshots, in front of the stream: the pipeline's observer, which passes every
// frame to the incremental snapshot; that one hands blocking execute-snapshot signals
// back here (request()). They are run with the initial snapshot's parallel reader
// (snapshot/) while the pipeline holds the slot unread (stream/). Lives in app/ so that
// stream/ and snapshot/ never meet.
//
// A blocking snapshot, in order: the signal's W frame is read and the pipeline stops
// reading after it; once the sink confirmed every event read before the signal, the
// tables are read under a fresh exported snapshot and their rows produced by the
// snapshot's own sink; once it confirmed them all, the pipeline reads on. The signal's
// transaction cannot be acknowledged before: its commit frame is not read yet. A failed
// snapshot ends the replication session; the next one reads the slot again from its
// confirmed position, which is before the signal, and the snapshot runs again.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "incremental/control_message.h"
#include "metrics/metrics.h"
#include "snapshot/snapshot_runner.h"
#include "stream/stream_observer.h"

namespace walcast {

class SignalledSnapshots : public StreamObserver {
public:
    // incremental: receives every frame (not owned).
    SignalledSnapshots(const Config &config, StreamObserver &incremental, SinkFactory make_sink,
                       Registry *metrics);
    ~SignalledSnapshots() override;

    void on_event(const Frame &event) override { incremental_.on_event(event); }
    void on_control(const Frame &control, std::shared_ptr<const RowBlock> &emit) override;
    void on_session_start() override;
    bool holds_stream(bool delivered) override;
    void on_acknowledged(Lsn ack) override { incremental_.on_acknowledged(ack); }
    // A blocking execute-snapshot signal, just read by the stream thread: the stream is
    // held from now on.
    void request(const ControlMessage &m);

private:
    enum State : int { kIdle, kWaitingForSink, kReading, kDone, kFailed };

    void read_tables();
    void join();

    const Config &config_;
    StreamObserver &incremental_;
    SinkFactory make_sink_;
    Registry *metrics_;
    std::atomic<int> state_{kIdle};
    std::vector<std::string> tables_;            // of the blocking snapshot being held for
    std::vector<SnapshotCondition> conditions_;  // its additional-conditions
    std::string error_;  // of a failed one (written before state_ = kFailed)
    std::thread reader_;
};

}  // namespace walcast
