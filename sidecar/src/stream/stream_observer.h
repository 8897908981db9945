// A stage that watches the stream without holding it back (the incremental snapshot):
// it sees every event frame and walcast's control frames (W), and may hand back events
// that go out at that point of the stream, in the transaction being read.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/frame.h"

namespace walcast {

// Rows as views into memory that `owner` keeps (a reader's query result): a row goes
// from the server's reply to the sink without a copy of its own.
struct RowViews {
    std::shared_ptr<const void> owner;
    std::vector<std::string_view> rows;

    RowViews() = default;
    RowViews(std::shared_ptr<const void> keeper, std::vector<std::string_view> views)
        : owner(std::move(keeper)), rows(std::move(views)) {}
    // Rows that the value holds itself.
    explicit RowViews(std::vector<std::string> held);
    std::size_t size() const { return rows.size(); }
    bool empty() const { return rows.empty(); }
};

// Rows an observer hands back, produced right there in the stream (an incremental
// snapshot's chunk at its high watermark). Rows are in the compact layout
// (`<key>\t<after>`, docs/framing.md); all share one envelope: a row's value is
// value_head + after + value_tail, its key key_head + key + "}" (key_head empty: the key
// as it is; an empty key: a null key).
struct RowBlock {
    std::string topic;
    std::string value_head, value_tail, key_head;
    RowViews rows;
};

class StreamObserver {
public:
    virtual ~StreamObserver() = default;
    // An event frame, before it is produced. Called for every event: keep it cheap.
    virtual void on_event(const Frame &event) = 0;
    // A control frame; its commit_lsn is where its transaction ends (the position the
    // sink confirms once the transaction is delivered). `emit`: rows to produce right
    // here, in order, as op "r" events of the control frame's transaction (null: none).
    virtual void on_control(const Frame &control, std::shared_ptr<const RowBlock> &emit) = 0;
    // A new replication session starts (after a reconnect the server resends from the
    // slot's confirmed position).
    virtual void on_session_start() = 0;
    // Whether the stream stays where it is (a blocking snapshot): while true the pipeline
    // reads nothing more from the slot, keeps serving the sink and sending status updates,
    // which cannot acknowledge the transaction being read. `delivered`: the sink confirmed
    // every event read so far. Asked after each frame and while held: keep it cheap.
    virtual bool holds_stream(bool delivered) {
        (void)delivered;
        return false;
    }
    // The sink confirmed every transaction ending at or before `ack` (called often: keep
    // it cheap).
    virtual void on_acknowledged(Lsn ack) { (void)ack; }
};

}  // namespace walcast
