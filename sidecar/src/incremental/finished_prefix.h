// Which chunks of a table are confirmed by the sink, as the contiguous prefix a restart
// can skip: with several chunks in flight they finish out of order, and only a chunk
// whose predecessors are all confirmed moves the recorded position.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "incremental/chunk_planner.h"

namespace walcast {

class FinishedPrefix {
public:
    // first_no: the first chunk still to read (its predecessors are on record, covering
    // keys up to `start`).
    FinishedPrefix(std::uint64_t first_no, KeyValues start)
        : next_(first_no), last_key_(std::move(start)) {}

    struct Advance {
        std::uint64_t chunks;  // chunks 0..chunks-1 are confirmed
        KeyValues last_key;    // the prefix covers every key up to this one (inclusive)
        std::uint64_t rows;    // rows the newly covered chunks read
    };
    // Chunk `no` is confirmed; it covers keys up to `end_key` (empty: it read nothing
    // and covers no more than its predecessor). Returns the new prefix if it grew.
    std::optional<Advance> confirmed(std::uint64_t no, const KeyValues &end_key,
                                     std::uint64_t rows);
    std::uint64_t pending() const { return done_.size(); }

private:
    struct Done {
        KeyValues end_key;
        std::uint64_t rows;
    };
    std::uint64_t next_;
    KeyValues last_key_;
    std::map<std::uint64_t, Done> done_;  // confirmed, after a gap
};

}  // namespace walcast
