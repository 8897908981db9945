// What snapshot readers hand to the coordinator: rows of one chunk in the compact
// layout of walcast.snapshot_rows (docs/framing.md), many to a buffer so that queueing
// costs one handoff per batch instead of per row, plus the chunk's event template.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sink/sink.h"

namespace walcast {

// The constant parts of a chunk's events, from its template frame
// `S\t<topic>\t<value head>\t<value tail>[\t<key schema>\t<value schema>]` (the schemas
// when snapshot_rows was asked for them). Throws FrameError when malformed.
struct ChunkTemplate {
    std::string topic;
    std::string head;  // the value up to the row: {"before":null,"after":
    std::string tail;  // the value after the row: ,"source":{...},"transaction":null,"op":"r"
    std::string key_schema, value_schema;  // empty: none sent (key_schema: no key)
    // With schemas on: `{"schema":<key schema>,"payload":` before a key (empty: keys as
    // they are), and what closes the value after the envelope times ("}" or empty).
    std::string key_head;
    std::string value_close;

    static ChunkTemplate parse(std::string_view frame);
    // Puts keys and/or values in {"schema":..,"payload":..} (JsonConverter's layout).
    // Throws FrameError when the template carries no schemas.
    void wrap_with_schemas(bool keys, bool values);
    // The key as the sink stores it; uses scratch when it has to be wrapped.
    std::string_view key_of(std::string_view key, std::string &scratch) const;
};

struct SnapshotRow {
    std::string_view key;  // empty: null key (no primary key)
    std::string_view after;
};

struct RowBatch {
    std::size_t chunk = 0;
    std::shared_ptr<const ChunkTemplate> event_template;
    std::string data;                 // `<key>\t<after>\n` rows, back to back
    std::vector<std::uint32_t> ends;  // where each row's newline is in data
    bool end_of_chunk = false;        // the chunk's last batch (it may hold no rows)
    std::uint64_t chunk_rows = 0;     // with end_of_chunk: rows of the whole chunk

    std::size_t rows() const { return ends.size(); }
    // Appends newline-terminated rows, as snapshot_rows sends them many to a value.
    // Throws FrameError when the last one is not terminated.
    void add_rows(std::string_view rows);
    // Throws FrameError when the row has no key/after separator.
    SnapshotRow row(std::size_t i) const;
};

// The envelope's ts_ms/ts_us/ts_ns and closing brace, as the plugin writes them
// (`,"ts_ms":..,"ts_us":..,"ts_ns":..}`), for a time in microseconds since the epoch.
std::string envelope_times(std::int64_t unix_micros);
std::int64_t unix_micros_now();

// The event of a row, its value in pieces (head + after + tail + times) for the sink
// to put together. `tail` is the template's, or a marked copy of it (see below); the
// views must outlive the sink's produce() call.
Message snapshot_message(const ChunkTemplate &t, const SnapshotRow &row, std::string_view tail,
                         std::string_view times, DeliveryToken token);

// Replaces the "snapshot":"true" marker in (part of) an event value.
std::string with_snapshot_marker(std::string_view value, std::string_view marker);

}  // namespace walcast
