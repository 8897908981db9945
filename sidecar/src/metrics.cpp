#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace walcast {

namespace {

// std::atomic<double>::fetch_add is C++20; a CAS loop does the same.
void atomic_add(std::atomic<double> &a, double v) {
    double cur = a.load(std::memory_order_relaxed);
    while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
    }
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Shortest of %.15g / %.17g that reads back exactly: "0.1", not
    // "0.10000000000000001"; integral values print without a fraction.
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string escape(const std::string &s, bool quote) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string format_labels(const Labels &labels) {
    if (labels.empty()) return "";
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
    }
    return out + "}";
}

void Counter::inc(double v) {
    if (v < 0) return;  // counters never go down
    atomic_add(value_, v);
}

void Gauge::add(double v) { atomic_add(value_, v); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_([&] {
          std::sort(bounds.begin(), bounds.end());
          bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
          return bounds;
      }()),
      counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
    // First bucket whose upper bound is >= v ("le" is inclusive).
    const std::size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[i];
    sum_ += v;
    ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.bounds = bounds_;
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t running = 0;
    for (std::uint64_t c : counts_) {
        running += c;
        s.cumulative.push_back(running);
    }
    s.sum = sum_;
    s.count = count_;
    return s;
}

std::vector<double> latency_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

Registry::Family &Registry::family(const std::string &name, const std::string &help, Type type) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(name, Family{type, help, {}, {}, {}}).first;
    } else if (it->second.type != type) {
        throw std::logic_error("metric " + name + " registered with two types");
    }
    return it->second;
}

Counter &Registry::counter(const std::string &name, const std::string &help, const Labels &labels) {
    std::lock_guard<std::mutex> lock(mu_);
    auto &slot = family(name, help, Type::kCounter).counters[format_labels(labels)];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Gauge &Registry::gauge(const std::string &name, const std::string &help, const Labels &labels) {
    std::lock_guard<std::mutex> lock(mu_);
    auto &slot = family(name, help, Type::kGauge).gauges[format_labels(labels)];
    if (!slot) slot = std::make_unique<Gauge>();
    return *slot;
}

Histogram &Registry::histogram(const std::string &name, const std::string &help,
                               const std::vector<double> &bounds, const Labels &labels) {
    std::lock_guard<std::mutex> lock(mu_);
    // The label set is kept inside the key; "le" is added when rendering.
    auto &slot = family(name, help, Type::kHistogram).histograms[format_labels(labels)];
    if (!slot) slot = std::make_unique<Histogram>(bounds);
    return *slot;
}

std::string Registry::render() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto &[name, f] : families_) {
        out += "# HELP " + name + " " + escape(f.help, false) + "\n";
        switch (f.type) {
            case Type::kCounter:
                out += "# TYPE " + name + " counter\n";
                for (const auto &[labels, c] : f.counters) {
                    out += name + labels + " " + format_value(c->value()) + "\n";
                }
                break;
            case Type::kGauge:
                out += "# TYPE " + name + " gauge\n";
                for (const auto &[labels, g] : f.gauges) {
                    out += name + labels + " " + format_value(g->value()) + "\n";
                }
                break;
            case Type::kHistogram:
                out += "# TYPE " + name + " histogram\n";
                for (const auto &[labels, h] : f.histograms) {
                    // Re-open the rendered label set to append "le".
                    std::string inner =
                        labels.empty() ? "" : labels.substr(1, labels.size() - 2) + ",";
                    const Histogram::Snapshot s = h->snapshot();
                    for (std::size_t i = 0; i <= s.bounds.size(); ++i) {
                        const std::string le =
                            i < s.bounds.size() ? format_value(s.bounds[i]) : "+Inf";
                        out += name + "_bucket{" + inner + "le=\"" + le + "\"} " +
                               std::to_string(s.cumulative[i]) + "\n";
                    }
                    out += name + "_sum" + labels + " " + format_value(s.sum) + "\n";
                    out += name + "_count" + labels + " " + std::to_string(s.count) + "\n";
                }
                break;
        }
    }
    return out;
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
