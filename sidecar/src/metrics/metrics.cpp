#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <stdexcept>

namespace walcast {

namespace {

prometheus::Labels to_prometheus(const Labels &labels) {
    return prometheus::Labels(labels.begin(), labels.end());
}

// The series key: name and labels, in a form no label value can forge.
std::string series_key(const std::string &name, const Labels &labels) {
    std::string key = name;
    for (const auto &[k, v] : to_prometheus(labels)) {
        key += '\0' + k + '\0' + std::to_string(v.size()) + ':' + v;
    }
    return key;
}

// prometheus-cpp writes help texts as given; the format wants \ and newline escaped.
std::string escape_help(const std::string &help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

void Counter::inc(double v) { impl_.Increment(v); }
double Counter::value() const { return impl_.Value(); }

void Gauge::set(double v) { impl_.Set(v); }
void Gauge::add(double v) { impl_.Increment(v); }
double Gauge::value() const { return impl_.Value(); }

void Histogram::observe(double v) { impl_.Observe(v); }

std::vector<double> latency_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {}
Registry::~Registry() = default;

void Registry::claim(const std::string &name, Type type) {
    auto [it, inserted] = types_.emplace(name, type);
    if (!inserted && it->second != type)
        throw std::logic_error("metric " + name + " registered with two types");
}

Counter &Registry::counter(const std::string &name, const std::string &help, const Labels &labels) {
    std::lock_guard<std::mutex> lock(mu_);
    claim(name, Type::kCounter);
    auto &slot = counters_[series_key(name, labels)];
    if (!slot) {
        auto &family =
            prometheus::BuildCounter().Name(name).Help(escape_help(help)).Register(*registry_);
        slot = std::make_unique<Counter>(family.Add(to_prometheus(labels)));
    }
    return *slot;
}

Gauge &Registry::gauge(const std::string &name, const std::string &help, const Labels &labels) {
    std::lock_guard<std::mutex> lock(mu_);
    claim(name, Type::kGauge);
    auto &slot = gauges_[series_key(name, labels)];
    if (!slot) {
        auto &family =
            prometheus::BuildGauge().Name(name).Help(escape_help(help)).Register(*registry_);
        slot = std::make_unique<Gauge>(family.Add(to_prometheus(labels)));
    }
    return *slot;
}

Histogram &Registry::histogram(const std::string &name, const std::string &help,
                               const std::vector<double> &bounds, const Labels &labels) {
    std::lock_guard<std::mutex> lock(mu_);
    claim(name, Type::kHistogram);
    auto &slot = histograms_[series_key(name, labels)];
    if (!slot) {
        // prometheus-cpp wants increasing bounds.
        std::vector<double> sorted = bounds;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        auto &family =
            prometheus::BuildHistogram().Name(name).Help(escape_help(help)).Register(*registry_);
        slot = std::make_unique<Histogram>(family.Add(to_prometheus(labels), sorted));
    }
    return *slot;
}

std::string Registry::render() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

Gauge &slot_lost_gauge(Registry &registry) {
    return registry.gauge("walcast_slot_lost",
                          "1 when PostgreSQL has invalidated the replication slot (wal_status "
                          "lost): its changes can no longer be streamed");
}

Counter &slots_recreated_counter(Registry &registry) {
    return registry.counter("walcast_slot_recreated_total",
                            "Lost slots dropped and created again with a new snapshot "
                            "(snapshot.mode=when_needed)");
}

SidecarMetrics::SidecarMetrics(Registry &registry)
    : lag_bytes(registry.gauge("walcast_lag_bytes",
                               "Bytes of WAL between the server's current position and the "
                               "acknowledged LSN")),
      ack_lsn(registry.gauge("walcast_ack_lsn", "Last LSN acknowledged (flushed) to the slot")),
      producer_queue_depth(registry.gauge("walcast_producer_queue_depth",
                                          "Events handed to the sink and not yet confirmed")),
      reconnects(registry.counter("walcast_reconnects_total",
                                  "Reconnections to Postgres or recreations of the sink")),
      slot_lost(slot_lost_gauge(registry)),
      delivery_latency(registry.histogram("walcast_delivery_latency_seconds",
                                          "Time from transaction commit to the sink's delivery "
                                          "confirmation",
                                          latency_buckets())),
      registry_(registry) {}

Counter &SidecarMetrics::events(const std::string &table, const std::string &op) {
    return registry_.counter("walcast_events_total", "Events delivered, by table and operation",
                             {{"table", table}, {"op", op}});
}

Counter &SidecarMetrics::bytes(const std::string &table, const std::string &op) {
    return registry_.counter("walcast_bytes_total",
                             "Bytes of event values delivered, by table and operation",
                             {{"table", table}, {"op", op}});
}

Counter &SidecarMetrics::errors(const std::string &kind) {
    return registry_.counter("walcast_errors_total", "Errors, by kind", {{"kind", kind}});
}

}  // namespace walcast
