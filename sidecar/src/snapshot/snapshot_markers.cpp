#include "snapshot/snapshot_markers.h"

#include <utility>

namespace walcast {

void SnapshotMarkers::batch(std::uint32_t rel, const RowBatch &batch) {
    const std::size_t n = batch.rows();
    if (n == 0) return;
    // More events follow: a parked event is only the last of its own table.
    release(parked_, true, false);
    HeldEvent &held = held_[rel];
    release(held, false, false);
    for (std::size_t i = 0; i + 1 < n; i++)
        emit(rel, batch.chunk, *batch.event_template, batch.row(i), false, false);
    // The batch's last row is held back: it may be the table's last event.
    SnapshotRow last = batch.row(n - 1);
    held.set = true;
    held.rel = rel;
    held.chunk = batch.chunk;
    held.event_template = batch.event_template;
    held.key.assign(last.key);
    held.after.assign(last.after);
}

void SnapshotMarkers::table_finished(std::uint32_t rel) {
    tables_left_--;
    HeldEvent &held = held_[rel];
    if (tables_left_ == 0) {
        // The snapshot's last event: this table's last row, or, when the table that
        // finished last had no rows, the parked last event of another table.
        if (held.set) {
            release(parked_, true, false);
            release(held, true, true);
        } else {
            release(parked_, true, true);
        }
    } else if (held.set) {
        release(parked_, true, false);
        std::swap(parked_, held);
        held.set = false;
    }
    held_.erase(rel);
}

void SnapshotMarkers::release(HeldEvent &ev, bool last_of_table, bool last_overall) {
    if (!ev.set) return;
    ev.set = false;
    emit(ev.rel, ev.chunk, *ev.event_template, SnapshotRow{ev.key, ev.after}, last_of_table,
         last_overall);
}

void SnapshotMarkers::emit(std::uint32_t rel, std::size_t chunk,
                           const ChunkTemplate &event_template, const SnapshotRow &row,
                           bool last_of_table, bool last_overall) {
    const bool first_of_table = emitted_[rel]++ == 0;
    std::string_view marker = "true";
    if (last_overall)
        marker = "last";
    else if (released_ == 0)
        marker = "first";
    else if (last_of_table)
        marker = "last_in_data_collection";
    else if (first_of_table)
        marker = "first_in_data_collection";
    released_++;
    emit_(rel, chunk, event_template, row, marker);
}

}  // namespace walcast
