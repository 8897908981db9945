// Prometheus exposition format and the /metrics HTTP endpoint.
#include "metrics/metrics.h"
#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace walcast {
namespace {

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(Metrics, CounterAndGaugeExposition) {
    Registry r;
    r.counter("walcast_events_total", "Events", {{"table", "public.t"}, {"op", "c"}}).inc();
    r.counter("walcast_events_total", "Events", {{"table", "public.t"}, {"op", "c"}}).inc(2);
    r.counter("walcast_events_total", "Events", {{"table", "public.t"}, {"op", "d"}}).inc();
    r.gauge("walcast_ack_lsn", "Ack").set(123456789012.0);
    const std::string text = r.render();
    // prometheus-cpp orders labels by name and series as it likes: check lines.
    for (const char *line : {
             "# HELP walcast_ack_lsn Ack\n# TYPE walcast_ack_lsn gauge\nwalcast_ack_lsn "
             "123456789012\n",
             "# HELP walcast_events_total Events\n# TYPE walcast_events_total counter\n",
             "walcast_events_total{op=\"c\",table=\"public.t\"} 3\n",
             "walcast_events_total{op=\"d\",table=\"public.t\"} 1\n",
         })
        EXPECT_TRUE(contains(text, line)) << line << "\n---\n" << text;
}

TEST(Metrics, LabelAndHelpEscaping) {
    Registry r;
    r.counter("x_total", "line1\nback\\slash", {{"table", "a\"b\\c\nd"}}).inc();
    const std::string text = r.render();
    EXPECT_TRUE(contains(text, "# HELP x_total line1\\nback\\\\slash\n")) << text;
    EXPECT_TRUE(contains(text, "x_total{table=\"a\\\"b\\\\c\\nd\"} 1\n")) << text;
}

TEST(Metrics, CounterIgnoresNegative) {
    Registry r;
    Counter &c = r.counter("c_total", "c");
    c.inc(5);
    c.inc(-1);
    EXPECT_EQ(c.value(), 5);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    Registry r;
    Histogram &h = r.histogram("lat_seconds", "Latency", {0.1, 1, 0.5}, {{"op", "c"}});
    h.observe(0.05);
    h.observe(0.1);  // "le" is inclusive
    h.observe(0.7);
    h.observe(5);
    const std::string text = r.render();
    for (const char *line : {
             "# HELP lat_seconds Latency\n# TYPE lat_seconds histogram\n",
             "lat_seconds_bucket{op=\"c\",le=\"0.1\"} 2\n",
             "lat_seconds_bucket{op=\"c\",le=\"0.5\"} 2\n",
             "lat_seconds_bucket{op=\"c\",le=\"1\"} 3\n",
             "lat_seconds_bucket{op=\"c\",le=\"+Inf\"} 4\n",
             "lat_seconds_sum{op=\"c\"} 5.85\n",
             "lat_seconds_count{op=\"c\"} 4\n",
         })
        EXPECT_TRUE(contains(text, line)) << line << "\n---\n" << text;
}

TEST(Metrics, TypeConflictThrows) {
    Registry r;
    r.counter("m", "m");
    EXPECT_THROW(r.gauge("m", "m"), std::logic_error);
}

TEST(Metrics, SidecarMetricNames) {
    Registry r;
    SidecarMetrics m(r);
    m.events("public.orders", "u").inc();
    m.bytes("public.orders", "u").inc(321);
    m.errors("kafka").inc();
    m.lag_bytes.set(4096);
    m.ack_lsn.set(1000);
    m.producer_queue_depth.set(7);
    m.reconnects.inc();
    m.delivery_latency.observe(0.02);
    const std::string text = r.render();
    for (const char *line : {
             "walcast_events_total{op=\"u\",table=\"public.orders\"} 1\n",
             "walcast_bytes_total{op=\"u\",table=\"public.orders\"} 321\n",
             "walcast_errors_total{kind=\"kafka\"} 1\n",
             "walcast_lag_bytes 4096\n",
             "walcast_ack_lsn 1000\n",
             "walcast_producer_queue_depth 7\n",
             "walcast_reconnects_total 1\n",
             "walcast_delivery_latency_seconds_bucket{le=\"0.025\"} 1\n",
             "walcast_delivery_latency_seconds_count 1\n",
             "# TYPE walcast_delivery_latency_seconds histogram\n",
         }) {
        EXPECT_TRUE(contains(text, line)) << line << "\n---\n" << text;
    }
}

TEST(Metrics, ConcurrentIncrements) {
    Registry r;
    Counter &c = r.counter("c_total", "c");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                c.inc();
                r.counter("d_total", "d", {{"t", "x"}}).inc();
            }
        });
    }
    for (auto &t : threads) t.join();
    EXPECT_EQ(c.value(), 40000);
    EXPECT_EQ(r.counter("d_total", "d", {{"t", "x"}}).value(), 40000);
}

// Minimal HTTP client: one request, read to EOF.
std::string http(int port, const std::string &request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return "connect failed";
    }
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

TEST(MetricsServer, ServesMetricsOverHttp) {
    Registry r;
    r.counter("walcast_events_total", "Events", {{"table", "public.t"}, {"op", "c"}}).inc(42);
    MetricsServer server(r, "127.0.0.1:0");
    ASSERT_GT(server.port(), 0);

    const std::string resp =
        http(server.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
    EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp;
    EXPECT_TRUE(contains(resp, "Content-Type: text/plain; version=0.0.4")) << resp;
    const std::string body = resp.substr(resp.find("\r\n\r\n") + 4);
    EXPECT_TRUE(contains(resp, "Content-Length: " + std::to_string(body.size()) + "\r\n"));
    EXPECT_EQ(body, r.render());
    EXPECT_TRUE(contains(body, "walcast_events_total{op=\"c\",table=\"public.t\"} 42\n"));

    // Values are live, not a snapshot taken at start.
    r.gauge("walcast_lag_bytes", "Lag").set(9);
    EXPECT_TRUE(
        contains(http(server.port(), "GET /metrics HTTP/1.0\r\n\r\n"), "walcast_lag_bytes 9\n"));

    EXPECT_EQ(http(server.port(), "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
    EXPECT_EQ(http(server.port(), "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
    // libmicrohttpd answers 400 or hangs up; never with metrics.
    EXPECT_FALSE(contains(http(server.port(), "garbage\r\n\r\n"), "200 OK"));
}

TEST(MetricsServer, ClientThatSendsNothingDoesNotBlockShutdown) {
    Registry r;
    auto server = std::make_unique<MetricsServer>(r, "127.0.0.1:0");
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it accept and wait
    // Shutdown must not wait for the silent client's request.
    const auto start = std::chrono::steady_clock::now();
    server.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
    ::close(fd);
}

int connect_to(in_addr_t ip, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = ip;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// The first IPv4 address of this machine that is not loopback (0 if none).
in_addr_t non_loopback_address() {
    ifaddrs *list = nullptr;
    in_addr_t found = 0;
    if (::getifaddrs(&list) != 0) return 0;
    for (ifaddrs *i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        in_addr_t a = reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr.s_addr;
        if ((ntohl(a) >> 24) != 127) found = a;
    }
    ::freeifaddrs(list);
    return found;
}

TEST(MetricsServer, BarePortListensOnLoopbackOnly) {
    Registry r;
    MetricsServer server(r, "0");
    int fd = connect_to(htonl(INADDR_LOOPBACK), server.port());
    EXPECT_GE(fd, 0);
    if (fd >= 0) ::close(fd);
    if (in_addr_t other = non_loopback_address()) {
        EXPECT_EQ(connect_to(other, server.port()), -1) << "reachable from other hosts";
    }
}

// Clients that send a request one byte at a time, or nothing at all, must not
// delay a scrape (one thread serving them in turn made scrapes wait 30 s).
TEST(MetricsServer, SlowAndIdleClientsDoNotDelayAScrape) {
    Registry r;
    r.gauge("walcast_lag_bytes", "Lag").set(1);
    MetricsServer server(r, "127.0.0.1:0");
    std::vector<int> clients;
    for (int i = 0; i < 5; ++i) {
        int fd = connect_to(htonl(INADDR_LOOPBACK), server.port());
        ASSERT_GE(fd, 0);
        ::send(fd, "GET /metrics HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
        clients.push_back(fd);
    }
    for (int i = 0; i < 300; ++i) {
        int fd = connect_to(htonl(INADDR_LOOPBACK), server.port());
        if (fd >= 0) clients.push_back(fd);
    }
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 5; ++i) ::send(clients[i], "X", 1, MSG_NOSIGNAL);
        const auto start = std::chrono::steady_clock::now();
        const std::string resp = http(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
        EXPECT_TRUE(contains(resp, "walcast_lag_bytes 1\n")) << resp;
    }
    for (int fd : clients) ::close(fd);
}

TEST(MetricsServer, BadAddressThrows) {
    Registry r;
    EXPECT_THROW(MetricsServer(r, "127.0.0.1"), std::runtime_error);  // no port
    EXPECT_THROW(MetricsServer(r, "no.such.host.invalid:0"), std::runtime_error);
    EXPECT_THROW(MetricsServer(r, "127.0.0.1:99999"), std::runtime_error);  // no wrapping
    MetricsServer a(r, "127.0.0.1:0");
    EXPECT_THROW(MetricsServer(r, "127.0.0.1:" + std::to_string(a.port())), std::runtime_error);
}

}  // namespace
}  // namespace walcast
