#include "verify/verify.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "pg/filter_patterns.h"
#include "pg/pg_conn.h"
#include "pg/pg_query.h"
#include "snapshot/snapshot_reader.h"
#include "snapshot/snapshot_settings.h"
#include "verify/topic_fold.h"
#include "verify/topic_reader.h"

namespace walcast {

namespace {

using Rows = std::map<std::string, FoldedRow>;

std::uint64_t checksum(const Rows &rows) {
    // FNV-1a over keys and values in key order: equal states give equal sums.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](const std::string &s) {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    };
    for (const auto &[key, row] : rows) {
        mix(key);
        for (const auto &[column, value] : row) mix(column), mix(value);
    }
    return h;
}

std::string describe_difference(const FoldedRow &source, const FoldedRow &topic) {
    std::string out;
    for (const auto &[column, value] : source) {
        auto it = topic.find(column);
        std::string other = it == topic.end() ? "(absent)" : it->second;
        if (other != value) out += " " + column + ": source " + value + ", topic " + other + ";";
    }
    for (const auto &[column, value] : topic)
        if (!source.count(column)) out += " " + column + ": source (absent), topic " + value + ";";
    return out;
}

void read_topic(const Config &config, const std::string &topic, const RecordCallback &on_record,
                const DamageCallback &on_damaged) {
    if (config.sink == "kafka") return read_kafka_topic(config.kafka_props, topic, on_record);
    return read_file_topic(config.sink.substr(5), topic, on_record, on_damaged);
}

// Every row of `tables`, each read whole in the reader's snapshot with `options`.
void read_tables(SnapshotReader &reader, const std::vector<const SnapshotTable *> &tables,
                 const std::vector<std::pair<std::string, std::string>> &options,
                 const std::function<void(const SnapshotRow &row)> &on_row) {
    for (const SnapshotTable *t : tables) {
        SnapshotChunk whole;
        whole.rel = t->rel;
        whole.relname = t->relname;
        reader.read_chunk(whole, options, [&](RowBatch &&batch) {
            for (std::size_t i = 0; i < batch.rows(); i++) on_row(batch.row(i));
        });
    }
}

// A usage error (exit 2), found before anything is read: a sink verify cannot read back.
void check_sink(const Config &config) {
    if (config.sink != "kafka" && config.sink.rfind("file:", 0) != 0)
        throw ConfigError(
            "walcast verify reads the topics back: set sink to kafka or "
            "file:<path> (sink=" +
            config.sink + ")");
}

}  // namespace

int run_verify(const Config &config, const VerifyOptions &options, std::ostream &out) {
    check_sink(config);
    TableFilter filter = table_filter_from(config);
    if (!options.tables.empty()) {
        // --tables names the tables: the configuration's table and schema lists step aside.
        filter = TableFilter{options.tables, "", "", "", filter.via_partition_root};
    }
    auto encoder_options = snapshot_settings_from(config).encoder_options;

    // One consistent snapshot of the source for every table.
    SnapshotReader reader(config, "");
    PgConnPtr catalog = pg_connect(config, false);
    check_filter_patterns(catalog.get(), config);
    if (!options.tables.empty()) check_pattern_list(catalog.get(), "--tables", options.tables);
    SnapshotPlan plan =
        plan_snapshot(catalog.get(), filter, std::int64_t(1) << 50);  // one chunk per table
    if (plan.tables.empty())
        throw ConfigError("verify: no table matches " + (filter.include_list.empty()
                                                             ? std::string("the configuration")
                                                             : filter.include_list));

    // Tables sharing a topic (partitions routed to their root) are compared together.
    std::map<std::string, std::vector<const SnapshotTable *>> by_topic;
    for (const auto &t : plan.tables) {
        auto dot = t.published.find('.');
        by_topic[data_topic(config.topic_prefix, t.published.substr(0, dot),
                            t.published.substr(dot + 1))]
            .push_back(&t);
    }

    int failures = 0;
    // Records that cannot be read are findings, not the end of the check; the first ones
    // are kept as examples. A file is read whole once per topic: its damaged lines are
    // counted on the first read only.
    std::vector<DamagedRecord> damaged;
    std::uint64_t n_damaged = 0;
    const std::size_t damaged_shown = std::max<std::size_t>(20, options.examples);
    bool first_read = true;
    auto add_damaged = [&](const DamagedRecord &d) {
        if (n_damaged++ < damaged_shown) damaged.push_back(d);
    };
    auto on_damaged_line = [&](const DamagedRecord &d) {
        if (first_read) add_damaged(d);
    };
    for (const auto &[topic, tables] : by_topic) {
        Rows source;
        std::uint64_t source_records = 0;
        bool keyless = false;
        read_tables(reader, tables, encoder_options, [&](const SnapshotRow &row) {
            source_records++;
            if (row.key.empty()) keyless = true;
            source[TopicFold::canonical(row.key)] = TopicFold::fields_of(row.after);
        });
        TopicFold fold(config.get("unavailable.value.placeholder"), config.key_schemas,
                       config.value_schemas);
        read_topic(
            config, topic,
            [&](std::string_view key, std::string_view value, bool null_value,
                const RecordPosition &position) {
                std::string why;
                if (!fold.apply(key, value, null_value, &why))
                    add_damaged(DamagedRecord{
                        position, why, printable_excerpt(why.rfind("key", 0) == 0 ? key : value)});
            },
            on_damaged_line);
        first_read = false;
        const Rows &folded = fold.rows();

        out << tables.front()->published << " -> " << topic << ": source " << source_records
            << " rows, topic " << fold.records() << " records folding to " << folded.size()
            << " keys";
        if (keyless) {
            // Without a key a topic cannot be folded: only the row counts say anything.
            const bool same = fold.net_rows() == static_cast<std::int64_t>(source_records);
            out << " (no key: compared by count only, the topic's events add up to "
                << fold.net_rows() << " rows): " << (same ? "OK" : "DIFFERENT") << "\n";
            if (!same) failures++;
            continue;
        }
        // A row last written by a streamed change can differ from the table read as a
        // snapshot where Debezium's snapshot renders values its own way (name columns,
        // dates at ±infinity): such rows are compared again with the table rendered as
        // streamed changes (snapshot.as.streamed).
        std::set<std::string> differing;
        for (const auto &[key, row] : source) {
            auto it = folded.find(key);
            if (it != folded.end() && it->second != row) differing.insert(key);
        }
        if (!differing.empty()) {
            auto as_streamed = encoder_options;
            as_streamed.emplace_back("snapshot.as.streamed", "true");
            read_tables(reader, tables, as_streamed, [&](const SnapshotRow &row) {
                std::string key = TopicFold::canonical(row.key);
                if (!differing.count(key)) return;
                FoldedRow streamed = TopicFold::fields_of(row.after);
                if (folded.at(key) == streamed) source[key] = std::move(streamed);
            });
        }
        std::vector<std::string> missing, extra, different;
        std::uint64_t n_missing = 0, n_extra = 0, n_different = 0;
        for (const auto &[key, row] : source) {
            auto it = folded.find(key);
            if (it == folded.end()) {
                if (n_missing++ < static_cast<std::uint64_t>(options.examples))
                    missing.push_back(key);
            } else if (it->second != row) {
                if (n_different++ < static_cast<std::uint64_t>(options.examples))
                    different.push_back(key + ":" + describe_difference(row, it->second));
            }
        }
        for (const auto &[key, row] : folded)
            if (!source.count(key) && n_extra++ < static_cast<std::uint64_t>(options.examples))
                extra.push_back(key);
        bool ok = n_missing == 0 && n_extra == 0 && n_different == 0;
        char sums[80];
        std::snprintf(sums, sizeof sums, "source %016llx topic %016llx",
                      static_cast<unsigned long long>(checksum(source)),
                      static_cast<unsigned long long>(checksum(folded)));
        out << ", checksums " << sums << ": ";
        if (ok) {
            out << "OK\n";
            continue;
        }
        failures++;
        out << n_missing << " missing, " << n_extra << " extra, " << n_different << " different\n";
        for (const auto &k : missing) out << "  missing   " << k << "\n";
        for (const auto &k : extra) out << "  extra     " << k << "\n";
        for (const auto &k : different) out << "  different " << k << "\n";
    }
    if (n_damaged > 0) {
        out << n_damaged
            << " damaged record(s) could not be read; the events they held (if any) are "
               "not part of the comparison above:\n";
        for (const DamagedRecord &d : damaged)
            out << "  damaged   " << d.position.describe() << ": " << d.reason << ": " << d.excerpt
                << "\n";
        if (n_damaged > damaged.size())
            out << "  ... and " << n_damaged - damaged.size() << " more\n";
    }
    if (failures == 0 && n_damaged == 0) {
        out << "verify: every table matches its topic\n";
        return 0;
    }
    out << "verify:";
    if (failures > 0) out << " " << failures << " table(s) differ" << (n_damaged ? ";" : "");
    if (n_damaged > 0) out << " " << n_damaged << " damaged record(s) in the output";
    out << "\n";
    return 1;
}

}  // namespace walcast
