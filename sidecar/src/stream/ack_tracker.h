// Decides which LSN may be acknowledged to Postgres: never one past an event the
// sink has not confirmed (design-notes, "Acknowledging positions").
//
// A FIFO of transactions in commit order, {end_lsn, outstanding, sealed}. The
// acknowledgeable position is the end_lsn of the longest leading run of sealed
// transactions whose events are all delivered. Memory is bounded by the number
// of transactions in flight, which the sink's bounded queue limits (a
// transaction stays in the FIFO only while some of its events are queued).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "pg/lsn.h"
#include "sink/sink.h"

namespace walcast {

class AckTracker {
public:
    // first_token: tokens are unique across tracker instances of one process, so
    // late delivery reports for a previous session are recognised and ignored.
    // start_lsn: the position already acknowledged (acks never go below it).
    explicit AckTracker(DeliveryToken first_token = 1, Lsn start_lsn = 0);

    // A transaction starts; end_lsn is the position to acknowledge once it is done.
    DeliveryToken begin(Lsn end_lsn);
    // More events (one by default) of this transaction were handed to the sink.
    void event_produced(DeliveryToken token, std::size_t events = 1);
    // The sink reported one event of this transaction. ok=false poisons the
    // tracker: nothing at or after this transaction is ever acknowledged.
    void delivered(DeliveryToken token, bool ok);
    // All events of the transaction were produced (its commit frame was read).
    void seal(DeliveryToken token);

    // Highest position that may be flushed; monotonic.
    Lsn ack_lsn() const { return ack_; }
    // Nothing pending: the caller may acknowledge a keepalive's walEnd.
    bool idle() const { return txns_.empty(); }
    // Acknowledges a keepalive position when idle and healthy; returns true if
    // the ack point moved.
    bool ack_idle(Lsn wal_end);
    bool failed() const { return failed_; }
    std::size_t in_flight() const { return txns_.size(); }
    // Next token begin() will hand out (for the next tracker after a restart).
    DeliveryToken next_token() const { return next_token_; }

private:
    struct Txn {
        Lsn end_lsn;
        std::uint64_t outstanding = 0;
        bool sealed = false;
        bool failed = false;
    };
    Txn *find(DeliveryToken token);
    void advance();

    std::deque<Txn> txns_;
    DeliveryToken front_token_;  // token of txns_.front()
    DeliveryToken next_token_;
    Lsn ack_;
    bool failed_ = false;
};

}  // namespace walcast
