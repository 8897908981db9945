#include "stream/ack_tracker.h"

#include <algorithm>

namespace walcast {

AckTracker::AckTracker(DeliveryToken first_token, Lsn start_lsn)
    : front_token_(first_token), next_token_(first_token), ack_(start_lsn) {}

DeliveryToken AckTracker::begin(Lsn end_lsn) {
    if (txns_.empty()) front_token_ = next_token_;
    txns_.push_back(Txn{end_lsn});
    return next_token_++;
}

AckTracker::Txn *AckTracker::find(DeliveryToken token) {
    // Tokens are consecutive, so the FIFO is indexed by token - front_token_.
    // Tokens below the front belong to popped transactions or an earlier
    // session: never valid here.
    if (token < front_token_ || token - front_token_ >= txns_.size()) return nullptr;
    return &txns_[token - front_token_];
}

void AckTracker::event_produced(DeliveryToken token, std::size_t events) {
    if (Txn *t = find(token)) t->outstanding += events;
}

void AckTracker::delivered(DeliveryToken token, bool ok) {
    Txn *t = find(token);
    if (t == nullptr) return;
    if (t->outstanding > 0) t->outstanding--;
    if (!ok) {
        t->failed = true;
        failed_ = true;
    }
    advance();
}

void AckTracker::seal(DeliveryToken token) {
    if (Txn *t = find(token)) {
        t->sealed = true;
        advance();
    }
}

bool AckTracker::ack_idle(Lsn wal_end) {
    if (!txns_.empty() || failed_ || wal_end <= ack_) return false;
    ack_ = wal_end;
    return true;
}

void AckTracker::advance() {
    while (!txns_.empty()) {
        const Txn &t = txns_.front();
        if (!t.sealed || t.outstanding != 0 || t.failed) break;
        ack_ = std::max(ack_, t.end_lsn);  // max: acks stay monotonic
        txns_.pop_front();
        front_token_++;
    }
}

}  // namespace walcast
