// Debezium's source.snapshot markers for a snapshot whose rows arrive in batches from
// parallel readers: "first" on the very first event, "first_in_data_collection" /
// "last_in_data_collection" on each table's first and last, "last" on the very last,
// "true" on the rest. The last ones are only known later, so one event per table, and
// a finished table's last event, are held back until it is clear what they are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "snapshot/snapshot_batch.h"

namespace walcast {

class SnapshotMarkers {
public:
    // Receives each event once, in release order; the views last only for the call.
    using Emit = std::function<void(std::uint32_t rel, std::size_t chunk,
                                    const ChunkTemplate &event_template, const SnapshotRow &row,
                                    std::string_view marker)>;

    // tables: how many tables are still to be read (each ends with table_finished()).
    SnapshotMarkers(std::size_t tables, Emit emit) : tables_left_(tables), emit_(std::move(emit)) {}

    // The rows of one batch of table `rel`.
    void batch(std::uint32_t rel, const RowBatch &batch);
    // Table `rel` has no more rows.
    void table_finished(std::uint32_t rel);

    std::uint64_t released() const { return released_; }

private:
    struct HeldEvent {
        bool set = false;
        std::uint32_t rel = 0;
        std::size_t chunk = 0;
        std::shared_ptr<const ChunkTemplate> event_template;
        std::string key, after;  // copied: the batch they came in is gone by release
    };

    void release(HeldEvent &ev, bool last_of_table, bool last_overall);
    void emit(std::uint32_t rel, std::size_t chunk, const ChunkTemplate &event_template,
              const SnapshotRow &row, bool last_of_table, bool last_overall);

    std::size_t tables_left_;
    Emit emit_;
    std::unordered_map<std::uint32_t, HeldEvent> held_;         // each table's latest row
    std::unordered_map<std::uint32_t, std::uint64_t> emitted_;  // events per table so far
    HeldEvent parked_;  // the last event of a finished table, until another event follows
    std::uint64_t released_ = 0;
};

}  // namespace walcast
