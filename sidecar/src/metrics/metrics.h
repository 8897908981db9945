// The sidecar's Prometheus metrics: a facade over prometheus-cpp's registry
// (served over HTTP by metrics_server.h). Other code only sees Counter, Gauge,
// Histogram, Registry and SidecarMetrics.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace walcast {

// Label name/value pairs, e.g. {{"table", "public.orders"}, {"op", "c"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Monotonic value. Cheap enough for the per-event path (one atomic add).
class Counter {
public:
    explicit Counter(prometheus::Counter &impl) : impl_(impl) {}
    void inc(double v = 1.0);  // negative increments are ignored
    double value() const;

private:
    prometheus::Counter &impl_;
};

class Gauge {
public:
    explicit Gauge(prometheus::Gauge &impl) : impl_(impl) {}
    void set(double v);
    void add(double v);
    double value() const;

private:
    prometheus::Gauge &impl_;
};

// Cumulative-bucket histogram; bounds are upper bounds, +Inf is implicit.
class Histogram {
public:
    explicit Histogram(prometheus::Histogram &impl) : impl_(impl) {}
    void observe(double v);

private:
    prometheus::Histogram &impl_;
};

// Default latency buckets in seconds (1 ms .. 60 s).
std::vector<double> latency_buckets();

// Owns all metric families. Getters create a series on first use and return a
// reference that stays valid for the registry's lifetime: hot paths should
// look a series up once and keep the reference. A name used with two types
// throws std::logic_error.
class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry &) = delete;
    Registry &operator=(const Registry &) = delete;

    Counter &counter(const std::string &name, const std::string &help, const Labels &labels = {});
    Gauge &gauge(const std::string &name, const std::string &help, const Labels &labels = {});
    Histogram &histogram(const std::string &name, const std::string &help,
                         const std::vector<double> &bounds, const Labels &labels = {});

    // The whole registry in the Prometheus text format (0.0.4).
    std::string render() const;

private:
    enum class Type { kCounter, kGauge, kHistogram };
    void claim(const std::string &name, Type type);

    std::shared_ptr<prometheus::Registry> registry_;
    mutable std::mutex mu_;
    std::map<std::string, Type> types_;
    // Keyed by name and labels; the facades point into registry_'s series.
    std::map<std::string, std::unique_ptr<Counter>> counters_;
    std::map<std::string, std::unique_ptr<Gauge>> gauges_;
    std::map<std::string, std::unique_ptr<Histogram>> histograms_;
};

// Slot health: 1 while the slot is invalidated (wal_status lost), and how many lost
// slots snapshot.mode=when_needed replaced.
Gauge &slot_lost_gauge(Registry &registry);
Counter &slots_recreated_counter(Registry &registry);

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
    Gauge &slot_lost;
    Histogram &delivery_latency;  // seconds, commit to delivery report
    Registry &registry() { return registry_; }

private:
    Registry &registry_;
};

}  // namespace walcast
