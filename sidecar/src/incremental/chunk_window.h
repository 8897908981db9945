// One chunk of an incremental snapshot between its watermarks (DBLog): the rows the
// reader read, minus every key the stream changed between the chunk's low and high
// watermarks. What is left at the high watermark goes out as op "r" events.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "stream/stream_observer.h"

namespace walcast {

class ChunkWindow {
public:
    // topic: the data topic of the chunk's table (stream events of other topics are
    // not its business).
    explicit ChunkWindow(std::string topic);

    // The low watermark reached the stream: from now on streamed changes drop keys.
    void open() { open_ = true; }
    bool is_open() const { return open_; }

    // A streamed event of the chunk's topic: its key leaves the chunk (an empty key,
    // a truncate, empties the chunk). Keys changed before the rows are loaded are
    // remembered until then (the reader's snapshot may predate the change).
    void on_change(std::string_view topic, std::string_view key);

    // The reader's rows in the compact layout (`<key>\t<after>`, docs/framing.md), in
    // key order. Keys the stream changed since the low watermark are left out at once.
    void load(RowViews rows);
    bool is_loaded() const { return loaded_; }

    // The high watermark reached the stream: the rows still in the chunk, in read
    // order. The window is spent afterwards.
    RowViews close();

    std::size_t rows_held() const { return live_; }
    std::size_t rows_read() const { return rows_.size(); }
    const std::string &topic() const { return topic_; }

private:
    void drop(std::string_view key);
    void drop_all();
    // The key -> row index, built when the first change reaches the loaded chunk: most
    // chunks of a backfill see none.
    void index_rows();

    std::string topic_;
    bool open_ = false;
    bool loaded_ = false;
    bool truncated_ = false;
    RowViews rows_;
    std::vector<bool> dropped_;
    bool indexed_ = false;
    std::unordered_map<std::string_view, std::size_t> index_;  // key -> row (views into rows_)
    std::unordered_set<std::string> changed_before_load_;
    std::size_t live_ = 0;
};

// The key of a compact row (`<key>\t<after>`): what comes before its first tab.
std::string_view compact_row_key(std::string_view row);

}  // namespace walcast
