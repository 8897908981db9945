// Key ranges of an incremental snapshot's chunks, planned just before each is read so
// that several readers can read disjoint ranges at once (docs/incremental-snapshots.md,
// "Several chunks in flight").
//
// The ranges partition the key space: (start, b1], (b1, b2], ..., (bk, +inf). A boundary
// b(i+1) is the key `chunk size` rows after b(i) when it is planned (a query of the
// reader that takes the range, under the planner's lock). When no such key exists the
// range is the open-ended tail: it is read with a LIMIT of one chunk, and planning waits
// for that read: a full tail continues after its last key, a short one ends the table.
// Keys inserted into a planned range before its read are read with it; keys inserted
// after the tail's read come after its last key and are planned next.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace walcast {

// A primary key's values as text, in key order; empty: before the first key / no bound.
using KeyValues = std::vector<std::string>;

struct ChunkRange {
    std::uint64_t no = 0;  // consecutive per table, across restarts
    KeyValues after;       // lower bound, exclusive (empty: from the first key)
    KeyValues through;     // upper bound, inclusive (empty: the open-ended tail)
    bool redo = false;     // read again: its rows may not have reached the sink
    bool tail() const { return through.empty(); }
};

class ChunkPlanner {
public:
    // The key `rows` rows after `after` (exclusive) in key order, or nothing when fewer
    // rows follow it. Called with the planner's lock held.
    using BoundaryFn = std::function<std::optional<KeyValues>(const KeyValues &after)>;

    // first_no: the number of the first chunk (chunks finished before a restart keep
    // theirs); after: where the table's reading starts.
    ChunkPlanner(std::uint64_t first_no, KeyValues after);

    // The next range, or nothing when the table is planned completely or stop() was
    // called. Blocks while the tail's read is outstanding.
    std::optional<ChunkRange> next(const BoundaryFn &boundary);
    // The tail chunk was read: `full` (as many rows as a chunk holds) continues after
    // `last_key`; otherwise the table is complete.
    void tail_read(bool full, const KeyValues &last_key);
    // A reader failed or the process stops: next() returns nothing from now on.
    void stop();
    // A chunk read before a reconnect whose rows the sink never confirmed: next() hands it
    // out again first, bounded by the last key it read (rows after it that existed then
    // were in later ranges; rows inserted since are in the stream).
    void redo(ChunkRange range);
    bool has_redo();

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t next_no_;
    KeyValues cursor_;
    bool tail_outstanding_ = false;
    bool finished_ = false;
    bool stopped_ = false;
    std::deque<ChunkRange> redo_;
};

}  // namespace walcast
