// A tiny HTTP server for Prometheus scrapes (GET /metrics), on plain POSIX
// sockets: the protocol needed is small and no extra library is warranted.
#pragma once

#include <string>
#include <thread>

#include "metrics.h"

namespace walcast {

// Serves GET /metrics from a background thread until destroyed.
class MetricsServer {
public:
    // address: "host:port" (":port" or "port" bind all interfaces; port 0 picks
    // a free one). Throws std::runtime_error if it cannot listen.
    MetricsServer(const Registry &registry, const std::string &address);
    ~MetricsServer();
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;

    int port() const { return port_; }

private:
    void run();
    void serve_one(int fd);

    const Registry &registry_;
    int listen_fd_ = -1;
    int wake_pipe_[2] = {-1, -1};  // written by the destructor to stop run()
    int port_ = 0;
    std::thread thread_;
};

}  // namespace walcast
