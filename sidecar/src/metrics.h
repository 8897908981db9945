// Prometheus text exposition (format 0.0.4) for the sidecar: a thread-safe
// registry of counters, gauges and histograms (served by metrics_server.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace walcast {

// Label name/value pairs, e.g. {{"table", "public.orders"}, {"op", "c"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Monotonic value. Cheap enough for the per-event path (one relaxed atomic add).
class Counter {
public:
    void inc(double v = 1.0);
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

class Gauge {
public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void add(double v);
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

// Cumulative-bucket histogram; bounds are upper bounds, +Inf is implicit.
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);

    struct Snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };
    Snapshot snapshot() const;

private:
    const std::vector<double> bounds_;
    mutable std::mutex mu_;
    std::vector<std::uint64_t> counts_;  // per bucket, non-cumulative, last = +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

// Default latency buckets in seconds (1 ms .. 60 s).
std::vector<double> latency_buckets();

// Owns all metric families. Getters create a series on first use and return a
// reference that stays valid for the registry's lifetime: hot paths should
// look a series up once and keep the reference.
class Registry {
public:
    Counter &counter(const std::string &name, const std::string &help, const Labels &labels = {});
    Gauge &gauge(const std::string &name, const std::string &help, const Labels &labels = {});
    Histogram &histogram(const std::string &name, const std::string &help,
                         const std::vector<double> &bounds, const Labels &labels = {});

    // The whole registry in Prometheus text format.
    std::string render() const;

private:
    enum class Type { kCounter, kGauge, kHistogram };
    struct Family {
        Type type;
        std::string help;
        // Keyed by the rendered label set, so output order is stable.
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family &family(const std::string &name, const std::string &help, Type type);

    mutable std::mutex mu_;
    std::map<std::string, Family> families_;
};

// Renders labels as {a="x",b="y"} with Prometheus escaping ("" when empty).
std::string format_labels(const Labels &labels);

// The sidecar's metrics, registered in one place so names and help texts stay
// consistent. Per-table series are created lazily.
class SidecarMetrics {
public:
    explicit SidecarMetrics(Registry &registry);

    Counter &events(const std::string &table, const std::string &op);
    Counter &bytes(const std::string &table, const std::string &op);
    Counter &errors(const std::string &kind);
    Gauge &lag_bytes;
    Gauge &ack_lsn;
    Gauge &producer_queue_depth;
    Counter &reconnects;
    Histogram &delivery_latency;  // seconds, commit to delivery report
    Registry &registry() { return registry_; }

private:
    Registry &registry_;
};

}  // namespace walcast
