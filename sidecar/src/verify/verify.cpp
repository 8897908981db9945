#include "verify/verify.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "common/shutdown.h"
#include "pg/filter_patterns.h"
#include "pg/pg_conn.h"
#include "pg/pg_query.h"
#include "snapshot/snapshot_reader.h"
#include "snapshot/snapshot_settings.h"
#include "verify/table_compare.h"
#include "verify/topic_reader.h"

namespace walcast {

namespace {

using TopicTables = std::map<std::string, std::vector<const SnapshotTable *>>;

struct TopicResult {
    std::string topic;
    std::vector<const SnapshotTable *> tables;
    TopicComparison c;
    bool failed() const { return c.keyless ? c.net_rows != std::int64_t(c.source_rows) : !c.ok(); }
    // What an incremental snapshot repairs: rows missing or different (not extra keys).
    bool resendable() const { return !c.keyless && (c.missing > 0 || c.different > 0); }
};

void read_topic(const Config &config, const std::string &topic, const RecordCallback &on_record,
                const DamageCallback &on_damaged) {
    if (config.sink == "kafka") return read_kafka_topic(config.kafka_props, topic, on_record);
    return read_file_topic(config.sink.substr(5), topic, on_record, on_damaged);
}

// A usage error (exit 2), found before anything is read: a sink verify cannot read back.
void check_sink(const Config &config) {
    if (config.sink != "kafka" && config.sink.rfind("file:", 0) != 0)
        throw ConfigError(
            "walcast verify reads the topics back: set sink to kafka or "
            "file:<path> (sink=" +
            config.sink + ")");
}

std::int64_t number(const Config &config, const char *key) { return std::stoll(config.get(key)); }

bool truncates_skipped(const Config &config) {
    const std::string &ops = config.get("skipped.operations");
    return ops.find('t') != std::string::npos;
}

class Verifier {
public:
    Verifier(const Config &config, const VerifyOptions &options)
        : config_(config), options_(options), progress_(10000) {
        encoder_options_ = snapshot_settings_from(config).encoder_options;
        settings_.memory_bytes = static_cast<std::size_t>(number(config, "verify.memory.bytes"));
        settings_.threads = static_cast<int>(number(config, "verify.threads"));
        if (settings_.threads <= 0)
            settings_.threads = std::max(1u, std::thread::hardware_concurrency());
        settings_.spill_dir = config.get("verify.spill.dir");
        settings_.examples = static_cast<std::size_t>(std::max(0, options.examples));
        settings_.placeholder = config.get("unavailable.value.placeholder");
        settings_.key_schemas = config.key_schemas;
        settings_.value_schemas = config.value_schemas;
        forced_buckets_ = static_cast<std::uint32_t>(number(config, "verify.buckets"));
    }

    // Compares every topic of `topics` in one consistent snapshot of the source.
    std::vector<TopicResult> check(const TopicTables &topics) {
        damaged_.clear();
        n_damaged_ = 0;
        first_file_read_ = true;
        SnapshotReader reader(config_, "");
        std::vector<TopicResult> results;
        for (const auto &[topic, tables] : topics) {
            double rows = 0, bytes = 0;
            for (const SnapshotTable *t : tables) {
                // reltuples is -1 (or stale) before the first ANALYZE: the size says more.
                rows += std::max(t->estimated_rows, static_cast<double>(t->bytes) / 64);
                bytes += static_cast<double>(t->bytes);
            }
            CompareSettings s = settings_;
            s.buckets = forced_buckets_ > 0 ? forced_buckets_
                                            : buckets_for(rows, rows > 0 ? bytes / rows : 0,
                                                          s.memory_bytes, s.threads);
            SourceScan source = [&](bool as_streamed, const RowCallback &on_row) {
                auto opts = encoder_options_;
                if (as_streamed) opts.emplace_back("snapshot.as.streamed", "true");
                for (const SnapshotTable *t : tables) {
                    SnapshotChunk whole;
                    whole.rel = t->rel;
                    whole.relname = t->relname;
                    reader.read_chunk(whole, opts, [&](RowBatch &&batch) {
                        for (std::size_t i = 0; i < batch.rows(); i++) {
                            SnapshotRow row = batch.row(i);
                            on_row(row.key, row.after);
                        }
                    });
                }
            };
            TopicScan topic_scan = [&](const RecordCallback &on_record) {
                read_topic(config_, topic, on_record, [&](const DamagedRecord &d) {
                    // A file holds every topic: its damaged lines are listed on its first read.
                    if (first_file_read_) add_damaged(d);
                });
                first_file_read_ = false;
            };
            TopicResult r{topic, tables, {}};
            r.c = compare_topic(
                tables.front()->published, rows, source, topic_scan, s,
                [&](const DamagedRecord &d) { add_damaged(d); }, progress_);
            const TopicComparison &c = r.c;
            spdlog::info(
                "verify: {}: {} source rows read in {:.2f} s; {} topic records decoded in "
                "{:.2f} s ({:.2f} s CPU); {} bucket(s) folded in {:.2f} s ({:.2f} s CPU) on {} "
                "thread(s); {} differing compared in {:.2f} s; {} bytes spilled",
                tables.front()->published, c.source_rows, c.source_seconds, c.topic_records,
                c.topic_seconds, c.topic_cpu_seconds, c.buckets, c.fold_seconds, c.fold_cpu_seconds,
                s.threads, c.differing_buckets, c.compare_seconds, c.spilled_bytes);
            results.push_back(std::move(r));
        }
        progress_.finish();
        return results;
    }

    void print(const TopicResult &r, std::ostream &out) const {
        const TopicComparison &c = r.c;
        out << r.tables.front()->published << " -> " << r.topic << ": source " << c.source_rows
            << " rows, topic " << c.topic_records << " records folding to " << c.folded_keys
            << " keys";
        if (c.keyless) {
            // Without a key a topic cannot be folded: only the row counts say anything.
            const bool same = !r.failed();
            out << " (no key: compared by count only, the topic's events add up to " << c.net_rows
                << " rows): " << (same ? "OK" : "DIFFERENT") << "\n";
            if (!same)
                out << "  why: a table without a primary key (or message.key.columns) has no "
                       "key to fold by; rows cannot be told apart, only counted\n"
                    << "  repair: an incremental snapshot needs a key; give the table a primary "
                       "key (or message.key.columns), or start a new topic with an initial "
                       "snapshot\n";
            return;
        }
        char sums[80];
        std::snprintf(sums, sizeof sums, "source %016llx topic %016llx",
                      static_cast<unsigned long long>(c.source_sum),
                      static_cast<unsigned long long>(c.topic_sum));
        out << ", checksums " << sums;
        if (c.buckets > 1)
            out << " (" << c.buckets << " buckets, " << c.differing_buckets << " differing)";
        out << ": ";
        if (c.ok()) {
            out << "OK\n";
            return;
        }
        out << c.missing << " missing, " << c.extra << " extra, " << c.different << " different\n";
        for (const auto &k : c.missing_examples) out << "  missing   " << k << "\n";
        for (const auto &k : c.extra_examples) out << "  extra     " << k << "\n";
        for (const auto &k : c.different_examples) out << "  different " << k << "\n";
        const std::string table = r.tables.front()->published;
        if (c.missing > 0)
            out << "  why: " << c.missing
                << " row(s) of the table have no event in the topic (or their last event "
                   "removed them)\n";
        if (c.different > 0) {
            out << "  why: " << c.different
                << " row(s) differ from the last event of their key in the topic\n";
            if (c.different_placeholder > 0)
                out << "  why: " << c.different_placeholder
                    << " of them hold the unchanged-TOAST placeholder (" << settings_.placeholder
                    << ") in the topic: the server did not send the value and no earlier event "
                       "of the key had it (REPLICA IDENTITY FULL on the table sends such "
                       "values)\n";
        }
        if (c.missing > 0 || c.different > 0)
            out << "  repair: walcast verify --repair (or walcast snapshot " << table
                << ") re-sends the table's rows through an incremental snapshot\n";
        if (c.extra > 0) {
            out << "  why: " << c.extra << " key(s) in the topic are not in the table";
            if (truncates_skipped(config_))
                out << "; they can be rows a TRUNCATE removed: truncates are not streamed "
                       "(skipped.operations includes t)";
            else if (c.truncates == 0)
                out << " (deletes not in the topic: a slot dropped and created again, or "
                       "records written by another producer)";
            out << "\n  repair: re-sent rows cannot remove keys; a tombstone (the key, a null "
                   "value) per extra key removes them from compacted topics and sinks, or start "
                   "a new topic with an initial snapshot\n";
        }
    }

    void print_damaged(std::ostream &out) const {
        if (n_damaged_ == 0) return;
        out << n_damaged_
            << " damaged record(s) could not be read; the events they held (if any) are "
               "not part of the comparison above:\n";
        for (const DamagedRecord &d : damaged_)
            out << "  damaged   " << d.position.describe() << ": " << d.reason << ": " << d.excerpt
                << "\n";
        if (n_damaged_ > damaged_.size())
            out << "  ... and " << n_damaged_ - damaged_.size() << " more\n";
    }
    std::uint64_t damaged() const { return n_damaged_; }

private:
    void add_damaged(const DamagedRecord &d) {
        const std::size_t shown = std::max<std::size_t>(20, options_.examples);
        if (n_damaged_++ < shown) damaged_.push_back(d);
    }

    const Config &config_;
    const VerifyOptions &options_;
    VerifyProgress progress_;
    CompareSettings settings_;
    std::uint32_t forced_buckets_ = 0;
    std::vector<std::pair<std::string, std::string>> encoder_options_;
    std::vector<DamagedRecord> damaged_;
    std::uint64_t n_damaged_ = 0;
    bool first_file_read_ = true;
};

int finish(int failures, std::uint64_t damaged, std::ostream &out) {
    if (failures == 0 && damaged == 0) {
        out << "verify: every table matches its topic\n";
        return 0;
    }
    out << "verify:";
    if (failures > 0) out << " " << failures << " table(s) differ" << (damaged ? ";" : "");
    if (damaged > 0) out << " " << damaged << " damaged record(s) in the output";
    out << "\n";
    return 1;
}

// --repair: an incremental snapshot of the tables whose rows are missing or different,
// then verify again until they match (or the timeout, or SIGTERM).
int repair(const Config &config, const VerifyOptions &options, Verifier &verifier,
           const std::vector<TopicResult> &first, std::ostream &out) {
    TopicTables again;
    std::vector<std::string> names;
    for (const TopicResult &r : first) {
        if (!r.resendable()) continue;
        again[r.topic] = r.tables;
        for (const SnapshotTable *t : r.tables) names.push_back(t->relname);
    }
    if (names.empty()) {
        out << "repair: nothing an incremental snapshot can repair (see the why and repair "
               "lines above)\n";
        return 1;
    }
    PgConnPtr conn = pg_connect(config, false);
    const std::string signal = pg_scalar(conn.get(), "SELECT walcast.execute_snapshot($1::text[])",
                                         {text_array_literal(names)});
    out << "repair: requested an incremental snapshot of";
    for (const auto &n : names) out << " " << n;
    out << " (signal " << signal << ")\n";
    const std::string active =
        pg_scalar(conn.get(), "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                  {config.slot_name});
    if (active != "t")
        out << "repair: no walcast run streams slot " << config.slot_name
            << " now; the request waits in the WAL until one does\n";
    out.flush();

    const ShutdownToken &stop = ShutdownToken::process();
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(options.repair_timeout_s);
    std::vector<TopicResult> now;
    int checks = 0;
    for (;;) {
        if (stop.sleep_for(std::chrono::milliseconds(checks == 0 ? 1000 : 3000))) {
            out << "repair: stopped (SIGTERM/SIGINT) while waiting for the re-sent rows\n";
            return 1;
        }
        now = verifier.check(again);
        checks++;
        const bool done = std::none_of(now.begin(), now.end(),
                                       [](const TopicResult &r) { return r.resendable(); });
        if (done || std::chrono::steady_clock::now() >= deadline) break;
        spdlog::info("verify --repair: check {}: the re-sent rows have not all arrived yet",
                     checks);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out << "repair: verified again after " << static_cast<int>(seconds) << " s (" << checks
        << (checks == 1 ? " check" : " checks") << "):\n";
    int failures = 0;
    for (const TopicResult &r : now) {
        verifier.print(r, out);
        if (r.failed()) failures++;
        const std::string table = r.tables.front()->published;
        if (r.resendable())
            out << "repair: " << table << " still differs after " << options.repair_timeout_s
                << " s: is a walcast run streaming slot " << config.slot_name << "?\n";
        else if (!r.c.ok())
            out << "repair: " << table << ": the re-sent rows arrived; " << r.c.extra
                << " extra key(s) remain (see above)\n";
        else
            out << "repair: " << table << " matches its topic now\n";
    }
    // Tables that were not repaired keep their first verdict.
    for (const TopicResult &r : first)
        if (!again.count(r.topic) && r.failed()) failures++;
    return finish(failures, verifier.damaged(), out);
}

}  // namespace

int run_verify(const Config &config, const VerifyOptions &options, std::ostream &out) {
    check_sink(config);
    install_stop_signal_handlers();
    TableFilter filter = table_filter_from(config);
    if (!options.tables.empty()) {
        // --tables names the tables: the configuration's table and schema lists step aside.
        filter = TableFilter{options.tables, "", "", "", filter.via_partition_root};
    }
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
    TopicTables by_topic;
    for (const auto &t : plan.tables) {
        auto dot = t.published.find('.');
        by_topic[data_topic(config.topic_prefix, t.published.substr(0, dot),
                            t.published.substr(dot + 1))]
            .push_back(&t);
    }

    Verifier verifier(config, options);
    std::vector<TopicResult> results = verifier.check(by_topic);
    int failures = 0;
    for (const TopicResult &r : results) {
        verifier.print(r, out);
        if (r.failed()) failures++;
    }
    verifier.print_damaged(out);
    if (options.repair && failures > 0) {
        finish(failures, verifier.damaged(), out);
        return repair(config, options, verifier, results, out);
    }
    return finish(failures, verifier.damaged(), out);
}

}  // namespace walcast
