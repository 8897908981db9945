#include "incremental/window_set.h"

#include <utility>

namespace walcast {

void WindowSet::add(const std::string &chunk, const std::string &topic) {
    open_[chunk] = Open{std::make_unique<ChunkWindow>(topic), {}};
}

void WindowSet::remove(const std::string &chunk) {
    open_.erase(chunk);
    closed_.erase(chunk);
}

bool WindowSet::open(const std::string &chunk) {
    auto it = open_.find(chunk);
    if (it == open_.end()) return false;
    it->second.window->open();
    return true;
}

void WindowSet::load(const std::string &chunk, std::vector<std::string> frames,
                     std::string schema) {
    auto it = open_.find(chunk);
    if (it == open_.end()) return;
    it->second.schema = std::move(schema);
    it->second.window->load(std::move(frames));
}

void WindowSet::on_change(std::string_view topic, std::string_view key) {
    for (auto &[id, w] : open_) w.window->on_change(topic, key);
}

std::optional<WindowSet::Closed> WindowSet::close(const std::string &chunk, Lsn txn_end) {
    auto it = open_.find(chunk);
    if (it == open_.end() || !it->second.window->is_loaded()) return std::nullopt;
    Closed out;
    out.read = it->second.window->rows_read();
    out.topic = it->second.window->topic();
    out.emit = it->second.window->close();
    out.kept = out.emit.size();
    if (!it->second.schema.empty() && !out.emit.empty())
        out.emit.insert(out.emit.begin(), std::move(it->second.schema));
    closed_[chunk] = txn_end;
    open_.erase(it);
    return out;
}

std::optional<Lsn> WindowSet::closed_at(const std::string &chunk) const {
    auto it = closed_.find(chunk);
    if (it == closed_.end()) return std::nullopt;
    return it->second;
}

void WindowSet::forget(const std::string &chunk) { closed_.erase(chunk); }

}  // namespace walcast
