// Compares one topic with the source rows published to it, in bounded memory: keys are
// hash-partitioned into buckets; the source is read once to sum every bucket
// (order-independent sums of (key, row) digests); the topic is read once, decoded and
// spilled by bucket; each bucket is folded on its own (in parallel) and summed. Buckets
// whose sums agree are clean; only the others are compared key by key, after a second
// read of the source that keeps their rows. A clean table costs one read of each side.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "verify/topic_reader.h"
#include "verify/verify_progress.h"

namespace walcast {

struct CompareSettings {
    std::uint32_t buckets = 1;  // 1: the topic is folded in memory, nothing is spilled
    int threads = 1;            // buckets folded at once
    std::size_t memory_bytes = 256u << 20;
    std::string spill_dir;  // empty: $TMPDIR or /tmp
    std::size_t examples = 5;
    std::string placeholder;
    bool key_schemas = false, value_schemas = false;
};

struct TopicComparison {
    std::uint64_t source_rows = 0;
    bool keyless = false;  // the source rows have no key: only counts can be compared
    std::uint64_t topic_records = 0;
    std::uint64_t folded_keys = 0;
    std::int64_t net_rows = 0;    // creates and reads minus deletes since the last truncate
    std::uint64_t truncates = 0;  // truncate events in the topic
    std::uint64_t missing = 0, extra = 0, different = 0;
    std::uint64_t different_placeholder = 0;  // differing rows whose topic value is a placeholder
    // The first keys (in byte order) of each kind; different ones with what differs.
    std::vector<std::string> missing_examples, extra_examples, different_examples;
    std::uint64_t source_sum = 0, topic_sum = 0;
    std::uint32_t buckets = 1, differing_buckets = 0;
    std::uint64_t spilled_bytes = 0;
    // Wall-clock seconds of the passes: the source read, the topic read (decoded and spilled),
    // the buckets folded and summed, and the key-by-key comparison of differing buckets.
    double source_seconds = 0, topic_seconds = 0, fold_seconds = 0, compare_seconds = 0;
    // CPU seconds of verify's own threads in the topic pass and in the folds (summed).
    double topic_cpu_seconds = 0, fold_cpu_seconds = 0;
    bool ok() const { return missing == 0 && extra == 0 && different == 0; }
};

using RowCallback = std::function<void(std::string_view key, std::string_view after)>;
// Reads every source row of the topic; as_streamed: rendered as streamed changes render it.
using SourceScan = std::function<void(bool as_streamed, const RowCallback &on_row)>;
// Reads every record of the topic.
using TopicScan = std::function<void(const RecordCallback &on_record)>;

// name: for progress lines; expected_rows: the source estimate (<= 0: unknown).
TopicComparison compare_topic(const std::string &name, double expected_rows,
                              const SourceScan &source, const TopicScan &topic,
                              const CompareSettings &settings, const DamageCallback &on_damaged,
                              VerifyProgress &progress);

// The buckets for a table of `rows` rows of about `row_bytes` each (its heap size per row)
// so that one bucket's fold fits in memory_bytes / threads.
std::uint32_t buckets_for(double rows, double row_bytes, std::size_t memory_bytes, int threads);

}  // namespace walcast
