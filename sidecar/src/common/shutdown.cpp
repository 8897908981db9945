#include "common/shutdown.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace walcast {

ShutdownToken &ShutdownToken::process() {
    static ShutdownToken token;
    return token;
}

ShutdownToken::ShutdownToken() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

ShutdownToken::~ShutdownToken() { ::close(fd_); }

int ShutdownToken::request() {
    requested_.store(true);
    const std::uint64_t one = 1;
    // The counter stays non-zero: the fd remains readable for every waiter.
    ssize_t written = ::write(fd_, &one, sizeof one);
    (void)written;
    return count_.fetch_add(1) + 1;
}

void ShutdownToken::reset() {
    std::uint64_t value;
    while (::read(fd_, &value, sizeof value) > 0) {
    }
    count_ = 0;
    requested_ = false;
}

bool ShutdownToken::sleep_for(std::chrono::milliseconds d) const {
    if (requested()) return true;
    pollfd pfd{fd_, POLLIN, 0};
    const auto until = std::chrono::steady_clock::now() + d;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        until - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) return requested();
        if (::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000000))) > 0 ||
            requested())
            return true;
    }
}

short ShutdownToken::wait_fd(int fd, short events, int timeout_ms) const {
    if (requested()) return 0;
    pollfd pfds[2] = {{fd, events, 0}, {fd_, POLLIN, 0}};
    int n = ::poll(pfds, 2, timeout_ms);
    if (n <= 0) return 0;  // timeout, or EINTR from a signal: the caller loops
    return pfds[0].revents;
}

namespace {

extern "C" void on_stop_signal(int) {
    if (ShutdownToken::process().request() >= 2) {
        static const char msg[] = "walcast: second stop signal: aborting without draining\n";
        ssize_t written = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)written;
        _exit(kExitAborted);
    }
}

}  // namespace

void install_stop_signal_handlers() {
    ShutdownToken::process();  // the eventfd exists before any signal can arrive
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    // No SA_RESTART: a blocking poll() returns EINTR so its loop looks at the token.
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a closed stdout becomes a write error, not a silent death
}

}  // namespace walcast
