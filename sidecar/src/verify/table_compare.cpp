#include "verify/table_compare.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/shutdown.h"
#include "verify/row_codec.h"
#include "verify/spill_files.h"
#include "verify/topic_fold.h"

namespace walcast {

namespace {

// Spilled topic event: flags (kind | placeholder bit), sequence, key hash, row digest, key
// length, key, row. The sums need only the fixed header; a comparison reads the rest.
constexpr std::uint8_t kPlaceholderBit = 0x80;

void put_u32(std::string &out, std::uint32_t v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
void put_u64(std::string &out, std::uint64_t v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
template <typename T>
T get(std::string_view &in) {
    T v;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
}
std::string_view get_bytes(std::string_view &in) {
    auto n = get<std::uint32_t>(in);
    std::string_view out = in.substr(0, n);
    in.remove_prefix(n);
    return out;
}
void put_bytes(std::string &out, std::string_view bytes) {
    put_u32(out, static_cast<std::uint32_t>(bytes.size()));
    out.append(bytes);
}

// The first `limit` entries in key order, from any thread.
class Examples {
public:
    explicit Examples(std::size_t limit) : limit_(limit) {}
    void add(const std::string &key, const std::function<std::string()> &text) {
        if (limit_ == 0) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (entries_.size() >= limit_ && !(key < entries_.rbegin()->first)) return;
        entries_.emplace(key, text());
        if (entries_.size() > limit_) entries_.erase(std::prev(entries_.end()));
    }
    std::vector<std::string> take() const {
        std::vector<std::string> out;
        for (const auto &e : entries_) out.push_back(e.second);
        return out;
    }

private:
    std::size_t limit_;
    std::mutex mutex_;
    std::set<std::pair<std::string, std::string>> entries_;
};

// Runs fn(i) for every i in items on `threads` threads; the first exception is rethrown.
void parallel_for(const std::vector<std::uint32_t> &items, int threads,
                  const std::function<void(std::uint32_t)> &fn) {
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        for (std::size_t i; (i = next++) < items.size();) {
            try {
                ShutdownToken::process().throw_if_requested("verifying");
                fn(items[i]);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                next = items.size();
            }
        }
    };
    const int n = std::max(1, std::min<int>(threads, static_cast<int>(items.size())));
    std::vector<std::thread> pool;
    for (int t = 1; t < n; t++) pool.emplace_back(worker);
    worker();
    for (auto &t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

std::string describe_difference(const std::string &source_row, const std::string &topic_row) {
    const FoldedRow source = decode_row(source_row), topic = decode_row(topic_row);
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

constexpr std::uint64_t kKeySeed = 0x5bd1e995;

std::int64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

std::uint32_t buckets_for(double rows, double row_bytes, std::size_t memory_bytes, int threads) {
    // A folded key costs its key and compact row (about the heap row twice over) and about
    // 160 bytes of hash-table node and string headers; a bucket gets half its thread's share.
    const double per_key = 160 + 2 * std::max(16.0, row_bytes);
    const double share =
        std::max(1.0, static_cast<double>(memory_bytes) / std::max(1, threads) / 2);
    const double b = std::ceil(std::max(0.0, rows) * per_key / share);
    return static_cast<std::uint32_t>(std::clamp(b, 1.0, 65536.0));
}

TopicComparison compare_topic(const std::string &name, double expected_rows,
                              const SourceScan &source, const TopicScan &topic,
                              const CompareSettings &settings, const DamageCallback &on_damaged,
                              VerifyProgress &progress) {
    TopicComparison r;
    const std::uint32_t B = std::max<std::uint32_t>(1, settings.buckets);
    r.buckets = B;
    const std::size_t buffer_bytes =
        std::clamp<std::size_t>(settings.memory_bytes / 8 / B, 4096, 1u << 20);
    EventDecoder decoder(settings.placeholder, settings.key_schemas, settings.value_schemas);
    // Every 4096 rows or records: progress, and a stop request (SIGTERM, SIGINT) ends the
    // run here, so that the spill files are removed on the way out.
    auto tick = [&progress](std::uint64_t &pending) {
        progress.add(pending);
        pending = 0;
        ShutdownToken::process().throw_if_requested("verifying");
    };
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) {
        return std::chrono::duration<double>(Clock::now() - t).count();
    };
    auto t0 = Clock::now();

    // 1. The source: a sum and a count per bucket.
    std::vector<std::uint64_t> source_sums(B), source_counts(B);
    progress.phase(name + ": reading the source", "rows", expected_rows);
    std::uint64_t pending = 0;
    source(false, [&](std::string_view k, std::string_view after) {
        r.source_rows++;
        if (k.empty()) r.keyless = true;
        const std::string key = decoder.canonical_key(k);
        const std::string row = decoder.canonical_row(after);
        const std::uint32_t b = bucket_of(key, B);
        source_sums[b] += row_digest(key, row);
        source_counts[b]++;
        if (++pending == 4096) tick(pending);
    });
    progress.add(pending), pending = 0;
    for (auto s : source_sums) r.source_sum += s;
    r.source_seconds = since(t0);
    t0 = Clock::now();

    // 2. The topic: decoded once, folded in memory (one bucket) or spilled by bucket.
    progress.phase(name + ": reading the topic", "records", -1);
    const std::int64_t topic_cpu0 = thread_cpu_ns();
    std::unique_ptr<SpillFiles> topic_spill;
    if (B > 1 && !r.keyless)
        topic_spill = std::make_unique<SpillFiles>(settings.spill_dir, B, buffer_bytes);
    StateFold in_memory(decoder);
    std::vector<char> has_placeholders(B, 0);
    TopicEvent event;
    std::uint64_t seq = 0, last_truncate = 0;
    std::string record;
    topic([&](std::string_view key, std::string_view value, bool null_value,
              const RecordPosition &position) {
        std::string why;
        if (!decoder.decode(key, value, null_value, event, &why)) {
            on_damaged(DamagedRecord{position, why,
                                     printable_excerpt(why.rfind("key", 0) == 0 ? key : value)});
            return;
        }
        r.topic_records++;
        seq++;
        if (++pending == 4096) tick(pending);
        if (event.kind == TopicEvent::kTruncate) {
            r.truncates++;
            r.net_rows = 0;
            last_truncate = seq;
            if (!topic_spill) in_memory.apply(event.kind, "", "", false);
            return;
        }
        r.net_rows += event.net_rows;
        if (r.keyless || event.kind == TopicEvent::kOther) return;
        if (!topic_spill) {
            in_memory.apply(event.kind, std::move(event.key), std::move(event.row),
                            event.placeholder);
            return;
        }
        record.clear();
        record.push_back(static_cast<char>(event.kind | (event.placeholder ? kPlaceholderBit : 0)));
        put_u64(record, seq);
        put_u64(record, hash64(event.key, kKeySeed));
        put_u64(record, event.kind == TopicEvent::kUpsert ? row_digest(event.key, event.row) : 0);
        put_bytes(record, event.key);
        record.append(event.row);
        const std::uint32_t b = bucket_of(event.key, B);
        if (event.placeholder) has_placeholders[b] = 1;
        topic_spill->append(b, record);
    });
    progress.add(pending), pending = 0;
    r.topic_seconds = since(t0);
    r.topic_cpu_seconds = static_cast<double>(thread_cpu_ns() - topic_cpu0) / 1e9;
    t0 = Clock::now();
    if (r.keyless) return r;  // compared by count only
    if (topic_spill) {
        topic_spill->flush();
        r.spilled_bytes += topic_spill->bytes_written();
    }

    // A bucket's fold: replays its spilled events after the last truncate.
    auto fold_bucket = [&](std::uint32_t b, StateFold &fold) {
        topic_spill->read(b, [&](std::string_view rec) {
            const auto flags = get<std::uint8_t>(rec);
            const auto s = get<std::uint64_t>(rec);
            if (s < last_truncate) return;
            rec.remove_prefix(16);  // key hash, row digest
            std::string_view key = get_bytes(rec);
            fold.apply(static_cast<TopicEvent::Kind>(flags & ~kPlaceholderBit), std::string(key),
                       std::string(rec), (flags & kPlaceholderBit) != 0);
        });
    };

    // 3. Every bucket folded and summed; those whose sums differ are compared below.
    std::vector<std::uint32_t> all(B), differing;
    for (std::uint32_t b = 0; b < B; b++) all[b] = b;
    std::vector<std::uint64_t> topic_sums(B), topic_counts(B);
    progress.phase(name + ": folding buckets", "buckets", B);
    std::atomic<std::int64_t> fold_cpu_ns{0};
    parallel_for(all, topic_spill ? settings.threads : 1, [&](std::uint32_t b) {
        const std::int64_t cpu0 = thread_cpu_ns();
        std::uint64_t sum = 0, count = 0;
        auto add = [&](const StateFold &fold) {
            for (const auto &[key, row] : fold.rows()) sum += row_digest(key, row);
            count = fold.rows().size();
        };
        if (!topic_spill) {
            add(in_memory);
        } else if (has_placeholders[b]) {
            // A placeholder takes the previous value of its column: rows are needed.
            StateFold fold(decoder);
            fold_bucket(b, fold);
            add(fold);
        } else {
            // Key hash -> row digest is all a sum needs.
            std::unordered_map<std::uint64_t, std::uint64_t> digests;
            digests.reserve(source_counts[b] + source_counts[b] / 8 + 16);
            topic_spill->read(b, [&](std::string_view rec) {
                const auto flags = get<std::uint8_t>(rec);
                if (get<std::uint64_t>(rec) < last_truncate) return;
                const auto key_hash = get<std::uint64_t>(rec);
                const auto digest = get<std::uint64_t>(rec);
                if ((flags & ~kPlaceholderBit) == TopicEvent::kUpsert)
                    digests[key_hash] = digest;
                else
                    digests.erase(key_hash);
            });
            for (const auto &kv : digests) sum += kv.second;
            count = digests.size();
        }
        topic_sums[b] = sum;
        topic_counts[b] = count;
        fold_cpu_ns += thread_cpu_ns() - cpu0;
        progress.add(1);
    });
    r.fold_cpu_seconds = static_cast<double>(fold_cpu_ns.load()) / 1e9;
    for (std::uint32_t b = 0; b < B; b++) {
        r.topic_sum += topic_sums[b];
        r.folded_keys += topic_counts[b];
        if (topic_sums[b] != source_sums[b] || topic_counts[b] != source_counts[b])
            differing.push_back(b);
    }
    r.differing_buckets = static_cast<std::uint32_t>(differing.size());
    r.fold_seconds = since(t0);
    t0 = Clock::now();
    if (differing.empty()) return r;

    // 4. The source rows of the differing buckets, spilled by bucket.
    std::vector<char> is_differing(B, 0);
    for (auto b : differing) is_differing[b] = 1;
    auto spill_source = [&](bool as_streamed, const std::vector<char> &wanted, const char *what) {
        auto spill = std::make_unique<SpillFiles>(settings.spill_dir, B, buffer_bytes);
        progress.phase(name + what, "rows", static_cast<double>(r.source_rows));
        source(as_streamed, [&](std::string_view k, std::string_view after) {
            if (++pending == 4096) tick(pending);
            const std::string key = decoder.canonical_key(k);
            const std::uint32_t b = bucket_of(key, B);
            if (!wanted[b]) return;
            record.clear();
            put_bytes(record, key);
            record.append(decoder.canonical_row(after));
            spill->append(b, record);
        });
        progress.add(pending), pending = 0;
        spill->flush();
        r.spilled_bytes += spill->bytes_written();
        return spill;
    };
    auto source_spill = spill_source(false, is_differing, ": reading the differing rows again");

    // 5. Key by key: missing, extra, and candidates for "different" (spilled, to be looked
    // at again with the table rendered as streamed changes).
    Examples missing(settings.examples), extra(settings.examples);
    std::atomic<std::uint64_t> n_missing{0}, n_extra{0};
    SpillFiles candidates(settings.spill_dir, B, buffer_bytes);
    std::mutex candidates_mutex;
    std::vector<char> has_candidates(B, 0);
    progress.phase(name + ": comparing differing buckets", "buckets",
                   static_cast<double>(differing.size()));
    parallel_for(differing, topic_spill ? settings.threads : 1, [&](std::uint32_t b) {
        StateFold local(decoder);
        if (topic_spill) fold_bucket(b, local);
        auto &rows = topic_spill ? local.rows() : in_memory.rows();
        std::string cand;
        std::vector<std::string> found;
        source_spill->read(b, [&](std::string_view rec) {
            std::string key(get_bytes(rec));
            auto it = rows.find(key);
            if (it == rows.end()) {
                n_missing++;
                missing.add(key, [&] { return key; });
                return;
            }
            if (it->second != rec) {
                cand.clear();
                put_bytes(cand, key);
                put_bytes(cand, rec);
                cand.append(it->second);
                found.push_back(cand);
            }
            rows.erase(it);
        });
        for (const auto &[key, row] : rows) {
            n_extra++;
            extra.add(key, [&] { return key; });
        }
        if (!found.empty()) {
            std::lock_guard<std::mutex> lock(candidates_mutex);
            has_candidates[b] = 1;
            for (const auto &c : found) candidates.append(b, c);
        }
        progress.add(1);
    });
    candidates.flush();
    source_spill.reset();
    r.missing = n_missing;
    r.extra = n_extra;
    r.missing_examples = missing.take();
    r.extra_examples = extra.take();
    if (std::none_of(has_candidates.begin(), has_candidates.end(), [](char c) { return c; })) {
        r.compare_seconds = since(t0);
        return r;
    }

    // 6. A row last written by a streamed change can differ from the table read as a
    // snapshot where Debezium's snapshot renders values its own way (name columns, dates at
    // +-infinity): candidates that equal the table rendered as streamed changes agree.
    auto streamed = spill_source(true, has_candidates, ": reading differing rows as streamed");
    Examples different(settings.examples);
    std::atomic<std::uint64_t> n_different{0}, n_placeholder{0};
    std::vector<std::uint32_t> candidate_buckets;
    for (std::uint32_t b = 0; b < B; b++)
        if (has_candidates[b]) candidate_buckets.push_back(b);
    parallel_for(candidate_buckets, settings.threads, [&](std::uint32_t b) {
        std::unordered_map<std::string, std::pair<std::string, std::string>> cands;
        candidates.read(b, [&](std::string_view rec) {
            std::string key(get_bytes(rec));
            std::string source_row(get_bytes(rec));
            cands.emplace(std::move(key), std::make_pair(std::move(source_row), std::string(rec)));
        });
        streamed->read(b, [&](std::string_view rec) {
            auto it = cands.find(std::string(get_bytes(rec)));
            if (it != cands.end() && it->second.second == rec) cands.erase(it);
        });
        for (const auto &[key, rows] : cands) {
            n_different++;
            bool placeholder = false;
            for (const auto &[column, value] : decode_row(rows.second))
                placeholder = placeholder || decoder.is_placeholder(value);
            if (placeholder) n_placeholder++;
            different.add(key,
                          [&] { return key + ":" + describe_difference(rows.first, rows.second); });
        }
    });
    r.different = n_different;
    r.different_placeholder = n_placeholder;
    r.different_examples = different.take();
    r.compare_seconds = since(t0);
    return r;
}

}  // namespace walcast
