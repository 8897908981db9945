// The windows of the chunks in flight (several readers at once), and where the
// transactions of the chunks closed but not yet confirmed by the sink end. (Their rows
// are not kept: a reconnect before the confirmation reads such a chunk again.)
//
// A streamed event is matched against every open window of its table: the event's key is
// the Kafka key JSON, which the sidecar cannot order as PostgreSQL orders the key (types,
// collations), so a window is found by an exact key lookup in each open window of the
// topic (at most snapshot.max.threads), never by comparing keys to range bounds. Ranges
// are disjoint, so a key read belongs to one window only.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "incremental/chunk_window.h"
#include "pg/lsn.h"

namespace walcast {

class WindowSet {
public:
    // A chunk about to write its low watermark.
    void add(const std::string &chunk, const std::string &topic);
    // The chunk's reader failed: forget it.
    void remove(const std::string &chunk);
    bool open(const std::string &chunk);
    void load(const std::string &chunk, std::vector<std::string> frames, std::string schema);
    // A streamed event: every open window of its topic drops the key.
    void on_change(std::string_view topic, std::string_view key);

    struct Closed {
        std::string topic;
        std::size_t read = 0;           // rows the chunk read
        std::size_t kept = 0;           // rows left after the window's changes
        std::vector<std::string> emit;  // the rows left (after the R frame, if any)
    };
    // The chunk's high watermark, in a transaction ending at txn_end. A window closes once:
    // nothing for a closed, unknown or unloaded chunk.
    std::optional<Closed> close(const std::string &chunk, Lsn txn_end);
    // Where the closed chunk's transaction ends (nothing: not closed yet).
    std::optional<Lsn> closed_at(const std::string &chunk) const;
    // The chunk is confirmed or abandoned: forget it.
    void forget(const std::string &chunk);

    bool empty() const { return open_.empty() && closed_.empty(); }
    std::size_t in_flight() const { return open_.size(); }
    std::size_t unconfirmed() const { return closed_.size(); }

private:
    struct Open {
        std::unique_ptr<ChunkWindow> window;
        std::string schema;  // the R frame read with the chunk, or empty
    };
    std::map<std::string, Open> open_;
    std::map<std::string, Lsn> closed_;  // chunk -> where its high watermark's transaction ends
};

}  // namespace walcast
