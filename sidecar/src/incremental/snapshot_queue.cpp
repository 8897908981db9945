#include "incremental/snapshot_queue.h"

#include <chrono>
#include <regex>

namespace walcast {

namespace {

// A queued request not yet resolved is named by its regex; one the function wrote
// ("public\.orders") is compared without its escapes too, so stopping "public.orders"
// drops it.
std::string unescaped(const std::string &pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); i++) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) i++;
        out += pattern[i];
    }
    return out;
}

bool any_matches(const std::vector<std::string> &patterns, const SnapshotRequest &r) {
    if (patterns.empty()) return true;
    for (const auto &p : patterns) {
        if (p == r.collection || collection_matches(p, r.collection)) return true;
        if (!r.resolved && collection_matches(p, unescaped(r.collection))) return true;
    }
    return false;
}

}  // namespace

bool collection_matches(const std::string &pattern, const std::string &name) {
    try {
        return std::regex_match(name, std::regex(pattern, std::regex::ECMAScript));
    } catch (const std::regex_error &) {
        return false;
    }
}

std::string condition_for(const std::vector<SnapshotCondition> &conditions,
                          const std::string &table) {
    for (const auto &c : conditions)
        if (c.data_collection == table || collection_matches(c.data_collection, table))
            return c.filter;
    return {};
}

void SnapshotQueue::push(std::vector<SnapshotRequest> requests) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto &r : requests) queue_.push_back(std::move(r));
    }
    cv_.notify_all();
}

void SnapshotQueue::push_front(std::vector<SnapshotRequest> requests) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.insert(queue_.begin(), std::make_move_iterator(requests.begin()),
                      std::make_move_iterator(requests.end()));
    }
    cv_.notify_all();
}

bool SnapshotQueue::take(SnapshotRequest &out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (closed_) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    return true;
}

void SnapshotQueue::close() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        closed_ = true;
    }
    cv_.notify_all();
}

std::size_t SnapshotQueue::stop(const std::vector<std::string> &patterns) {
    std::size_t dropped = 0;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = queue_.begin(); it != queue_.end();) {
            if (any_matches(patterns, *it)) {
                it = queue_.erase(it);
                dropped++;
            } else {
                ++it;
            }
        }
        if (!running_.empty() && any_matches(patterns, SnapshotRequest{running_, true, {}}))
            running_stopped_ = true;
    }
    cv_.notify_all();
    return dropped;
}

void SnapshotQueue::pause() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = true;
}

void SnapshotQueue::resume() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        paused_ = false;
    }
    cv_.notify_all();
}

bool SnapshotQueue::paused() const {
    std::lock_guard<std::mutex> lock(mu_);
    return paused_;
}

void SnapshotQueue::start(const std::string &table) {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = table;
    running_stopped_ = false;
}

bool SnapshotQueue::before_chunk(const std::atomic<bool> &stop) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        if (closed_ || running_stopped_ || stop) return false;
        if (!paused_) return true;
        // The process's stop flag is not ours to wait on: look at it now and then.
        cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
}

std::size_t SnapshotQueue::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
}

}  // namespace walcast
