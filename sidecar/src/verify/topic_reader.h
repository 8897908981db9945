// Reads every record of one topic back, from the beginning to its current end: from
// Kafka (all partitions) or from the file sink's JSON lines. Used by `walcast verify`.
//
// A record that cannot be read (a line that is not JSON, a torn last line, a Kafka record
// whose key or value is not JSON) is reported to on_damaged with where it is, and the
// reading goes on: one bad record must not hide the state of the rest of the topic.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace walcast {

// Where a record is: a file's line (1-based) and the byte offset where it starts, or a
// Kafka partition and offset.
struct RecordPosition {
    std::string source;           // the file's path or the Kafka topic
    std::int32_t partition = -1;  // Kafka only
    std::uint64_t line = 0;       // file only
    std::uint64_t offset = 0;     // file: byte offset; Kafka: the record's offset
    std::string describe() const;
};

struct DamagedRecord {
    RecordPosition position;
    std::string reason;   // "not valid JSON", ...
    std::string excerpt;  // the start of the bytes, printable
};

using RecordCallback = std::function<void(std::string_view key, std::string_view value,
                                          bool value_is_null, const RecordPosition &position)>;
using DamageCallback = std::function<void(const DamagedRecord &damaged)>;

// The first max bytes of raw, with control and non-ASCII bytes as \xNN, and "..." when cut.
std::string printable_excerpt(std::string_view raw, std::size_t max = 80);

// kafka_props: librdkafka properties (bootstrap.servers, security...). Records are passed
// as they are; whether they are JSON is the caller's to check.
void read_kafka_topic(const std::map<std::string, std::string> &kafka_props,
                      const std::string &topic, const RecordCallback &on_record);

// Lines {"topic":..,"key":..,"value":..} written by the file sink. Every line that is not
// such a record goes to on_damaged, whatever its topic (it cannot be told).
void read_file_topic(const std::string &path, const std::string &topic,
                     const RecordCallback &on_record, const DamageCallback &on_damaged);

// <prefix>.<schema>.<table> with every character outside [a-zA-Z0-9._-] as '_'
// (one per UTF-16 code unit: two for a character outside the BMP), at most 249 bytes:
// the plugin's topic naming.
std::string data_topic(const std::string &prefix, const std::string &schema,
                       const std::string &table);

}  // namespace walcast
