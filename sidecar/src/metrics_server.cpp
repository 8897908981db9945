#include "metrics_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace walcast {

namespace {

std::string sys_error(const std::string &what) { return what + ": " + std::strerror(errno); }

// Splits "host:port", "[v6]:port", ":port" or "port". Empty host = all interfaces.
void split_address(const std::string &address, std::string &host, std::string &port) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) {
        host.clear();
        port = address;
    } else {
        host = address.substr(0, colon);
        port = address.substr(colon + 1);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (port.empty()) throw std::runtime_error("metrics address '" + address + "' has no port");
}

bool send_all(int fd, const std::string &data) {
    std::size_t off = 0;
    while (off < data.size()) {
        // MSG_NOSIGNAL: a scraper hanging up must not SIGPIPE the daemon.
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

std::string response(const std::string &status, const std::string &type, const std::string &body,
                     bool head) {
    std::string r = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
    if (!head) r += body;
    return r;
}

}  // namespace

MetricsServer::MetricsServer(const Registry &registry, const std::string &address)
    : registry_(registry) {
    std::string host, port;
    split_address(address, host, port);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo *res = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        throw std::runtime_error("metrics address '" + address + "': " + gai_strerror(rc));
    }
    std::string last_error = "no address";
    for (addrinfo *ai = res; ai && listen_fd_ < 0; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
            listen_fd_ = fd;
        } else {
            last_error = std::strerror(errno);
            ::close(fd);
        }
    }
    ::freeaddrinfo(res);
    if (listen_fd_ < 0) {
        throw std::runtime_error("cannot listen on metrics address '" + address +
                                 "': " + last_error);
    }

    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&bound), &len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in *>(&bound)->sin_port);

    if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error(sys_error("metrics server: pipe"));
    }
    thread_ = std::thread([this] { run(); });
    spdlog::info("metrics: serving http://{}:{}/metrics", host.empty() ? "0.0.0.0" : host, port_);
}

MetricsServer::~MetricsServer() {
    // Wake the poll() in run(); the thread exits and is joined before the fds close.
    char c = 'q';
    if (::write(wake_pipe_[1], &c, 1) < 0) {
        spdlog::warn("{}", sys_error("metrics server: wake"));
    }
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
}

void MetricsServer::run() {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    for (;;) {
        fds[0].revents = fds[1].revents = 0;
        int n = ::poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            spdlog::error("{}", sys_error("metrics server: poll"));
            return;
        }
        if (fds[1].revents) return;
        if (!(fds[0].revents & POLLIN)) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        serve_one(fd);
        ::close(fd);
    }
}

// One request per connection. Scrapes are rare and small, so serving them
// inline on this thread is enough; a 2 s timeout bounds a stalled client.
void MetricsServer::serve_one(int fd) {
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos) {
        // Wait for the client or for shutdown, whichever comes first.
        pollfd fds[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
        int ready = ::poll(fds, 2, 2000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0 || fds[1].revents) return;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
        if (req.size() > 16384) break;  // headers this large are not a scrape
    }
    const std::string line = req.substr(0, req.find_first_of("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
        send_all(fd, response("400 Bad Request", "text/plain", "bad request\n", false));
        return;
    }
    const std::string method = line.substr(0, sp1);
    std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
        send_all(fd, response("405 Method Not Allowed", "text/plain", "GET only\n", false));
    } else if (path == "/metrics") {
        send_all(fd, response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                              registry_.render(), head));
    } else if (path == "/") {
        send_all(fd,
                 response("200 OK", "text/html",
                          "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n", head));
    } else {
        send_all(fd, response("404 Not Found", "text/plain", "not found\n", head));
    }
}

}  // namespace walcast
