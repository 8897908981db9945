// What connects snapshot readers to the thread that feeds the sink: a queue bounded
// in bytes (a slow sink slows the readers, memory stays bounded) and a shared
// rows/bytes-per-second throttle.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/shutdown.h"
#include "snapshot/snapshot_batch.h"

namespace walcast {

class SnapshotChannel {
public:
    explicit SnapshotChannel(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    // Blocks while the queue is full. Returns false once closed.
    bool push(RowBatch item) {
        std::unique_lock<std::mutex> lock(mu_);
        not_full_.wait(lock, [&] { return closed_ || bytes_ < max_bytes_; });
        if (closed_) return false;
        bytes_ += item.data.size();
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }

    std::optional<RowBatch> pop(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mu_);
        if (!not_empty_.wait_for(lock, timeout, [&] { return !items_.empty(); }))
            return std::nullopt;
        RowBatch item = std::move(items_.front());
        items_.pop_front();
        bytes_ -= item.data.size();
        not_full_.notify_all();
        return item;
    }

    // Wakes and rejects every blocked or later push.
    void close() {
        std::lock_guard<std::mutex> lock(mu_);
        closed_ = true;
        not_full_.notify_all();
    }

private:
    std::mutex mu_;
    std::condition_variable not_full_, not_empty_;
    std::deque<RowBatch> items_;
    std::size_t bytes_ = 0;
    const std::size_t max_bytes_;
    bool closed_ = false;
};

// Token bucket over rows and bytes, shared by all readers; zero rates disable it.
class Throttle {
public:
    Throttle(double rows_per_second, double bytes_per_second)
        : rows_rate_(rows_per_second), bytes_rate_(bytes_per_second), start_(Clock::now()) {}

    // Throws Stopped when a stop is requested during the wait.
    void acquire(std::size_t rows, std::size_t bytes) {
        if (rows_rate_ <= 0 && bytes_rate_ <= 0) return;
        std::chrono::duration<double> wait{0};
        {
            std::lock_guard<std::mutex> lock(mu_);
            rows_ += static_cast<double>(rows);
            bytes_ += static_cast<double>(bytes);
            // When the work done so far is allowed to be finished at these rates.
            double due = std::max(rows_rate_ > 0 ? rows_ / rows_rate_ : 0.0,
                                  bytes_rate_ > 0 ? bytes_ / bytes_rate_ : 0.0);
            double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
            if (due > elapsed) wait = std::chrono::duration<double>(due - elapsed);
        }
        if (wait.count() > 0 && ShutdownToken::process().sleep_for(
                                    std::chrono::duration_cast<std::chrono::milliseconds>(wait)))
            throw Stopped("throttling the snapshot");
    }

private:
    using Clock = std::chrono::steady_clock;
    std::mutex mu_;
    const double rows_rate_, bytes_rate_;
    double rows_ = 0, bytes_ = 0;
    const Clock::time_point start_;
};

}  // namespace walcast
