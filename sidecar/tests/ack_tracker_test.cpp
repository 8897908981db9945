// The acknowledgement invariant: the ack never passes an undelivered event,
// never moves backwards, and a failed delivery stops it for good.
#include "stream/ack_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace walcast {
namespace {

TEST(AckTracker, StartsAtStartLsnAndIdle) {
    AckTracker t(1, 100);
    EXPECT_EQ(t.ack_lsn(), 100u);
    EXPECT_TRUE(t.idle());
    EXPECT_FALSE(t.failed());
}

TEST(AckTracker, AcksEndLsnOnlyAfterSealAndAllDeliveries) {
    AckTracker t;
    auto a = t.begin(200);
    t.event_produced(a);
    t.event_produced(a);
    t.delivered(a, true);
    t.delivered(a, true);
    EXPECT_EQ(t.ack_lsn(), 0u) << "not sealed: more events may follow";
    t.seal(a);
    EXPECT_EQ(t.ack_lsn(), 200u);
    EXPECT_TRUE(t.idle());
}

TEST(AckTracker, SealBeforeDeliveries) {
    AckTracker t;
    auto a = t.begin(200);
    t.event_produced(a);
    t.seal(a);
    EXPECT_EQ(t.ack_lsn(), 0u);
    t.delivered(a, true);
    EXPECT_EQ(t.ack_lsn(), 200u);
}

TEST(AckTracker, LaterTransactionDoesNotPassEarlierOne) {
    AckTracker t;
    auto a = t.begin(100);
    t.event_produced(a);
    t.seal(a);
    auto b = t.begin(200);
    t.event_produced(b);
    t.seal(b);
    t.delivered(b, true);  // out of order: b before a
    EXPECT_EQ(t.ack_lsn(), 0u);
    EXPECT_EQ(t.in_flight(), 2u);
    t.delivered(a, true);
    EXPECT_EQ(t.ack_lsn(), 200u) << "the whole leading run is released at once";
    EXPECT_TRUE(t.idle());
}

TEST(AckTracker, UnsealedMiddleTransactionHoldsTheRest) {
    AckTracker t;
    auto a = t.begin(100);
    t.seal(a);  // empty transactions are acknowledgeable
    EXPECT_EQ(t.ack_lsn(), 100u);
    auto b = t.begin(200);
    t.event_produced(b);
    t.delivered(b, true);
    auto c_unused = b;  // b stays unsealed
    (void)c_unused;
    EXPECT_EQ(t.ack_lsn(), 100u);
}

TEST(AckTracker, FailureBlocksAcksAtAndAfterTheFailedTransaction) {
    AckTracker t;
    auto a = t.begin(100);
    t.event_produced(a);
    t.seal(a);
    auto b = t.begin(200);
    t.event_produced(b);
    t.event_produced(b);
    t.seal(b);
    auto c = t.begin(300);
    t.event_produced(c);
    t.seal(c);
    t.delivered(b, false);
    EXPECT_TRUE(t.failed());
    t.delivered(a, true);
    EXPECT_EQ(t.ack_lsn(), 100u) << "transactions before the failure may still be acked";
    t.delivered(b, true);
    t.delivered(c, true);
    EXPECT_EQ(t.ack_lsn(), 100u) << "never past the failed transaction";
    EXPECT_FALSE(t.ack_idle(1000)) << "no idle acks once failed";
    EXPECT_EQ(t.ack_lsn(), 100u);
}

TEST(AckTracker, IdleAckMovesOnlyWhenNothingPending) {
    AckTracker t(1, 50);
    EXPECT_TRUE(t.ack_idle(500));
    EXPECT_EQ(t.ack_lsn(), 500u);
    EXPECT_FALSE(t.ack_idle(400)) << "monotonic";
    EXPECT_EQ(t.ack_lsn(), 500u);
    auto a = t.begin(900);
    t.event_produced(a);
    EXPECT_FALSE(t.ack_idle(1000)) << "a transaction is open";
    t.seal(a);
    EXPECT_FALSE(t.ack_idle(1000)) << "its event is not delivered";
    EXPECT_EQ(t.ack_lsn(), 500u);
    t.delivered(a, true);
    EXPECT_EQ(t.ack_lsn(), 900u);
    EXPECT_TRUE(t.ack_idle(1000));
    EXPECT_EQ(t.ack_lsn(), 1000u);
}

TEST(AckTracker, AckNeverGoesBelowStartOrBackwards) {
    AckTracker t(1, 1000);
    auto a = t.begin(500);  // resent transaction below the slot position
    t.seal(a);
    EXPECT_EQ(t.ack_lsn(), 1000u);
}

TEST(AckTracker, UnknownAndStaleTokensAreIgnored) {
    AckTracker old_session(1);
    auto a = old_session.begin(100);
    old_session.event_produced(a);
    AckTracker t(old_session.next_token());
    auto b = t.begin(200);
    t.event_produced(b);
    t.seal(b);
    t.delivered(a, true);    // a report for the previous session
    t.delivered(999, true);  // never handed out
    EXPECT_EQ(t.ack_lsn(), 0u);
    t.delivered(a, false);  // a stale failure does not poison the new session
    EXPECT_FALSE(t.failed());
    t.delivered(b, true);
    EXPECT_EQ(t.ack_lsn(), 200u);
}

TEST(AckTracker, TokensStayValidAcrossPops) {
    AckTracker t;
    std::vector<DeliveryToken> toks;
    for (Lsn l = 1; l <= 5; l++) {
        toks.push_back(t.begin(l * 10));
        t.event_produced(toks.back());
        t.seal(toks.back());
    }
    t.delivered(toks[0], true);
    t.delivered(toks[1], true);
    EXPECT_EQ(t.ack_lsn(), 20u);
    auto late = t.begin(60);  // the FIFO front moved; indexing must follow
    t.event_produced(late);
    t.seal(late);
    t.delivered(toks[3], true);
    t.delivered(late, true);
    EXPECT_EQ(t.ack_lsn(), 20u);
    t.delivered(toks[2], true);
    EXPECT_EQ(t.ack_lsn(), 40u);
    t.delivered(toks[4], true);
    EXPECT_EQ(t.ack_lsn(), 60u);
    EXPECT_TRUE(t.idle());
}

// Random interleavings against a brute-force model of the invariant.
TEST(AckTracker, RandomisedAgainstModel) {
    std::mt19937 rng(42);
    for (int round = 0; round < 200; round++) {
        AckTracker t;
        struct Model {
            Lsn end = 0;
            int produced = 0, delivered = 0;
            bool sealed = false;
            DeliveryToken tok = 0;
        };
        std::vector<Model> txns;
        std::vector<std::size_t> undelivered;  // indices into txns, one per event
        Lsn lsn = 0, last_ack = 0;
        for (int step = 0; step < 300; step++) {
            int action = rng() % 4;
            bool open = !txns.empty() && !txns.back().sealed;
            if (action == 0 && !open) {
                lsn += 1 + rng() % 100;
                Model m;
                m.end = lsn;
                m.tok = t.begin(lsn);
                txns.push_back(m);
            } else if (action == 1 && open) {
                t.event_produced(txns.back().tok);
                txns.back().produced++;
                undelivered.push_back(txns.size() - 1);
            } else if (action == 2 && open) {
                t.seal(txns.back().tok);
                txns.back().sealed = true;
            } else if (action == 3 && !undelivered.empty()) {
                std::size_t k = rng() % undelivered.size();
                std::size_t i = undelivered[k];
                undelivered.erase(undelivered.begin() + static_cast<long>(k));
                txns[i].delivered++;
                t.delivered(txns[i].tok, true);
            }
            Lsn expect = 0;
            for (const auto &m : txns) {
                if (!m.sealed || m.delivered != m.produced) break;
                expect = m.end;
            }
            ASSERT_EQ(t.ack_lsn(), expect) << "round " << round << " step " << step;
            ASSERT_GE(t.ack_lsn(), last_ack);
            last_ack = t.ack_lsn();
        }
    }
}

}  // namespace
}  // namespace walcast
