#include "incremental/chunk_window.h"

#include <utility>

namespace walcast {

std::string_view frame_key(std::string_view frame) {
    std::size_t start = 0;
    for (int field = 0; field < 3; field++) {
        start = frame.find('\t', start);
        if (start == std::string_view::npos) return {};
        start++;
    }
    std::size_t end = frame.find('\t', start);
    if (end == std::string_view::npos) return {};
    return frame.substr(start, end - start);
}

ChunkWindow::ChunkWindow(std::string topic) : topic_(std::move(topic)) {}

void ChunkWindow::on_change(std::string_view topic, std::string_view key) {
    if (!open_ || topic != topic_) return;
    if (key.empty()) {
        drop_all();
        return;
    }
    if (loaded_)
        drop(key);
    else
        changed_before_load_.emplace(key);
}

void ChunkWindow::drop(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end() || dropped_[it->second]) return;
    dropped_[it->second] = true;
    live_--;
}

void ChunkWindow::drop_all() {
    if (!loaded_) {
        truncated_ = true;
        return;
    }
    for (std::size_t i = 0; i < dropped_.size(); i++) dropped_[i] = true;
    live_ = 0;
}

void ChunkWindow::load(std::vector<std::string> frames) {
    frames_ = std::move(frames);
    dropped_.assign(frames_.size(), truncated_);
    live_ = truncated_ ? 0 : frames_.size();
    index_.reserve(frames_.size());
    for (std::size_t i = 0; i < frames_.size(); i++) {
        std::string_view key = frame_key(frames_[i]);
        index_.emplace(key, i);
        if (!dropped_[i] && changed_before_load_.count(std::string(key))) {
            dropped_[i] = true;
            live_--;
        }
    }
    changed_before_load_.clear();
    loaded_ = true;
}

std::vector<std::string> ChunkWindow::close() {
    std::vector<std::string> out;
    out.reserve(live_);
    for (std::size_t i = 0; i < frames_.size(); i++)
        if (!dropped_[i]) out.push_back(std::move(frames_[i]));
    index_.clear();
    frames_.clear();
    dropped_.clear();
    live_ = 0;
    open_ = false;
    return out;
}

}  // namespace walcast
