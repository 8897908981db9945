#include "metrics/metrics_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "config/listen_address.h"

namespace walcast {

namespace {

// A client that sends nothing for this long is dropped.
constexpr unsigned kIdleTimeoutSeconds = 10;
// Per-connection memory for the request; a scrape's headers are a few hundred bytes.
constexpr std::size_t kConnectionMemory = 16 * 1024;

// Idle connections are cheap here, but each one is a file descriptor: allow as
// many as the hard limit permits, keeping some for Postgres, Kafka and files.
unsigned connection_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
        ::getrlimit(RLIMIT_NOFILE, &rl);
    }
    const rlim_t fds = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
    return static_cast<unsigned>(std::clamp<rlim_t>(fds > 512 ? fds - 256 : fds / 2, 16, 16384));
}

void log_mhd(void *, const char *fmt, va_list ap) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string line = buf;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    spdlog::debug("metrics server: {}", line);
}

MHD_Result reply(MHD_Connection *connection, unsigned status, const char *type,
                 const std::string &body) {
    MHD_Response *response = MHD_create_response_from_buffer(
        body.size(), const_cast<char *>(body.data()), MHD_RESPMEM_MUST_COPY);
    if (!response) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    const MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

MHD_Result handle(void *cls, MHD_Connection *connection, const char *url, const char *method,
                  const char *, const char *, size_t *, void **) {
    const auto &registry = *static_cast<const Registry *>(cls);
    const std::string m = method;
    if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD)
        return reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
    const std::string path = url;
    if (path == "/metrics")
        return reply(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                     registry.render());
    if (path == "/")
        return reply(connection, MHD_HTTP_OK, "text/html",
                     "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n");
    return reply(connection, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

// A listening socket of our own, so that errors name the reason (address in use...).
int listen_on(const ListenAddress &address, const std::string &shown) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo *res = nullptr;
    const std::string port = std::to_string(address.port);
    int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) throw std::runtime_error("metrics address '" + shown + "': " + gai_strerror(rc));
    std::string last_error = "no address";
    int listen_fd = -1;
    for (addrinfo *ai = res; ai && listen_fd < 0; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
            listen_fd = fd;
        } else {
            last_error = std::strerror(errno);
            ::close(fd);
        }
    }
    ::freeaddrinfo(res);
    if (listen_fd < 0)
        throw std::runtime_error("cannot listen on metrics address '" + shown + "': " + last_error);
    return listen_fd;
}

}  // namespace

MetricsServer::MetricsServer(const Registry &registry, const std::string &address)
    : registry_(registry) {
    ListenAddress where;
    try {
        where = parse_listen_address(address);
    } catch (const std::invalid_argument &e) {
        throw std::runtime_error("metrics address '" + address + "': " + e.what());
    }
    const int fd = listen_on(where, address);
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in *>(&bound)->sin_port);

    // One internal thread multiplexing every connection with epoll.
    const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                           (bound.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    daemon_ = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &handle, const_cast<Registry *>(&registry_),
        MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, nullptr, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_TIMEOUT, kIdleTimeoutSeconds, MHD_OPTION_CONNECTION_LIMIT,
        connection_limit(), MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory, MHD_OPTION_END);
    if (!daemon_) {
        ::close(fd);
        throw std::runtime_error("cannot start the metrics server on '" + address + "'");
    }
    where.port = port_;
    spdlog::info("metrics: serving http://{}/metrics", where.to_string());
}

MetricsServer::~MetricsServer() {
    // Stops the thread, closes every client connection and the listening socket.
    MHD_stop_daemon(daemon_);
}

}  // namespace walcast
