#include "incremental/chunk_planner.h"

#include <utility>

namespace walcast {

ChunkPlanner::ChunkPlanner(std::uint64_t first_no, KeyValues after)
    : next_no_(first_no), cursor_(std::move(after)) {}

std::optional<ChunkRange> ChunkPlanner::next(const BoundaryFn &boundary) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || finished_ || !redo_.empty() || !tail_outstanding_; });
    if (stopped_) return std::nullopt;
    if (!redo_.empty()) {
        ChunkRange r = std::move(redo_.front());
        redo_.pop_front();
        return r;
    }
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
        stopped_ = true;
    }
    cv_.notify_all();
}

void ChunkPlanner::redo(ChunkRange range) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        range.redo = true;
        redo_.push_back(std::move(range));
    }
    cv_.notify_all();
}

bool ChunkPlanner::has_redo() {
    std::lock_guard<std::mutex> lock(mu_);
    return !redo_.empty();
}

}  // namespace walcast
