#include "incremental/chunk_window.h"

#include <utility>

namespace walcast {

std::string_view compact_row_key(std::string_view row) { return row.substr(0, row.find('\t')); }

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

void ChunkWindow::load(std::vector<std::string> rows) {
    rows_ = std::move(rows);
    dropped_.assign(rows_.size(), truncated_);
    live_ = truncated_ ? 0 : rows_.size();
    index_.reserve(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); i++) {
        std::string_view key = compact_row_key(rows_[i]);
        index_.emplace(key, i);
        if (!dropped_[i] && !changed_before_load_.empty() &&
            changed_before_load_.count(std::string(key))) {
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
    for (std::size_t i = 0; i < rows_.size(); i++)
        if (!dropped_[i]) out.push_back(std::move(rows_[i]));
    index_.clear();
    rows_.clear();
    dropped_.clear();
    live_ = 0;
    open_ = false;
    return out;
}

}  // namespace walcast
