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

void ChunkWindow::index_rows() {
    index_.reserve(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); i++)
        index_.emplace(compact_row_key(rows_.rows[i]), i);
    indexed_ = true;
}

void ChunkWindow::drop(std::string_view key) {
    if (!indexed_) index_rows();
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

void ChunkWindow::load(RowViews rows) {
    rows_ = std::move(rows);
    dropped_.assign(rows_.size(), truncated_);
    live_ = truncated_ ? 0 : rows_.size();
    if (!truncated_ && !changed_before_load_.empty()) {
        for (std::size_t i = 0; i < rows_.size(); i++) {
            if (changed_before_load_.count(std::string(compact_row_key(rows_.rows[i])))) {
                dropped_[i] = true;
                live_--;
            }
        }
    }
    changed_before_load_.clear();
    loaded_ = true;
}

RowViews ChunkWindow::close() {
    RowViews out;
    if (live_ == rows_.size()) {
        out = std::move(rows_);
    } else {
        out.owner = rows_.owner;
        out.rows.reserve(live_);
        for (std::size_t i = 0; i < rows_.size(); i++)
            if (!dropped_[i]) out.rows.push_back(rows_.rows[i]);
    }
    index_.clear();
    indexed_ = false;
    rows_ = RowViews();
    dropped_.clear();
    live_ = 0;
    open_ = false;
    return out;
}

}  // namespace walcast
