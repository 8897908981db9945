// The windows of the chunks in flight (several readers at once), and where the
// transactions of the chunks closed but not yet confirmed by the sink end. (Their rows
// are not kept: a reconnect before the confirmation reads such a chunk again.)
//
// A streamed event is matched against every open window of its table: the event's key is
// the Kafka key JSON, which the sidecar cannot order as PostgreSQL orders the key (types,
// collations), so a window is found by an exact key lookup in each open window of the
// topic (at most snapshot.max.threads), never by comparing keys to range bounds. Ranges
// are disjoint, so a key read belongs to one window only.
//
// While a table is read, the changes of its topic are also kept with their transaction
// ids (SnapshotXids explains why): at a chunk's high watermark, a change decoded before
// its low watermark by a transaction its read did not see drops the key too. They are
// kept until no chunk read now or later can miss them (their transaction precedes the
// oldest snapshot xmin such a read can have).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "incremental/chunk_window.h"
#include "incremental/snapshot_xids.h"
#include "pg/lsn.h"
#include "snapshot/snapshot_batch.h"
#include "stream/stream_observer.h"

namespace walcast {

class WindowSet {
public:
    // The topic of the table being read (empty: none): its changes are kept.
    void keep_changes_of(const std::string &topic);
    // A chunk about to write its low watermark.
    void add(const std::string &chunk, const std::string &topic);
    // The chunk's reader failed: forget it.
    void remove(const std::string &chunk);
    bool open(const std::string &chunk);
    // rows: compact (`<key>\t<after>`), their envelope the chunk's template; snapshot:
    // the transactions the read saw.
    void load(const std::string &chunk, RowViews rows,
              std::shared_ptr<const ChunkTemplate> event_template, const SnapshotXids &snapshot);
    // A streamed event of transaction xid: every open window of its topic drops the key.
    void on_change(std::string_view topic, std::string_view key, std::uint32_t xid);
    // Changes kept for the reads (for tests and metrics).
    std::size_t changes_kept() const { return kept_.size(); }

    struct Closed {
        std::string topic;
        std::size_t read = 0;  // rows the chunk read
        std::size_t kept = 0;  // rows left after the window's changes
        RowViews rows;         // the rows left, compact
        std::shared_ptr<const ChunkTemplate> event_template;
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
        std::shared_ptr<const ChunkTemplate> event_template;  // once loaded
        std::uint64_t opened_at = 0;  // kept changes before this one precede the low watermark
        SnapshotXids snapshot;        // once loaded
        // Until loaded: no read of this chunk can have a snapshot xmin older than this (the
        // newest xmin loaded before it was added; snapshot xmins only move forward).
        std::uint32_t xmin_floor = 0;
        bool has_floor = false;
    };
    struct Change {
        std::uint64_t seq;
        std::uint32_t xid;
        std::string key;
    };
    void prune();

    std::map<std::string, Open> open_;
    std::string kept_topic_;
    std::deque<Change> kept_;
    std::uint64_t next_seq_ = 0;
    std::uint32_t newest_xmin_ = 0;
    bool has_xmin_ = false;
    std::map<std::string, Lsn> closed_;  // chunk -> where its high watermark's transaction ends
};

// A chunk's rows as the pipeline produces them: the template's envelope, its times
// (microseconds since the epoch, as envelope_times()) and, as the converters ask, the
// template's Connect schemas around keys and values (JsonConverter's layout).
std::shared_ptr<const RowBlock> chunk_row_block(const ChunkTemplate &event_template, RowViews rows,
                                                bool key_schemas, bool value_schemas,
                                                std::int64_t unix_micros);

}  // namespace walcast
