#include "incremental/chunk_planner.h"

#include <utility>

namespace walcast {

ChunkPlanner::ChunkPlanner(std::uint64_t first_no, KeyValues after)
    : next_no_(first_no), cursor_(std::move(after)) {}

std::optional<ChunkRange> ChunkPlanner::next(const BoundaryFn &boundary) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return finished_ || !tail_outstanding_; });
    if (finished_) return std::nullopt;
    ChunkRange range;
    range.no = next_no_++;
    range.after = cursor_;
    if (std::optional<KeyValues> hi = boundary(cursor_)) {
        range.through = *hi;
        cursor_ = std::move(*hi);
    } else {
        tail_outstanding_ = true;
    }
    return range;
}

void ChunkPlanner::tail_read(bool full, const KeyValues &last_key) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        tail_outstanding_ = false;
        if (full)
            cursor_ = last_key;
        else
            finished_ = true;
    }
    cv_.notify_all();
}

void ChunkPlanner::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        finished_ = true;
    }
    cv_.notify_all();
}

}  // namespace walcast
