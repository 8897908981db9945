#include "incremental/window_set.h"

#include <utility>

namespace walcast {

void WindowSet::keep_changes_of(const std::string &topic) {
    kept_topic_ = topic;
    kept_.clear();
}

void WindowSet::add(const std::string &chunk, const std::string &topic) {
    Open o;
    o.window = std::make_unique<ChunkWindow>(topic);
    o.xmin_floor = newest_xmin_;
    o.has_floor = has_xmin_;
    open_[chunk] = std::move(o);
}

void WindowSet::remove(const std::string &chunk) {
    open_.erase(chunk);
    closed_.erase(chunk);
    prune();
}

bool WindowSet::open(const std::string &chunk) {
    auto it = open_.find(chunk);
    if (it == open_.end()) return false;
    it->second.window->open();
    it->second.opened_at = next_seq_;
    return true;
}

void WindowSet::load(const std::string &chunk, RowViews rows,
                     std::shared_ptr<const ChunkTemplate> event_template,
                     const SnapshotXids &snapshot) {
    auto it = open_.find(chunk);
    if (it == open_.end()) return;
    it->second.event_template = std::move(event_template);
    it->second.window->load(std::move(rows));
    it->second.snapshot = snapshot;
    if (snapshot.valid && (!has_xmin_ || xid_precedes(newest_xmin_, snapshot.xmin))) {
        newest_xmin_ = snapshot.xmin;
        has_xmin_ = true;
    }
    prune();
}

void WindowSet::on_change(std::string_view topic, std::string_view key, std::uint32_t xid) {
    for (auto &[id, w] : open_) w.window->on_change(topic, key);
    if (!kept_topic_.empty() && topic == kept_topic_)
        kept_.push_back(Change{next_seq_++, xid, std::string(key)});
}

void WindowSet::prune() {
    // The oldest xmin a read now or later can have: that of every loaded open chunk, the
    // floor of every unloaded one, and for chunks not added yet the newest xmin seen.
    if (!has_xmin_) return;
    std::uint32_t horizon = newest_xmin_;
    for (const auto &[id, o] : open_) {
        bool loaded = o.window->is_loaded() && o.snapshot.valid;
        if (!loaded && !o.has_floor) return;  // its read may see anything: keep all
        std::uint32_t x = loaded ? o.snapshot.xmin : o.xmin_floor;
        if (xid_precedes(x, horizon)) horizon = x;
    }
    while (!kept_.empty() && xid_precedes(kept_.front().xid, horizon)) kept_.pop_front();
}

std::optional<WindowSet::Closed> WindowSet::close(const std::string &chunk, Lsn txn_end) {
    auto it = open_.find(chunk);
    if (it == open_.end() || !it->second.window->is_loaded()) return std::nullopt;
    // Changes decoded before the low watermark whose transaction the read did not see.
    const Open &o = it->second;
    if (o.snapshot.valid && o.window->is_open())
        for (const Change &c : kept_) {
            if (c.seq >= o.opened_at) break;
            if (!o.snapshot.sees(c.xid)) o.window->on_change(kept_topic_, c.key);
        }
    Closed out;
    out.read = o.window->rows_read();
    out.topic = o.window->topic();
    out.rows = o.window->close();
    out.kept = out.rows.size();
    out.event_template = o.event_template;
    closed_[chunk] = txn_end;
    open_.erase(it);
    prune();
    return out;
}

std::optional<Lsn> WindowSet::closed_at(const std::string &chunk) const {
    auto it = closed_.find(chunk);
    if (it == closed_.end()) return std::nullopt;
    return it->second;
}

void WindowSet::forget(const std::string &chunk) { closed_.erase(chunk); }

std::shared_ptr<const RowBlock> chunk_row_block(const ChunkTemplate &event_template, RowViews rows,
                                                bool key_schemas, bool value_schemas,
                                                std::int64_t unix_micros) {
    ChunkTemplate t = event_template;
    t.wrap_with_schemas(key_schemas, value_schemas);
    auto block = std::make_shared<RowBlock>();
    block->topic = std::move(t.topic);
    block->value_head = std::move(t.head);
    block->value_tail = t.tail + envelope_times(unix_micros) + t.value_close;
    block->key_head = std::move(t.key_head);
    block->rows = std::move(rows);
    return block;
}

}  // namespace walcast
