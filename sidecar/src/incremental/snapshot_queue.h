// The queue of an incremental snapshot's requests and the signals that act on it
// (docs/incremental-snapshots.md): execute-snapshot appends, stop-snapshot drops queued
// requests and abandons the running table at its next chunk boundary, pause-snapshot
// holds readers before their next low watermark until resume-snapshot. The stream
// thread signals, reader threads take and wait; one mutex guards it all.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "incremental/control_message.h"

namespace walcast {

struct SnapshotRequest {
    // A regex on "schema.table" as the signal gave it, or (resolved) one table's name.
    std::string collection;
    bool resolved = false;
    std::vector<SnapshotCondition> conditions;  // the signal's additional-conditions
};

// True when pattern (a regex, Debezium's data-collections) matches all of name. A
// malformed pattern matches nothing.
bool collection_matches(const std::string &pattern, const std::string &name);

// The filter of the first condition whose data-collection matches table, or empty.
std::string condition_for(const std::vector<SnapshotCondition> &conditions,
                          const std::string &table);

class SnapshotQueue {
public:
    void push(std::vector<SnapshotRequest> requests);
    // Ahead of everything queued, in this order (a regex's tables, once resolved).
    void push_front(std::vector<SnapshotRequest> requests);
    // Blocks until a request is queued (true) or the queue is closed (false). The
    // request's table becomes the running one once the reader calls start().
    bool take(SnapshotRequest &out);
    void close();

    // stop-snapshot: patterns empty means everything. Returns how many queued requests
    // were dropped; a running table that matches is abandoned at its next chunk.
    std::size_t stop(const std::vector<std::string> &patterns);
    void pause();
    void resume();
    bool paused() const;

    // A reader begins (or ends, with "") reading table.
    void start(const std::string &table);
    // Before each chunk's low watermark: waits while paused. False when the table was
    // stopped, the queue closed, or stop is set: the reader abandons the table.
    bool before_chunk(const std::atomic<bool> &stop);

    std::size_t size() const;

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<SnapshotRequest> queue_;
    std::string running_;
    bool running_stopped_ = false;
    bool paused_ = false;
    bool closed_ = false;
};

}  // namespace walcast
