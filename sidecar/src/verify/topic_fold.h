// Folds a change topic into the table state a consumer ends up with: the last value
// per key, deletes and tombstones remove it, a truncate empties the table, and
// unchanged-TOAST placeholders keep the column's previous value (as Debezium sinks do).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace walcast {

// Column name -> canonical JSON of its value.
using FoldedRow = std::map<std::string, std::string>;

class TopicFold {
public:
    // key_schemas / value_schemas: records are {"schema":..,"payload":..} (the
    // *.converter.schemas.enable settings); the payload is what is folded.
    explicit TopicFold(const std::string &placeholder, bool key_schemas = false,
                       bool value_schemas = false);

    // One Kafka record: key JSON (empty for null) and value JSON (tombstone: is_null).
    // Returns false, changing nothing, when the key or value is not valid JSON (why says
    // which); such a record is counted in damaged(), not in records().
    bool apply(std::string_view key, std::string_view value, bool is_null,
               std::string *why = nullptr);
    // A row given as a JSON object (a snapshot row's "after"), in the same canonical form.
    static FoldedRow fields_of(std::string_view object_json);
    // Canonical JSON of a key.
    static std::string canonical(std::string_view json);

    const std::map<std::string, FoldedRow> &rows() const { return rows_; }
    std::uint64_t records() const { return records_; }
    std::uint64_t damaged() const { return damaged_; }
    // Rows the topic's events add up to (creates and reads minus deletes, since the last
    // truncate): all that can be said of a table without a key.
    std::int64_t net_rows() const { return net_rows_; }

private:
    bool is_placeholder(const std::string &canonical_value) const;

    std::map<std::string, FoldedRow> rows_;
    bool key_schemas_, value_schemas_;
    std::string placeholder_string_, placeholder_array_, placeholder_bytes_;
    std::uint64_t records_ = 0;
    std::uint64_t damaged_ = 0;
    std::int64_t net_rows_ = 0;
};

}  // namespace walcast
