// Blocking snapshot signals hold the stream; every frame reaches the incremental snapshot.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "app/signalled_snapshots.h"
#include "incremental/control_message.h"
#include "pg/pg_conn.h"
#include "snapshot/captured_tables.h"

namespace walcast {
namespace {

struct RecordingObserver : StreamObserver {
    int events = 0, sessions = 0;
    Lsn acknowledged = 0;
    std::vector<std::string> controls;
    void on_event(const Frame &) override { events++; }
    void on_control(const Frame &control, std::shared_ptr<const RowBlock> &) override {
        controls.emplace_back(control.value);
    }
    void on_session_start() override { sessions++; }
    void on_acknowledged(Lsn ack) override { acknowledged = ack; }
};

Frame control_frame(const std::string &text) {
    Frame f;
    f.type = FrameType::kControl;
    f.value = text;
    return f;
}

ControlMessage blocking_signal(const std::string &tables_json) {
    return parse_control_message(signal_frame_value(
        "b1", "execute-snapshot", R"({"type":"blocking","data-collections":)" + tables_json + "}"));
}

// A server that refuses at once: the blocking snapshot's read fails.
Config unreachable_config() {
    ConfigSources src;
    src.sets = {"database.hostname=127.0.0.1", "database.port=1"};
    return load_config(src);
}

TEST(SignalledSnapshots, FramesGoToTheIncrementalSnapshot) {
    const Config config = unreachable_config();
    RecordingObserver incremental;
    SignalledSnapshots signalled(config, incremental, nullptr, nullptr);
    const std::string signal = signal_frame_value(
        "i1", "execute-snapshot", R"({"type":"incremental","data-collections":["public.t"]})");
    std::shared_ptr<const RowBlock> emit;
    signalled.on_control(control_frame(signal), emit);
    signalled.on_event(Frame{});
    signalled.on_session_start();
    signalled.on_acknowledged(0x1234);
    EXPECT_EQ(incremental.controls, std::vector<std::string>{signal});
    EXPECT_EQ(incremental.acknowledged, Lsn{0x1234});
    EXPECT_EQ(incremental.events, 1);
    EXPECT_EQ(incremental.sessions, 1);
    EXPECT_FALSE(signalled.holds_stream(true));
}

TEST(SignalledSnapshots, BlockingSignalHoldsTheStreamUntilItsReadEnds) {
    const Config config = unreachable_config();
    RecordingObserver incremental;
    SignalledSnapshots signalled(config, incremental, nullptr, nullptr);
    EXPECT_FALSE(signalled.holds_stream(true));
    const ControlMessage m = blocking_signal(R"(["public\\.t"])");
    ASSERT_EQ(m.kind, ControlMessage::Kind::kExecuteSnapshot);
    signalled.request(m);
    // Events read before the signal are not all confirmed: held, nothing read yet.
    EXPECT_TRUE(signalled.holds_stream(false));
    EXPECT_TRUE(signalled.holds_stream(false));
    // Confirmed: the read starts (and fails: nothing listens); the failure ends the
    // session, so the slot is read again from before the signal.
    bool threw = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!threw && std::chrono::steady_clock::now() < deadline) {
        try {
            EXPECT_TRUE(signalled.holds_stream(true));
        } catch (const PgError &e) {
            threw = true;
            EXPECT_NE(std::string(e.what()).find("blocking snapshot of public\\.t failed"),
                      std::string::npos)
                << e.what();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(threw);
    EXPECT_FALSE(signalled.holds_stream(true));
}

TEST(SignalledSnapshots, BlockingSignalWithoutTablesIsIgnored) {
    const Config config = unreachable_config();
    RecordingObserver incremental;
    SignalledSnapshots signalled(config, incremental, nullptr, nullptr);
    signalled.request(blocking_signal("[]"));
    EXPECT_FALSE(signalled.holds_stream(true));
}

}  // namespace
}  // namespace walcast
