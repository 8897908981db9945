// The /metrics endpoint, served by libmicrohttpd from one event-driven thread:
// slow or idle clients cost a file descriptor each, never a scrape's turn.
#pragma once

#include <string>

#include "metrics/metrics.h"

struct MHD_Daemon;

namespace walcast {

// Serves GET /metrics from a background thread until destroyed.
class MetricsServer {
public:
    // address: "host:port", "[v6]:port", or ":port" / "port" for 127.0.0.1
    // (port 0 picks a free one). Throws std::runtime_error if it cannot listen.
    MetricsServer(const Registry &registry, const std::string &address);
    ~MetricsServer();
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;

    int port() const { return port_; }

private:
    const Registry &registry_;
    MHD_Daemon *daemon_ = nullptr;
    int port_ = 0;
};

}  // namespace walcast
