// Folds a change topic into the table state a consumer ends up with: the last value
// per key, deletes and tombstones remove it, a truncate empties the table, and
// unchanged-TOAST placeholders keep the column's previous value (as Debezium sinks do).
//
// EventDecoder turns one record into a TopicEvent (keys and rows in row_codec's compact
// form); StateFold applies events to a key -> row state. `walcast verify` decodes records
// once, spills them by key bucket and folds each bucket on its own (verify/table_compare.h);
// TopicFold does both in memory, for one small topic.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include <simdjson.h>

#include "verify/row_codec.h"

namespace walcast {

struct TopicEvent {
    enum Kind : std::uint8_t { kUpsert, kRemove, kTruncate, kOther };
    Kind kind = kOther;
    std::string key;           // canonical key JSON ("null" for a record without a key)
    std::string row;           // kUpsert: the after image, compact form
    bool placeholder = false;  // kUpsert: some column holds the unchanged-TOAST placeholder
    int net_rows = 0;          // +1 create/read, -1 delete, 0 otherwise
};

class EventDecoder {
public:
    // key_schemas / value_schemas: records are {"schema":..,"payload":..} (the
    // *.converter.schemas.enable settings); the payload is what is folded.
    EventDecoder(const std::string &placeholder, bool key_schemas, bool value_schemas);

    // One record: key JSON (empty for null) and value JSON (tombstone: is_null). Returns
    // false when the key or value is not valid JSON (why says which).
    bool decode(std::string_view key, std::string_view value, bool is_null, TopicEvent &event,
                std::string *why);
    // A source row's key and after image in the same forms.
    std::string canonical_key(std::string_view json);
    std::string canonical_row(std::string_view object_json);

    // Whether a canonical column value is the placeholder (text, text[] or bytea form).
    bool is_placeholder(std::string_view value) const;

private:
    simdjson::dom::parser parser_, key_parser_;
    bool key_schemas_, value_schemas_;
    std::string placeholder_string_, placeholder_array_, placeholder_bytes_;
};

// Key -> row, compact forms. Placeholder columns keep the previous value of the key.
class StateFold {
public:
    explicit StateFold(const EventDecoder &decoder) : decoder_(decoder) {}
    void apply(TopicEvent::Kind kind, std::string key, std::string row, bool placeholder);
    const std::unordered_map<std::string, std::string> &rows() const { return rows_; }
    std::unordered_map<std::string, std::string> &rows() { return rows_; }

private:
    const EventDecoder &decoder_;
    std::unordered_map<std::string, std::string> rows_;
};

class TopicFold {
public:
    explicit TopicFold(const std::string &placeholder, bool key_schemas = false,
                       bool value_schemas = false);

    // Returns false, changing nothing, when the key or value is not valid JSON (why says
    // which); such a record is counted in damaged(), not in records().
    bool apply(std::string_view key, std::string_view value, bool is_null,
               std::string *why = nullptr);
    // A row given as a JSON object (a snapshot row's "after"), as a column map.
    static FoldedRow fields_of(std::string_view object_json);
    // Canonical JSON of a key.
    static std::string canonical(std::string_view json);

    // The folded state, rows as column maps.
    std::map<std::string, FoldedRow> rows() const;
    std::uint64_t records() const { return records_; }
    std::uint64_t damaged() const { return damaged_; }
    // Rows the topic's events add up to (creates and reads minus deletes, since the last
    // truncate): all that can be said of a table without a key.
    std::int64_t net_rows() const { return net_rows_; }

private:
    EventDecoder decoder_;
    StateFold fold_;
    TopicEvent event_;
    std::uint64_t records_ = 0;
    std::uint64_t damaged_ = 0;
    std::int64_t net_rows_ = 0;
};

}  // namespace walcast
