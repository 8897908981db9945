// Reads every record of one topic back, from the beginning to its current end: from
// Kafka (all partitions) or from the file sink's JSON lines. Used by `walcast verify`.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace walcast {

using RecordCallback =
    std::function<void(std::string_view key, std::string_view value, bool value_is_null)>;

// kafka_props: librdkafka properties (bootstrap.servers, security...).
void read_kafka_topic(const std::map<std::string, std::string> &kafka_props,
                      const std::string &topic, const RecordCallback &on_record);

// Lines {"topic":..,"key":..,"value":..} written by the file sink.
void read_file_topic(const std::string &path, const std::string &topic,
                     const RecordCallback &on_record);

// <prefix>.<schema>.<table> with every character outside [a-zA-Z0-9._-] as '_'
// (one per UTF-8 character), at most 249 bytes: the plugin's topic naming.
std::string data_topic(const std::string &prefix, const std::string &schema,
                       const std::string &table);

}  // namespace walcast
