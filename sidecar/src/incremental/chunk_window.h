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

    // The reader's rows: whole `E\tr\t<topic>\t<key>\t<value>` frames, in key order.
    // Keys the stream changed since the low watermark are left out at once.
    void load(std::vector<std::string> frames);
    bool is_loaded() const { return loaded_; }

    // The high watermark reached the stream: the rows still in the chunk, in read
    // order. The window is spent afterwards.
    std::vector<std::string> close();

    std::size_t rows_held() const { return live_; }
    std::size_t rows_read() const { return frames_.size(); }
    const std::string &topic() const { return topic_; }

private:
    void drop(std::string_view key);
    void drop_all();

    std::string topic_;
    bool open_ = false;
    bool loaded_ = false;
    bool truncated_ = false;
    std::vector<std::string> frames_;
    std::vector<bool> dropped_;
    std::unordered_map<std::string_view, std::size_t> index_;  // key -> row (views into frames_)
    std::unordered_set<std::string> changed_before_load_;
    std::size_t live_ = 0;
};

// The key field of an E frame (`E\t<op>\t<topic>\t<key>\t...`), or empty.
std::string_view frame_key(std::string_view frame);

}  // namespace walcast
